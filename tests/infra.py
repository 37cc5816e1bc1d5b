"""Real Kafka and PostgreSQL for the test session: external, or local processes.

Per component: the one named by IMS_TEST_KAFKA_BOOTSTRAP / IMS_TEST_POSTGRES_DSN, else a
process started with deploy.stack in a temporary state dir on free ports (the jar cache is
shared). Each session then gets its own database (one role + schema per service) and topic
prefix. IMS in containers is tests/containers/, started by ims_testkit as other teams do.

Kafka always asks for a SCRAM login: a local broker gets a random admin password per
session; an external one is reached as its super user `admin` with the password in
IMS_TEST_KAFKA_PASSWORD (the other principals' passwords derive from it and are set on
the broker at the session's start, see deploy/stack/kafka_access.py). Every test client
gets its settings from TestStack.kafka_client_config(), never from copied options.
"""

from __future__ import annotations

import secrets
import shutil
import socket
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.stack import kafka, postgres
from deploy.stack.aio import run_sync
from deploy.stack.config import SERVICES, default_jar_dir
from deploy.stack.kafka_access import (
    ADMIN,
    credentials,
    librdkafka_config,
    passwords,
    properties_text,
    provision_kafka,
    unprovision_kafka,
)
from deploy.stack.provision import drop, provision
from schemas.topics import topic_name
from services.common.kafka_auth import KafkaCredentials, client_options


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
    # Every Kafka user's password (kafka_access.USERS); empty only for an unauthenticated
    # broker (the benchmark's "auth off" run).
    kafka_secrets: Mapping[str, str] = field(default_factory=dict, repr=False)

    def topic(self, name: str) -> str:
        """The physical name of catalogue topic `name` in this session."""
        return topic_name(name, self.topic_prefix)

    def kafka_credentials(self, principal: str = ADMIN) -> KafkaCredentials | None:
        return credentials(self.kafka_secrets, principal) if self.kafka_secrets else None

    def kafka_client_config(self, principal: str = ADMIN) -> dict[str, Any]:
        """aiokafka keyword arguments (bootstrap included) of a client logged in as
        ``principal``: the admin super user unless a test plays another one."""
        return {
            "bootstrap_servers": self.kafka_bootstrap,
            **client_options(self.kafka_credentials(principal)),
        }

    def librdkafka_config(self, principal: str = ADMIN) -> dict[str, str]:
        """The same for kcat -F and confluent-kafka."""
        return librdkafka_config(self.kafka_bootstrap, self.kafka_credentials(principal))

    def kafka_client_file(self, principal: str, directory: Path) -> Path:
        """``librdkafka_config`` as a properties file (kcat -F), owner-only."""
        path = directory / f"kafka-{principal}.properties"
        path.write_text(properties_text(self.librdkafka_config(principal)))
        path.chmod(0o600)
        return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- local processes ---------------------------------------------------------------------------


def local_kafka_start(
    exit_stack: ExitStack, state_dir: Path, scram: Mapping[str, str]
) -> tuple[kafka.KafkaNode, int]:
    """Start a broker (detached) and return at once: it boots while PostgreSQL starts."""
    node = kafka.KafkaNode(
        state_dir / "kafka", default_jar_dir(), free_port(), free_port(), scram=scram
    )
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


def _wait_broker(bootstrap: str, admin: KafkaCredentials | None, timeout_s: float = 120.0) -> None:
    from deploy.stack.process import StackError, wait_until

    def answers() -> bool:
        return run_sync(lambda: kafka.broker_answers(bootstrap, credentials=admin))

    if not wait_until(answers, timeout_s, 1.0):
        raise StackError(f"Kafka at {bootstrap} did not answer within {timeout_s:.0f}s")


# -- the session ------------------------------------------------------------------------------


def open_infra(
    exit_stack: ExitStack, tmp_dir: Path, env: dict[str, str], *, kafka_auth: bool = True
) -> tuple[str, str, dict[str, str]]:
    """(Kafka bootstrap, PostgreSQL admin DSN, Kafka users' passwords): the ones named in
    `env`, else local ones. ``kafka_auth=False`` starts a local broker that asks for no
    login (what authentication costs, benchmarks only)."""
    kafka_bootstrap = env.get("IMS_TEST_KAFKA_BOOTSTRAP", "")
    admin_dsn = env.get("IMS_TEST_POSTGRES_DSN", "")
    local_node: tuple[kafka.KafkaNode, int] | None = None
    if kafka_bootstrap:
        admin_password = env.get("IMS_TEST_KAFKA_PASSWORD", "")
        scram = passwords(admin_password) if admin_password else {}
    else:
        scram = passwords(secrets.token_urlsafe(24)) if kafka_auth else {}
        # Boots while PostgreSQL starts.
        local_node = local_kafka_start(exit_stack, tmp_dir, scram)
        kafka_bootstrap = local_node[0].bootstrap
    if not admin_dsn:
        admin_dsn = local_postgres(exit_stack, tmp_dir)
    if local_node is not None:
        kafka.wait_ready(*local_node)
    else:
        _wait_broker(kafka_bootstrap, credentials(scram, ADMIN) if scram else None)
    return kafka_bootstrap, admin_dsn, scram


def open_test_stack(
    exit_stack: ExitStack, tmp_dir: Path, env: dict[str, str], *, kafka_auth: bool = True
) -> TestStack:
    """Infra plus this session's own database, roles and prefixed topics; torn down by exit."""
    kafka_bootstrap, admin_dsn, scram = open_infra(exit_stack, tmp_dir, env, kafka_auth=kafka_auth)
    token = secrets.token_hex(4)
    database, prefix, role_secret = f"ims_t{token}", f"t{token}.", secrets.token_hex(16)
    # Cleanups run in reverse: the database and topics go before the servers stop.
    exit_stack.callback(lambda: run_sync(lambda: drop(admin_dsn, database, SERVICES)))
    dsns = run_sync(lambda: provision(admin_dsn, database, SERVICES, secret=role_secret))
    exit_stack.callback(lambda: run_sync(lambda: unprovision_kafka(kafka_bootstrap, scram, prefix)))
    run_sync(lambda: provision_kafka(kafka_bootstrap, scram, prefix))
    return TestStack(
        kafka_bootstrap, prefix, admin_dsn, database, dsns, role_secret, tmp_dir, scram
    )
