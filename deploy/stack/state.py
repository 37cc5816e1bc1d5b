"""The state file (`<state dir>/stack.json`): what runs where, for `status`, tests and demo."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploy.stack.keys import secret_file, write_private
from services.common.kafka_auth import KafkaCredentials

if TYPE_CHECKING:
    from ims_testkit.tokens import Issuer

STATE_VERSION = 1


@dataclass
class KafkaState:
    bootstrap: str
    port: int
    controller_port: int
    pid: int | None
    log: str
    cluster_id: str


@dataclass
class PostgresState:
    port: int
    pid: int | None
    home: str  # data dir, log and socket live here (may be outside the state dir)
    log: str
    admin_dsn: str


@dataclass
class ServiceState:
    name: str
    pid: int | None
    port: int
    url: str
    log: str


@dataclass
class StackState:
    """What `up` started. Written after each step, so a failed `up` can still be torn down."""

    state_dir: str
    database: str = "ims"
    topic_prefix: str = ""
    kafka: KafkaState | None = None
    postgres: PostgresState | None = None
    dsns: dict[str, str] = field(default_factory=dict)
    topics: list[str] = field(default_factory=list)
    services: dict[str, ServiceState] = field(default_factory=dict)
    version: int = STATE_VERSION

    @property
    def path(self) -> Path:
        return Path(self.state_dir)

    @property
    def kafka_bootstrap(self) -> str:
        if self.kafka is None:
            raise RuntimeError("Kafka is not started; run `ims-stack up`")
        return self.kafka.bootstrap

    @property
    def admin_dsn(self) -> str:
        if self.postgres is None:
            raise RuntimeError("PostgreSQL is not started; run `ims-stack up`")
        return self.postgres.admin_dsn

    @property
    def jwks_path(self) -> Path:
        """The issuer's public keys, which the services verify tokens against."""
        return self.path / "auth" / "jwks.json"

    def issuer(self) -> Issuer:
        """The local platform's token issuer: made on first use, its private keys kept
        with the other secrets (owner-only), its public keys published at ``jwks_path``."""
        # Here, not at the top: the IMS image runs `ims-stack provision` without the
        # testkit's own dependencies (testcontainers), and provisioning mints no token.
        from ims_testkit.tokens import Issuer

        keys = secret_file(self.path, "token-issuer")
        if (keys / "order.json").exists():
            issuer = Issuer.load(keys)
        else:
            issuer = Issuer.generate()
            issuer.save(keys)
        if not self.jwks_path.exists():
            issuer.write_jwks(self.jwks_path)
        return issuer

    def save_issuer(self, issuer: Issuer) -> None:
        """Keep a rotated issuer: its keys first, then the JWKS the services read again."""
        issuer.save(secret_file(self.path, "token-issuer"))
        issuer.write_jwks(self.jwks_path)

    def kafka_secrets(self) -> dict[str, str]:
        """Every Kafka user's password (owner-only files under secrets/)."""
        from deploy.stack.kafka_access import stack_passwords

        return stack_passwords(self.path)

    def kafka_credentials(self, principal: str = "admin") -> KafkaCredentials:
        from deploy.stack.kafka_access import credentials

        return credentials(self.kafka_secrets(), principal)

    @property
    def demo_dir(self) -> Path:
        return self.path / "demo"

    def kafka_client_file(self, view: str) -> Path:
        """librdkafka properties for kcat -F and confluent-kafka (written by `up`)."""
        return self.demo_dir / f"kafka-{view}.properties"

    def service_url(self, name: str) -> str:
        try:
            return self.services[name].url
        except KeyError:
            raise RuntimeError(f"service {name} is not started; run `ims-stack up`") from None

    def save(self) -> None:
        target = self.path / "stack.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        # The file holds DSNs with passwords.
        write_private(target, json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, state_dir: Path) -> StackState | None:
        path = state_dir / "stack.json"
        if not path.exists():
            return None
        return cls.from_dict(json.loads(path.read_text()))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> StackState:
        kafka = raw.get("kafka")
        postgres = raw.get("postgres")
        return cls(
            state_dir=raw["state_dir"],
            database=raw.get("database", "ims"),
            topic_prefix=raw.get("topic_prefix", ""),
            kafka=KafkaState(**kafka) if kafka else None,
            postgres=PostgresState(**postgres) if postgres else None,
            dsns=dict(raw.get("dsns", {})),
            topics=list(raw.get("topics", [])),
            services={k: ServiceState(**v) for k, v in raw.get("services", {}).items()},
            version=raw.get("version", STATE_VERSION),
        )
