"""`start_ims()`: Kafka, PostgreSQL and the four IMS services in containers, ready to use."""

from __future__ import annotations

import json
import secrets
import socket
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from testcontainers.core.container import DockerContainer

from ims_testkit import containers
from ims_testkit.images import Images
from ims_testkit.tokens import Issuer

SERVICES = ("capture", "catalog", "sharing", "notifier")


class ImsStartError(RuntimeError):
    """IMS did not come up; the message carries the logs of what failed."""


@dataclass(frozen=True)
class RunningIms:
    """A running IMS: where to reach it, and how to act as one of its tenants."""

    bootstrap: str  # Kafka bootstrap servers, 127.0.0.1:<port>
    topics: Mapping[str, str]  # event name (CaptureRequested, ImageReady, ...) -> topic
    urls: Mapping[str, str]  # service -> base URL, e.g. urls["catalog"] + "/v1/images"
    block_storage: Path  # hosts' disk files go here (capture reads them, read-only)
    image_store: Path  # where capture writes the images it makes
    issuer: Issuer  # the platform's token issuer of this IMS (its keys exist only here)
    admin_dsn: str  # PostgreSQL superuser, for looking inside when a test fails
    _containers: Mapping[str, DockerContainer] = field(repr=False)
    _kafka_passwords: Mapping[str, str] = field(repr=False, default_factory=dict)

    def kafka_config(self, principal: str = "platform") -> dict[str, str]:
        """librdkafka settings (confluent-kafka, kcat -F) of a client logged in as
        ``principal``: ``platform`` (may write CaptureRequested, HostChanged and
        AccountChanged; reads the facts), ``ecs``, ``iam``, ``console``, ``reader`` (reads
        the facts), ``operator`` (reads everything, DeadLetter included) or ``admin``."""
        return {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanisms": "SCRAM-SHA-512",
            "sasl.username": principal,
            "sasl.password": self._kafka_passwords[principal],
        }

    def aiokafka_config(self, principal: str = "platform") -> dict[str, Any]:
        """The same for aiokafka's clients (keyword arguments, bootstrap included)."""
        return {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": principal,
            "sasl_plain_password": self._kafka_passwords[principal],
        }

    def token(
        self, account_id: UUID, account_name: str = "tester", roles: Sequence[str] = ()
    ) -> str:
        """A bearer token of tenant `account_id`, signed as the platform's issuer would."""
        return self.issuer.token(account_id, account_name, roles=roles)

    def headers(self, account_id: UUID, account_name: str = "tester") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(account_id, account_name)}"}

    def container_id(self, component: str) -> str:
        """The Docker id of `kafka`, `postgres` or a service's container."""
        return str(self._containers[component].get_wrapped_container().id)

    def logs(self, component: str) -> str:
        """What `kafka`, `postgres` or a service printed (for a failing test's message)."""
        return _logs(self._containers[component])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def start_ims(
    images: Images | None = None,
    *,
    workdir: Path | None = None,
    service_env: Mapping[str, str] | None = None,
    timeout_s: float = 240.0,
) -> Iterator[RunningIms]:
    """Start Kafka, PostgreSQL and the four services; yield once every service is healthy;
    stop and remove every container on exit, also when starting failed half-way.

    `service_env` adds IMS_* settings to every service (e.g. a shorter
    IMS_HOST_FACTS_GRACE_SECONDS). Docker is reached the testcontainers way (DOCKER_HOST).
    """
    images = images or Images.from_env()
    session = secrets.token_hex(3)
    deadline = time.monotonic() + timeout_s
    with ExitStack() as stack:
        root = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ims-")))
        running = _start(images, session, root, dict(service_env or {}), deadline, stack)
        yield running


