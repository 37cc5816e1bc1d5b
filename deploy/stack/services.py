"""The four IMS services as local processes: `python -m services.<name> migrate`, then `run`."""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from deploy.stack import process
from deploy.stack.config import repo_root
from deploy.stack.process import StackError
from services.common.kafka_auth import KafkaCredentials


@dataclass(frozen=True)
class ServiceLaunch:
    """Everything one service process gets: its command line is fixed, its env varies."""

    name: str
    kafka_bootstrap: str
    database_url: str
    topic_prefix: str
    http_port: int
    home: Path  # <state dir>/services/<name>: data dir, log, pid file
    auth_jwks: Path  # the issuer's public keys (the services cannot mint tokens)
    auth_issuer: str
    image_store: Path | None = None  # capture only
    block_storage: Path | None = None  # capture only
    log_json: bool = True
    python: str = sys.executable
    kafka_credentials: KafkaCredentials | None = None  # the service's own principal

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def log(self) -> Path:
        return self.home / "service.log"

    @property
    def pid_file(self) -> Path:
        return self.home / "service.pid"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def marker(self) -> str:
        return f"services.{self.name}"

    def argv(self, command: str) -> list[str]:
        return [self.python, "-m", f"services.{self.name}", command]

    def env(self, base: dict[str, str]) -> dict[str, str]:
        env = {
            **base,
            "IMS_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "IMS_DATABASE_URL": self.database_url,
            "IMS_TOPIC_PREFIX": self.topic_prefix,
            "IMS_HTTP_HOST": "127.0.0.1",
            "IMS_HTTP_PORT": str(self.http_port),
            "IMS_DATA_DIR": str(self.data_dir),
            "IMS_AUTH_JWKS": str(self.auth_jwks),
            "IMS_AUTH_ISSUER": self.auth_issuer,
            "IMS_LOG_JSON": "true" if self.log_json else "false",
            "PYTHONUNBUFFERED": "1",
        }
        if self.kafka_credentials is not None:
            creds = self.kafka_credentials
            env |= {
                "IMS_KAFKA_USERNAME": creds.username,
                "IMS_KAFKA_PASSWORD": creds.password,
                "IMS_KAFKA_SASL_MECHANISM": creds.mechanism,
                "IMS_KAFKA_SECURITY_PROTOCOL": creds.protocol,
            }
        if self.image_store is not None:
            env["IMS_IMAGE_STORE"] = str(self.image_store)
        if self.block_storage is not None:
            env["IMS_BLOCK_STORAGE"] = str(self.block_storage)
        return env


def migrate(launch: ServiceLaunch, base_env: dict[str, str], timeout_s: float = 120.0) -> None:
    """Apply the service's migrations (its own schema only); output goes to its log."""
    launch.data_dir.mkdir(parents=True, exist_ok=True)
    for directory in (launch.image_store, launch.block_storage):
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
    try:
        out = process.run_checked(
            launch.argv("migrate"),
            f"migrating {launch.name}",
            timeout_s,
            env=launch.env(base_env),
            cwd=repo_root(),
        )
    except StackError as exc:
        _append(launch.log, str(exc))
        raise
    _append(launch.log, out)


def running_pid(launch: ServiceLaunch) -> int | None:
    pid = process.read_pid(launch.pid_file)
    return pid if process.is_alive(pid, launch.marker) else None


def start(launch: ServiceLaunch, base_env: dict[str, str]) -> int:
    """Start `run` detached, or return the pid of the one already running."""
    pid = running_pid(launch)
    if pid is not None:
        return pid
    return process.start_detached(
        launch.argv("run"), launch.log, launch.pid_file, env=launch.env(base_env), cwd=repo_root()
    )


def wait_healthy(launch: ServiceLaunch, pid: int, timeout_s: float = 60.0) -> None:
    """Wait until GET /healthz answers 200, or fail with the log tail."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not process.exists(pid):
            raise StackError(
                f"{launch.name} exited during startup; log {launch.log}:\n"
                f"{process.tail(launch.log)}"
            )
        if healthy(launch.url):
            return
        time.sleep(0.5)
    raise StackError(
        f"{launch.name}: {launch.url}/healthz not 200 after {timeout_s:.0f}s; "
        f"log {launch.log}:\n{process.tail(launch.log)}"
    )


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def stop(home: Path, name: str, grace_s: float = 20.0) -> bool:
    """Stop the service whose pid file is in `home`; True if it was running."""
    pid_file = home / "service.pid"
    stopped = process.stop(process.read_pid(pid_file), f"services.{name}", grace_s)
    pid_file.unlink(missing_ok=True)
    return stopped


def _append(log: Path, text: str) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as f:
        f.write(text if text.endswith("\n") or not text else text + "\n")
