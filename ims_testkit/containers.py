"""The containers of one IMS deployment: Kafka, PostgreSQL, the provisioning job and the
four services. All on the host network, every one bound to 127.0.0.1 on its own port."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

from testcontainers.core.container import DockerContainer

LABEL = "ims.testkit"


def _container(image: str, name: str, session: str, *, user: str | None = None) -> DockerContainer:
    container = DockerContainer(image).with_name(f"ims-{session}-{name}")
    extra = {"user": user} if user else {}
    return container.with_kwargs(network_mode="host", labels={LABEL: session}, **extra)


def kafka(image: str, session: str, port: int, controller_port: int) -> DockerContainer:
    """One KRaft node (broker + controller), configured the apache/kafka image's way."""
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    env = {
        "CLUSTER_ID": cluster_id.replace("-", "_"),  # never a leading '-': a CLI would misread it
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://127.0.0.1:{port}",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "KAFKA_INTER_BROKER_LISTENER_NAME": "PLAINTEXT",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": f"1@127.0.0.1:{controller_port}",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        # IMS creates every topic it uses up front; a typo must not create another.
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
        "KAFKA_HEAP_OPTS": "-Xmx512m -Xms128m",
    }
    container = _container(image, "kafka", session)
    for key, value in env.items():
        container.with_env(key, value)
    return container


def postgres(image: str, session: str, port: int, password: str) -> DockerContainer:
    """PostgreSQL 15 with a superuser `postgres`; durability traded for speed (tests only)."""
    settings = {
        "port": str(port),
        "listen_addresses": "127.0.0.1",
        "max_connections": "200",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }
    command = ["postgres", *[arg for k, v in settings.items() for arg in ("-c", f"{k}={v}")]]
    container = _container(image, "postgres", session).with_command(command)
    return container.with_env("POSTGRES_PASSWORD", password)


def provision(
    image: str, session: str, bootstrap: str, admin_dsn: str, wait_s: float
) -> DockerContainer:
    """The one-shot job that creates the topics, the database and the service roles."""
    command = [
        "provision",
        "--kafka-bootstrap",
        bootstrap,
        "--admin-dsn",
        admin_dsn,
        "--wait-seconds",
        str(int(wait_s)),
        "--json",
    ]
    return _container(image, "provision", session).with_command(command)


def service(
    image: str,
    session: str,
    name: str,
    env: dict[str, str],
    mounts: Sequence[tuple[Path, str]] = (),
) -> DockerContainer:
    """`<service> migrate run`, as the test's own user so files in shared dirs are its own."""
    user = f"{os.getuid()}:{os.getgid()}"
    container = _container(image, name, session, user=user).with_command([name, "migrate", "run"])
    for key, value in env.items():
        container.with_env(key, value)
    for path, mode in mounts:
        container.with_volume_mapping(str(path), str(path), mode)
    return container