def _start(
    images: Images,
    session: str,
    root: Path,
    service_env: dict[str, str],
    deadline: float,
    stack: ExitStack,
) -> RunningIms:
    started: dict[str, DockerContainer] = {}

    def run(name: str, container: DockerContainer) -> DockerContainer:
        container.start()
        started[name] = container
        stack.callback(container.stop)
        return container

    kafka_port, controller_port, pg_port = _free_port(), _free_port(), _free_port()
    bootstrap = f"127.0.0.1:{kafka_port}"
    password, kafka_admin = secrets.token_hex(16), secrets.token_hex(16)
    admin_dsn = f"postgresql://postgres:{password}@127.0.0.1:{pg_port}/postgres"
    run("kafka", containers.kafka(images.kafka, session, kafka_port, controller_port, kafka_admin))
    run("postgres", containers.postgres(images.postgres, session, pg_port, password))
    wait_s = max(10.0, deadline - time.monotonic())
    out_dir = root / "provision"
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    job = containers.provision(
        images.ims, session, bootstrap, admin_dsn, kafka_admin, wait_s, out_dir
    )
    provisioned = _run_job(run("provision", job), started, deadline, out_dir / "provisioned.json")
    kafka_passwords = {**provisioned["kafka_passwords"], "admin": kafka_admin}

    block_storage, image_store = root / "block-storage", root / "images"
    for directory in (block_storage, image_store):
        directory.mkdir(parents=True, exist_ok=True)
    # The services verify tokens by the issuer's public keys (a JWKS): they cannot mint one.
    issuer, auth = Issuer.generate(), root / "auth"
    issuer.write_jwks(auth / "jwks.json")
    ports = {name: _free_port() for name in SERVICES}
    for name in SERVICES:
        env = {
            "IMS_KAFKA_BOOTSTRAP": bootstrap,
            # Each service its own principal: the broker lets it write its own topics only.
            "IMS_KAFKA_USERNAME": name,
            "IMS_KAFKA_PASSWORD": kafka_passwords[name],
            "IMS_DATABASE_URL": provisioned["dsns"][name],
            "IMS_HTTP_HOST": "127.0.0.1",
            "IMS_HTTP_PORT": str(ports[name]),
            "IMS_AUTH_JWKS": str(auth / "jwks.json"),
            "IMS_AUTH_ISSUER": issuer.issuer,
            "IMS_DATA_DIR": "/tmp/ims-data",
            **service_env,
        }
        mounts: list[tuple[Path, str]] = [(auth, "ro")]
        if name == "capture":
            env |= {"IMS_BLOCK_STORAGE": str(block_storage), "IMS_IMAGE_STORE": str(image_store)}
            mounts += [(block_storage, "ro"), (image_store, "rw")]
        run(name, containers.service(images.ims, session, name, env, mounts))
    urls = {name: f"http://127.0.0.1:{ports[name]}" for name in SERVICES}
    for name in SERVICES:
        _wait_healthy(name, urls[name], started, deadline)
    return RunningIms(
        bootstrap=bootstrap,
        topics=dict(provisioned["topics"]),
        urls=urls,
        block_storage=block_storage,
        image_store=image_store,
        issuer=issuer,
        admin_dsn=admin_dsn,
        _containers=started,
        _kafka_passwords=kafka_passwords,
    )


def _run_job(
    job: DockerContainer, started: Mapping[str, DockerContainer], deadline: float, result: Path
) -> dict[str, Any]:
    """Wait for the provisioning job; it writes ``result`` (JSON: dsns, topics and the
    Kafka principals' passwords)."""
    wrapped = job.get_wrapped_container()
    try:
        status = wrapped.wait(timeout=max(1.0, deadline - time.monotonic()))["StatusCode"]
    except Exception as exc:  # the docker SDK raises a requests timeout here
        raise ImsStartError(_report("provisioning did not finish", started)) from exc
    if status != 0 or not result.exists():
        raise ImsStartError(_report(f"provisioning exited {status}", started))
    provisioned: dict[str, Any] = json.loads(result.read_text())
    return provisioned


def _wait_healthy(
    name: str, url: str, started: Mapping[str, DockerContainer], deadline: float
) -> None:
    container = started[name].get_wrapped_container()
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2.0) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        container.reload()
        if container.status not in ("created", "running"):
            raise ImsStartError(_report(f"{name} stopped ({container.status})", started))
        time.sleep(0.3)
    raise ImsStartError(_report(f"{name}: {url}/healthz not 200 in time", started))


def _logs(container: DockerContainer, lines: int = 60) -> str:
    raw: bytes = container.get_wrapped_container().logs(tail=lines)
    return raw.decode(errors="replace")


def _report(what: str, started: Mapping[str, DockerContainer]) -> str:
    parts = [what]
    for name, container in started.items():
        try:
            parts.append(f"--- {name} ---\n{_logs(container)}")
        except Exception as exc:  # a container that is gone: say so, keep the rest
            parts.append(f"--- {name} --- (no logs: {exc})")
    return "\n".join(parts)
