"""One local Kafka node (KRaft, broker+controller) run from Maven-resolved jars, no Docker."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import hashlib
import json
import shutil
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from deploy.stack import process
from deploy.stack.aio import run_sync
from deploy.stack.config import repo_root
from deploy.stack.kafka_access import ADMIN, MECHANISM, credentials, scram_format_arguments
from deploy.stack.keys import write_private
from deploy.stack.process import StackError
from services.common.kafka_auth import KafkaCredentials, client_options

MAIN_CLASS = "kafka.Kafka"


def kafka_assets() -> Path:
    """deploy/kafka: the pom that pins the Kafka version and the broker's log4j2 config."""
    return repo_root() / "deploy" / "kafka"


@dataclass(frozen=True)
class KafkaNode:
    """Where one node keeps its files, and the ports it listens on (127.0.0.1 only)."""

    home: Path
    jar_dir: Path
    port: int = 9092
    controller_port: int = 9093
    heap: str = "512m"
    # Every user's SCRAM password (kafka_access.USERS); empty: an unauthenticated broker,
    # which only the benchmark's "auth off" run starts.
    scram: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def authenticated(self) -> bool:
        return bool(self.scram)

    @property
    def admin(self) -> KafkaCredentials | None:
        """The super user's credentials (provisioning, readiness probes)."""
        return credentials(self.scram, ADMIN) if self.scram else None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def properties(self) -> Path:
        return self.home / "server.properties"

    @property
    def log(self) -> Path:
        return self.home / "server.log"

    @property
    def console_log(self) -> Path:
        return self.home / "console.log"

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def marker(self) -> str:
        """Part of the broker's command line that only this node has (guards pid reuse)."""
        return str(self.properties)


# -- jars -----------------------------------------------------------------------------------


