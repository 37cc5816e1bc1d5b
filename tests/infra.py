"""Real Kafka and PostgreSQL for the test session: external, containers, or local processes.

Order of choice, per component: (a) the one named by IMS_TEST_KAFKA_BOOTSTRAP /
IMS_TEST_POSTGRES_DSN, (b) testcontainers when a Docker engine answers, (c) processes
started with deploy.stack in a temporary state dir on free ports (the jar cache is shared).
Each session then gets its own database (one role + schema per service) and topic prefix.
"""

from __future__ import annotations

import secrets
import shutil
import socket
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from deploy.stack import kafka, postgres
from deploy.stack.aio import run_sync
from deploy.stack.config import SERVICES, default_jar_dir
from deploy.stack.provision import drop, provision
from deploy.stack.topics import delete_topics, ensure_topics
from schemas.topics import topic_name

KAFKA_IMAGE = "apache/kafka:4.1.1"
POSTGRES_IMAGE = "postgres:15"


@dataclass(frozen=True)
class TestStack:
    """What a test needs to reach the session's Kafka topics and service databases."""

    __test__ = False  # not a test class, despite the name

    kafka_bootstrap: str
    topic_prefix: str
    admin_dsn: str
    database: str
    dsns: dict[str, str]
    role_secret: str  # what the service roles' passwords derive from (see provision)
    tmp_dir: Path

    def topic(self, name: str) -> str:
        """The physical name of catalogue topic `name` in this session."""
        return topic_name(name, self.topic_prefix)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def docker_answers(timeout_s: float = 2.0) -> bool:
    """True when a Docker engine answers a ping quickly (here, usually not)."""
    try:
        import docker  # type: ignore[import-untyped]

        client = docker.from_env(timeout=timeout_s)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # no SDK, no socket, no daemon: all mean "no Docker"
        return False


# -- (b) containers ---------------------------------------------------------------------------


def container_kafka(exit_stack: ExitStack) -> str:
    # testcontainers' KafkaContainer drives Confluent images (their /etc/confluent scripts);
    # the apache/kafka image is configured by KAFKA_* env instead, on a fixed host port so
    # the advertised listener is right from the start.
    from testcontainers.core.container import DockerContainer

    port, controller = free_port(), 9093
    container = (
        DockerContainer(KAFKA_IMAGE)
        .with_bind_ports(9092, port)
        .with_env("KAFKA_NODE_ID", "1")
        .with_env("KAFKA_PROCESS_ROLES", "broker,controller")
        .with_env("KAFKA_LISTENERS", f"PLAINTEXT://:9092,CONTROLLER://:{controller}")
        .with_env("KAFKA_ADVERTISED_LISTENERS", f"PLAINTEXT://127.0.0.1:{port}")
        .with_env("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER")
        .with_env(
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
        )
        .with_env("KAFKA_CONTROLLER_QUORUM_VOTERS", f"1@localhost:{controller}")
        .with_env("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
        .with_env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
        .with_env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
        .with_env("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
        .with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
    )
    container.start()
    exit_stack.callback(container.stop)
    bootstrap = f"127.0.0.1:{port}"
    _wait_broker(bootstrap)
    return bootstrap


def container_postgres(exit_stack: ExitStack) -> str:
    from testcontainers.community.postgres import PostgresContainer

    password = secrets.token_hex(16)
    container = PostgresContainer(
        POSTGRES_IMAGE, username="postgres", password=password, dbname="postgres", driver=None
    )
    container.start()
    exit_stack.callback(container.stop)
    return str(container.get_connection_url())


# -- (c) local processes ----------------------------------------------------------------------


def local_kafka_start(exit_stack: ExitStack, state_dir: Path) -> tuple[kafka.KafkaNode, int]:
    """Start a broker (detached) and return at once: it boots while PostgreSQL starts."""
    node = kafka.KafkaNode(state_dir / "kafka", default_jar_dir(), free_port(), free_port())
    kafka.ensure_jars(node.jar_dir)
    pid = kafka.start(node)
    exit_stack.callback(kafka.stop, node)
    return node, pid


def local_postgres(exit_stack: ExitStack, state_dir: Path) -> str:
    node = postgres.PostgresNode(
        postgres.choose_home(state_dir), free_port(), postgres.ensure_installed()
    )
    # Registered first so it runs last: the server's files go once it has stopped.
    exit_stack.callback(shutil.rmtree, node.home, True)
    password = secrets.token_hex(16)
    postgres.ensure_initialised(node, password)
    postgres.start(node)
    exit_stack.callback(postgres.stop, node)
    dsn = node.admin_dsn(password)
    postgres.wait_ready(node, dsn)
    return dsn


def _wait_broker(bootstrap: str, timeout_s: float = 120.0) -> None:
    from deploy.stack.process import StackError, wait_until

    if not wait_until(lambda: run_sync(lambda: kafka.broker_answers(bootstrap)), timeout_s, 1.0):
        raise StackError(f"Kafka at {bootstrap} did not answer within {timeout_s:.0f}s")


# -- the session ------------------------------------------------------------------------------


def open_infra(exit_stack: ExitStack, tmp_dir: Path, env: dict[str, str]) -> tuple[str, str]:
    """(Kafka bootstrap, PostgreSQL admin DSN), each from the first source that is there."""
    kafka_bootstrap = env.get("IMS_TEST_KAFKA_BOOTSTRAP", "")
    admin_dsn = env.get("IMS_TEST_POSTGRES_DSN", "")
    use_docker = (not kafka_bootstrap or not admin_dsn) and docker_answers()
    local_node: tuple[kafka.KafkaNode, int] | None = None
    if not kafka_bootstrap:
        if use_docker:
            kafka_bootstrap = container_kafka(exit_stack)
        else:
            local_node = local_kafka_start(exit_stack, tmp_dir)
            kafka_bootstrap = local_node[0].bootstrap
    if not admin_dsn:
        admin_dsn = (
            container_postgres(exit_stack) if use_docker else local_postgres(exit_stack, tmp_dir)
        )
    if local_node is not None:
        kafka.wait_ready(*local_node)
    else:
        _wait_broker(kafka_bootstrap)
    return kafka_bootstrap, admin_dsn


def open_test_stack(exit_stack: ExitStack, tmp_dir: Path, env: dict[str, str]) -> TestStack:
    """Infra plus this session's own database, roles and prefixed topics; torn down by exit."""
    kafka_bootstrap, admin_dsn = open_infra(exit_stack, tmp_dir, env)
    token = secrets.token_hex(4)
    database, prefix, role_secret = f"ims_t{token}", f"t{token}.", secrets.token_hex(16)
    # Cleanups run in reverse: the database and topics go before the servers stop.
    exit_stack.callback(lambda: run_sync(lambda: drop(admin_dsn, database, SERVICES)))
    dsns = run_sync(lambda: provision(admin_dsn, database, SERVICES, secret=role_secret))
    exit_stack.callback(lambda: run_sync(lambda: delete_topics(kafka_bootstrap, prefix)))
    run_sync(lambda: ensure_topics(kafka_bootstrap, prefix))
    return TestStack(kafka_bootstrap, prefix, admin_dsn, database, dsns, role_secret, tmp_dir)
