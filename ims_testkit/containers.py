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


def _jaas(module: str, user: str, password: str, **extra: str) -> str:
    options = {"username": user, "password": password, **extra}
    return f"{module} required " + " ".join(f'{k}="{v}"' for k, v in options.items()) + ";"


def kafka(
    image: str, session: str, port: int, controller_port: int, admin_password: str
) -> DockerContainer:
    """One KRaft node (broker + controller), configured the apache/kafka image's way.

    Clients log in with SCRAM-SHA-512 and are authorized by KRaft's StandardAuthorizer: no
    ACL, no access. ``admin`` is the super user (made when the storage is formatted; it
    provisions the other principals); the controller listener takes only ``admin`` too
    (PLAIN: SCRAM users live in the metadata the controller serves)."""
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    scram = _jaas(
        "org.apache.kafka.common.security.scram.ScramLoginModule", "admin", admin_password
    )
    plain = _jaas(
        "org.apache.kafka.common.security.plain.PlainLoginModule",
        "admin",
        admin_password,
        user_admin=admin_password,
    )
    env = {
        "CLUSTER_ID": cluster_id.replace("-", "_"),  # never a leading '-': a CLI would misread it
        "IMS_KAFKA_ADMIN_PASSWORD": admin_password,
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": (
            f"SASL_PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}"
        ),
        "KAFKA_ADVERTISED_LISTENERS": f"SASL_PLAINTEXT://127.0.0.1:{port}",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": (
            "CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT"
        ),
        "KAFKA_INTER_BROKER_LISTENER_NAME": "SASL_PLAINTEXT",
        "KAFKA_SASL_MECHANISM_INTER_BROKER_PROTOCOL": "SCRAM-SHA-512",
        # listener.name.sasl_plaintext.* (the entrypoint: _ is ., __ is _, ___ is -)
        "KAFKA_LISTENER_NAME_SASL__PLAINTEXT_SASL_ENABLED_MECHANISMS": "SCRAM-SHA-512",
        "KAFKA_LISTENER_NAME_SASL__PLAINTEXT_SCRAM___SHA___512_SASL_JAAS_CONFIG": scram,
        "KAFKA_SASL_MECHANISM_CONTROLLER_PROTOCOL": "PLAIN",
        "KAFKA_LISTENER_NAME_CONTROLLER_SASL_ENABLED_MECHANISMS": "PLAIN",
        "KAFKA_LISTENER_NAME_CONTROLLER_PLAIN_SASL_JAAS_CONFIG": plain,
        "KAFKA_AUTHORIZER_CLASS_NAME": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "KAFKA_SUPER_USERS": "User:admin",
        "KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND": "false",
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
    image: str,
    session: str,
    bootstrap: str,
    admin_dsn: str,
    kafka_admin: str,
    wait_s: float,
    out_dir: Path,
) -> DockerContainer:
    """The one-shot job that creates the topics, the principals' users and ACLs, the
    database and the service roles. Secrets go in by its environment and come out in
    ``out_dir/provisioned.json`` (owner-only, the test's user's): never on a command line
    nor in a container's log."""
    command = [
        "provision",
        "--kafka-bootstrap",
        bootstrap,
        "--wait-seconds",
        str(int(wait_s)),
        "--json-file",
        str(out_dir / "provisioned.json"),
    ]
    user = f"{os.getuid()}:{os.getgid()}"
    container = _container(image, "provision", session, user=user).with_command(command)
    container.with_volume_mapping(str(out_dir), str(out_dir), "rw")
    return container.with_env("IMS_ADMIN_DSN", admin_dsn).with_env(
        "IMS_KAFKA_ADMIN_PASSWORD", kafka_admin
    )


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