def _pom_digest(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def jars_complete(jar_dir: Path, pom: Path | None = None) -> bool:
    stamp = jar_dir / ".complete"
    pom = pom or kafka_assets() / "pom.xml"
    return stamp.exists() and stamp.read_text().strip() == _pom_digest(pom)


def ensure_jars(jar_dir: Path, pom: Path | None = None, timeout_s: float = 900.0) -> Path:
    """Copy the broker's jars into `jar_dir` with Maven, unless the cache matches the pom."""
    pom = pom or kafka_assets() / "pom.xml"
    if jars_complete(jar_dir, pom):
        return jar_dir
    if shutil.which("mvn") is None:
        raise StackError("mvn not found: run deploy/bootstrap.sh (installs maven)")
    jar_dir.parent.mkdir(parents=True, exist_ok=True)
    # A lock: two test sessions sharing the cache must not fetch into it at the same time.
    with (jar_dir.parent / f".{jar_dir.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if jars_complete(jar_dir, pom):
            return jar_dir
        staging = jar_dir.with_name(jar_dir.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        process.run_checked(
            [
                "mvn",
                "-q",
                "-B",
                "-f",
                str(pom),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={staging}",
            ],
            "fetching the Kafka jars with Maven",
            timeout_s,
        )
        if not any(staging.glob("kafka_2.13-*.jar")):
            raise StackError(f"Maven finished but left no Kafka jar in {staging}")
        (staging / ".complete").write_text(_pom_digest(pom) + "\n")
        shutil.rmtree(jar_dir, ignore_errors=True)
        staging.rename(jar_dir)
    return jar_dir


# -- configuration and storage ---------------------------------------------------------------


def _jaas(module: str, user: str, password: str, **extra: str) -> str:
    options = " ".join(
        f'{k}="{v}"' for k, v in {"username": user, "password": password, **extra}.items()
    )
    return f"{module} required {options};"


def _listener_properties(node: KafkaNode) -> dict[str, str]:
    p, c = node.port, node.controller_port
    if not node.authenticated:
        return {
            "listeners": f"PLAINTEXT://127.0.0.1:{p},CONTROLLER://127.0.0.1:{c}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{p}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        }
    admin = node.scram[ADMIN]
    return {
        # Clients: SCRAM on the one client listener; nothing answers anonymously.
        "listeners": f"SASL_PLAINTEXT://127.0.0.1:{p},CONTROLLER://127.0.0.1:{c}",
        "advertised.listeners": f"SASL_PLAINTEXT://127.0.0.1:{p}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "SASL_PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
        "sasl.mechanism.inter.broker.protocol": MECHANISM,
        "listener.name.sasl_plaintext.sasl.enabled.mechanisms": MECHANISM,
        "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": _jaas(
            "org.apache.kafka.common.security.scram.ScramLoginModule", ADMIN, admin
        ),
        # The controller listener: PLAIN with one static user (SCRAM users live in the
        # metadata the controller serves, so they cannot guard it). Not anonymous: Kafka 4
        # admin clients can talk to controllers directly (KIP-919), ACL changes included.
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": _jaas(
            "org.apache.kafka.common.security.plain.PlainLoginModule",
            ADMIN,
            admin,
            **{f"user_{ADMIN}": admin},
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{ADMIN}",
        "allow.everyone.if.no.acl.found": "false",
    }


def server_properties(node: KafkaNode) -> str:
    c = node.controller_port
    lines = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"127.0.0.1:{c}",
        **_listener_properties(node),
        "log.dirs": str(node.data_dir),
        "num.partitions": "3",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # Tests start consumer groups all the time; waiting 3 s per rebalance adds up.
        "group.initial.rebalance.delay.ms": "0",
        # The topic catalogue (schemas.topics) is the only source of topics.
        "auto.create.topics.enable": "false",
    }
    return "".join(f"{k}={v}\n" for k, v in lines.items())


def _java_argv(node: KafkaNode, main: str, *args: str) -> list[str]:
    java = shutil.which("java")
    if java is None:
        raise StackError("java not found: run deploy/bootstrap.sh (installs default-jre-headless)")
    return [
        java,
        f"-Xmx{node.heap}",
        "-Xms128m",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={kafka_assets() / 'log4j2.xml'}",
        f"-Dims.kafka.log={node.log}",
        "-cp",
        f"{node.jar_dir}/*",
        main,
        *args,
    ]


def new_cluster_id() -> str:
    """The format Kafka's own `random-uuid` prints: 16 random bytes, base64url, no padding.

    Like Kafka, never one that starts with '-': the storage tool's argument parser would
    take it for an option (about 1 start in 64 failed that way).
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def ensure_formatted(node: KafkaNode) -> str:
    """Format the storage on first start only; returns the cluster id."""
    node.home.mkdir(parents=True, exist_ok=True)
    write_private(node.properties, server_properties(node))  # holds the admin's password
    record = node.home / "format.json"
    if (node.data_dir / "meta.properties").exists() and record.exists():
        formatted = json.loads(record.read_text())
        if formatted.get("scram", False) != node.authenticated:
            raise StackError(
                f"Kafka storage in {node.data_dir} was formatted "
                f"{'with' if formatted.get('scram') else 'without'} SCRAM users: "
                "`ims-stack reset --yes` formats it anew (its topics' data is lost)"
            )
        if formatted["controller_port"] != node.controller_port:
            # --standalone stores the controller's endpoint in the quorum's own log.
            raise StackError(
                f"Kafka storage in {node.data_dir} was formatted for controller port "
                f"{formatted['controller_port']}, not {node.controller_port}: use that port "
                "or `ims-stack reset --yes`"
            )
        return str(formatted["cluster_id"])
    shutil.rmtree(node.data_dir, ignore_errors=True)
    cluster_id = new_cluster_id()
    process.run_checked(
        _java_argv(
            node,
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "-t",
            cluster_id,
            "-c",
            str(node.properties),
            *scram_format_arguments(node.scram),
        ),
        "formatting the Kafka storage",
        120.0,
    )
    formatted = {
        "cluster_id": cluster_id,
        "controller_port": node.controller_port,
        "scram": node.authenticated,
    }
    record.write_text(json.dumps(formatted) + "\n")
    return cluster_id


# -- lifecycle ------------------------------------------------------------------------------


def running_pid(node: KafkaNode) -> int | None:
    pid = process.read_pid(node.pid_file)
    return pid if process.is_alive(pid, node.marker) else None


def start(node: KafkaNode) -> int:
    """Start the broker detached (or return the pid of the one already running)."""
    pid = running_pid(node)
    if pid is not None:
        return pid
    _check_port_free(node.port, "Kafka")
    _check_port_free(node.controller_port, "Kafka controller")
    ensure_formatted(node)
    return process.start_detached(
        _java_argv(node, MAIN_CLASS, str(node.properties)), node.console_log, node.pid_file
    )


def wait_ready(node: KafkaNode, pid: int, timeout_s: float = 120.0) -> None:
    """Wait until the broker answers a metadata request, or fail with its log tail."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not process.exists(pid):
            raise StackError(f"Kafka exited during startup; last log lines:\n{_tails(node)}")
        if _port_open(node.port) and run_sync(
            lambda: broker_answers(node.bootstrap, credentials=node.admin)
        ):
            return
        time.sleep(0.5)
    raise StackError(
        f"Kafka did not answer on {node.bootstrap} within {timeout_s:.0f}s; "
        f"last log lines:\n{_tails(node)}"
    )


def stop(node: KafkaNode, grace_s: float = 30.0) -> bool:
    stopped = process.stop(process.read_pid(node.pid_file), node.marker, grace_s)
    node.pid_file.unlink(missing_ok=True)
    return stopped


async def broker_answers(
    bootstrap: str, timeout_s: float = 5.0, credentials: KafkaCredentials | None = None
) -> bool:
    """True when a metadata request to `bootstrap` gets an answer within `timeout_s`."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=int(timeout_s * 1000),
        **client_options(credentials),
    )
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        await asyncio.wait_for(admin.describe_cluster(), timeout_s)
        return True
    except Exception:  # any failure means "not yet"; the caller bounds the wait
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _check_port_free(port: int, what: str) -> None:
    if _port_open(port):
        raise StackError(f"{what} port {port} on 127.0.0.1 is already in use")


def _tails(node: KafkaNode) -> str:
    return f"{process.tail(node.log)}\n--- console ---\n{process.tail(node.console_log, 15)}"
