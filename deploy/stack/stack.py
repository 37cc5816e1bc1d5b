"""The stack as a whole: bring it up in order, tear it down, report what runs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from deploy.stack import gateway, kafka, postgres, process, services
from deploy.stack.aio import run_sync
from deploy.stack.config import SERVICES, StackConfig
from deploy.stack.kafka_access import (
    librdkafka_config,
    properties_text,
    provision_kafka,
    stack_passwords,
)
from deploy.stack.keys import ensure_secret, write_private
from deploy.stack.provision import provision
from deploy.stack.state import KafkaState, PostgresState, ServiceState, StackState
from schemas.topics import OPERATOR, PLATFORM, READER

# The client files `up` writes (README "Try it"): view -> principal. The platform's file is
# the `ecs` principal's: it may write CaptureRequested and HostChanged, and read nothing.
CLIENT_FILES = {"platform": PLATFORM, "reader": READER, "operator": OPERATOR}

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def block_storage_dir(state_dir: Path) -> Path:
    """Where the local stack's hosts keep their disk files (ECS's block storage)."""
    return state_dir / "block-storage"


def kafka_node(cfg: StackConfig) -> kafka.KafkaNode:
    return kafka.KafkaNode(
        cfg.kafka_dir,
        cfg.jar_dir,
        cfg.kafka_port,
        cfg.controller_port,
        scram=stack_passwords(cfg.state_dir),
    )


def postgres_node(state_dir: Path, port: int, home: Path | None = None) -> postgres.PostgresNode:
    bin_dir = postgres.ensure_installed()
    return postgres.PostgresNode(home or postgres.choose_home(state_dir), port, bin_dir)


def start_infra(cfg: StackConfig, say: Say = _quiet) -> StackState:
    """Kafka and PostgreSQL up and answering; the state file says where."""
    cfg.state_dir.mkdir(parents=True, exist_ok=True)
    state = StackState.load(cfg.state_dir) or StackState(state_dir=str(cfg.state_dir))
    state.database, state.topic_prefix = cfg.database, cfg.topic_prefix

    say(f"kafka: jars in {cfg.jar_dir}")
    kafka.ensure_jars(cfg.jar_dir)
    knode = kafka_node(cfg)
    kpid = kafka.start(knode)  # boots in the background while PostgreSQL starts
    cluster_id = kafka.ensure_formatted(knode)
    state.kafka = KafkaState(
        knode.bootstrap, knode.port, knode.controller_port, kpid, str(knode.log), cluster_id
    )
    state.save()

    say("postgres: starting")
    pnode = postgres_node(cfg.state_dir, cfg.pg_port)
    password = ensure_secret(cfg.state_dir, "postgres-admin")
    postgres.ensure_initialised(pnode, password)
    ppid = postgres.start(pnode)
    admin_dsn = pnode.admin_dsn(password)
    state.postgres = PostgresState(pnode.port, ppid, str(pnode.home), str(pnode.log), admin_dsn)
    state.save()
    postgres.wait_ready(pnode, admin_dsn)

    say(f"kafka: waiting for {knode.bootstrap}")
    kafka.wait_ready(knode, kpid)
    return state


def up(cfg: StackConfig, with_services: bool = True, say: Say = _quiet) -> StackState:
    """Kafka, PostgreSQL, database and roles, topics, then (optionally) the services."""
    state = start_infra(cfg, say)
    admin_dsn, bootstrap = state.admin_dsn, state.kafka_bootstrap
    say(f"postgres: provisioning database {cfg.database}")
    state.dsns = run_sync(lambda: provision(admin_dsn, cfg.database, SERVICES))
    state.save()
    say("kafka: users, topics, ACLs")
    secrets = state.kafka_secrets()
    state.topics = run_sync(
        lambda: provision_kafka(bootstrap, secrets, cfg.topic_prefix, cfg.replication_factor)
    )
    state.save()
    write_client_files(state)
    if with_services:
        start_services(cfg, state, say)
    return state


def write_client_files(state: StackState) -> list[Path]:
    """librdkafka properties of the demo's platform roles, owner-only (they hold passwords)."""
    state.demo_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for view, principal in CLIENT_FILES.items():
        path = state.kafka_client_file(view)
        config = librdkafka_config(state.kafka_bootstrap, state.kafka_credentials(principal))
        write_private(path, properties_text(config))
        written.append(path)
    return written


