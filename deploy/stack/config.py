"""Where the stack lives and which ports it uses: one frozen value, read from env or options."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

SERVICES: tuple[str, ...] = ("capture", "catalog", "sharing", "notifier")
DEFAULT_HTTP_PORTS: dict[str, int] = {
    "catalog": 8081,
    "capture": 8082,
    "sharing": 8083,
    "notifier": 8084,
}


def repo_root() -> Path:
    """The repository root: deploy/stack/config.py is two levels below it."""
    return Path(__file__).resolve().parents[2]


def default_state_dir() -> Path:
    return Path(os.environ.get("IMS_STATE_DIR") or repo_root() / ".ims").resolve()


def default_jar_dir() -> Path:
    """The Kafka jar cache; shared by every state dir so tests never fetch jars again."""
    env = os.environ.get("IMS_KAFKA_LIBS")
    return Path(env).resolve() if env else repo_root() / ".ims" / "cache" / "kafka-libs"


@dataclass(frozen=True)
class StackConfig:
    """What `up` needs to know; everything else is derived from `state_dir`."""

    state_dir: Path
    kafka_port: int = 9092
    controller_port: int = 9093
    pg_port: int = 54329
    database: str = "ims"
    topic_prefix: str = ""
    replication_factor: int = 1
    http_ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_HTTP_PORTS))
    gateway_port: int = 8080  # the console and the APIs, one origin (deploy/stack/gateway.py)
    jar_dir: Path = field(default_factory=default_jar_dir)

    @property
    def kafka_dir(self) -> Path:
        return self.state_dir / "kafka"

    @property
    def services_dir(self) -> Path:
        return self.state_dir / "services"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "stack.json"