def service_launch(cfg: StackConfig, state: StackState, name: str) -> services.ServiceLaunch:
    return services.ServiceLaunch(
        name=name,
        kafka_bootstrap=state.kafka_bootstrap,
        database_url=state.dsns[name],
        topic_prefix=state.topic_prefix,
        http_port=cfg.http_ports[name],
        home=cfg.services_dir / name,
        auth_jwks=state.jwks_path,
        auth_issuer=state.issuer().issuer,
        image_store=cfg.state_dir / "images" if name == "capture" else None,
        block_storage=block_storage_dir(cfg.state_dir) if name == "capture" else None,
        log_json=os.environ.get("IMS_LOG_JSON", "true").lower() not in ("0", "false", "no"),
        kafka_credentials=state.kafka_credentials(name),
    )


def start_services(cfg: StackConfig, state: StackState, say: Say = _quiet) -> None:
    base_env = dict(os.environ)
    launches = [service_launch(cfg, state, name) for name in SERVICES]
    for launch in launches:
        if services.running_pid(launch) is None:
            say(f"{launch.name}: migrate")
            services.migrate(launch, base_env)
    for launch in launches:
        pid = services.start(launch, base_env)
        state.services[launch.name] = ServiceState(
            launch.name, pid, launch.http_port, launch.url, str(launch.log)
        )
        state.save()
    for launch in launches:
        say(f"{launch.name}: waiting for {launch.url}/healthz")
        services.wait_healthy(launch, state.services[launch.name].pid or 0)
    say(f"gateway: nginx on 127.0.0.1:{cfg.gateway_port}")
    gateway.start_for_stack(cfg, state)


def down(state_dir: Path, say: Say = _quiet) -> StackState | None:
    """Stop whatever the state file says runs: services first, then Kafka, then PostgreSQL."""
    state = StackState.load(state_dir)
    if state is None:
        return None
    if gateway.stop(gateway.gateway_home(state_dir)):
        say("gateway: stopped")
    for name in state.services:
        if services.stop(state_dir / "services" / name, name):
            say(f"{name}: stopped")
    state.services = {}
    if state.kafka is not None:
        node = kafka.KafkaNode(
            state_dir / "kafka", Path(), state.kafka.port, state.kafka.controller_port
        )
        if kafka.stop(node):
            say("kafka: stopped")
        state.kafka.pid = None
    if state.postgres is not None:
        if _stop_postgres(state_dir, state.postgres):
            say("postgres: stopped")
        state.postgres.pid = None
    state.save()
    return state


def _stop_postgres(state_dir: Path, pg: PostgresState) -> bool:
    bin_dir = postgres.find_bin_dir()  # never install anything just to stop
    home = Path(pg.home)
    if bin_dir is not None:
        return postgres.stop(postgres.PostgresNode(home, pg.port, bin_dir))
    data = home / "data"
    return process.stop(process.read_pid(data / "postmaster.pid"), str(data))


def reset(state_dir: Path, keep_cache: bool = True, say: Say = _quiet) -> None:
    """Stop everything and delete the state dir (and the PostgreSQL home if it lives apart)."""
    state = down(state_dir, say)
    if state is not None and state.postgres is not None:
        home = Path(state.postgres.home)
        if not home.is_relative_to(state_dir):
            shutil.rmtree(home, ignore_errors=True)
    if not state_dir.exists():
        return
    for child in state_dir.iterdir():
        if keep_cache and child.name == "cache":
            continue  # the Kafka jars: 93 files Maven would fetch again
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    if not keep_cache:
        state_dir.rmdir()
    say(f"removed {state_dir}")


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int | None
    port: int | None
    alive: bool
    log: str


def status(state_dir: Path) -> list[ComponentStatus]:
    state = StackState.load(state_dir)
    if state is None:
        return []
    rows: list[ComponentStatus] = []
    if state.kafka is not None:
        pid = process.read_pid(state_dir / "kafka" / "kafka.pid")
        alive = process.is_alive(pid, str(state_dir / "kafka" / "server.properties"))
        rows.append(ComponentStatus("kafka", pid, state.kafka.port, alive, state.kafka.log))
    if state.postgres is not None:
        data = Path(state.postgres.home) / "data"
        pid = process.read_pid(data / "postmaster.pid")
        alive = process.is_alive(pid, str(data))
        rows.append(
            ComponentStatus("postgres", pid, state.postgres.port, alive, state.postgres.log)
        )
    for name, svc in state.services.items():
        pid = process.read_pid(state_dir / "services" / name / "service.pid")
        alive = process.is_alive(pid, f"services.{name}")
        rows.append(ComponentStatus(name, pid, svc.port, alive, svc.log))
    node = gateway.GatewayNode.load(gateway.gateway_home(state_dir))
    if node is not None:
        pid = process.read_pid(node.pid_file)
        alive = process.is_alive(pid, node.marker)
        rows.append(ComponentStatus("gateway", pid, node.port, alive, str(node.log)))
    return rows
