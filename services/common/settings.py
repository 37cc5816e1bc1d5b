"""Settings every IMS service reads from its environment, failing fast when one is missing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.topics import REDELIVERY_WINDOW
from services.common.kafka_auth import KafkaCredentials, Mechanism, Protocol

# Clock skew, a slow broker clean-up, an operator's late look: the inbox keeps a day more.
INBOX_MARGIN = timedelta(days=1)


class ServiceSettings(BaseSettings):
    """What one service process needs: its broker, its own database, where to listen.

    Environment variables are upper-case with the ``IMS_`` prefix, e.g. ``IMS_DATABASE_URL``.
    Required values have no default, so a service with a missing one stops at startup with
    a message naming the variable, instead of failing on first use.
    """

    model_config = SettingsConfigDict(env_prefix="IMS_", extra="ignore")

    kafka_bootstrap: str = Field(description="Kafka bootstrap servers, host:port[,host:port]")
    database_url: str = Field(
        description="postgresql:// URL of this service's own login role and database"
    )
    topic_prefix: str = Field(
        default="", description="Prefix of every topic name (tests, side-by-side installs)"
    )
    kafka_session_timeout_seconds: float = Field(
        default=30.0,
        ge=6.0,
        description="Consumer group session timeout: how long a crashed instance holds its "
        "partitions before the group moves them (heartbeats go every 3 s)",
    )
    consumer_batch_max: int = Field(
        default=500,
        ge=1,
        description="Most records an agent takes at once; those of one partition are "
        "handled in one transaction",
    )
    consumer_batch_wait_ms: float = Field(
        default=10.0,
        gt=0,
        description="How long an agent waits for a batch to fill before it handles what it "
        "has: the latency a quiet stream pays, and what a busy one saves",
    )
    db_pool_max: int = Field(
        default=20,
        ge=4,
        description="Most database connections of one process: partitions are handled at "
        "once, each holding one while its batch runs; plus the relay, the API, jobs",
    )
    kafka_request_timeout_seconds: float = Field(
        default=30.0,
        ge=1.0,
        description="How long the outbox relay waits for Kafka to acknowledge a batch before "
        "it retries it (the rows stay unsent meanwhile)",
    )
    kafka_username: str = Field(
        default="",
        description="The service's own Kafka principal (SASL/SCRAM); empty: no authentication",
    )
    kafka_password: SecretStr = Field(
        default=SecretStr(""), description="The principal's SCRAM password (a secret: never logged)"
    )
    kafka_sasl_mechanism: Mechanism = Field(default="SCRAM-SHA-512")
    kafka_security_protocol: Protocol = Field(
        default="SASL_PLAINTEXT",
        description="SASL_PLAINTEXT on loopback; SASL_SSL wherever the network is shared",
    )
    db_idle_in_transaction_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="The database ends a session of this service that keeps a transaction "
        "open and unused for this long (a frozen or cut-off instance), releasing its locks",
    )
    outbox_retention_hours: float = Field(
        default=24.0, gt=0, description="How long sent outbox rows are kept"
    )
    inbox_retention_days: float = Field(
        default=14.0,
        description="How long handled event ids are remembered; must outlive the time a "
        "record stays readable on the topics (REDELIVERY_WINDOW) by INBOX_MARGIN, or a "
        "redelivered record could be handled again",
    )
    http_host: str = Field(default="127.0.0.1", description="Address the HTTP API binds to")
    http_port: int = Field(default=0, description="Port of the HTTP API (0: no HTTP API)")
    http_processes: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Processes serving the HTTP API: the service process and N-1 helpers "
        "that serve only HTTP, on the same port (SO_REUSEPORT)",
    )
    data_dir: Path = Field(
        default=Path(".ims/services"), description="Local state of the stream worker"
    )
    auth_mode: Literal["jwks", "demo-hs256"] = Field(
        default="jwks",
        description="How bearer tokens are verified: jwks (ES256/RS256, by the issuer's public "
        "keys) or demo-hs256 (one shared secret: anyone holding it can mint any token; demos "
        "only)",
    )
    auth_jwks: str = Field(
        default="",
        description="The issuer's public keys (JWKS): a file path or an http(s) URL; read again "
        "every minute and for an unknown kid, so keys rotate without a restart",
    )
    auth_issuer: str = Field(default="", description="The iss every token must carry")
    auth_audience: str = Field(default="ims", description="The aud every token must carry")
    auth_secret: str = Field(
        default="", description="demo-hs256 only: the HMAC secret of the demo's tokens"
    )
    event_loop: Literal["uvloop", "asyncio"] = Field(
        default="uvloop", description="The asyncio event loop implementation"
    )
    log_level: str = Field(default="info")
    log_json: bool = Field(default=True, description="JSON logs (true) or console logs")

    @model_validator(mode="after")
    def _inbox_outlives_redelivery(self) -> Self:
        least = REDELIVERY_WINDOW + INBOX_MARGIN
        if timedelta(days=self.inbox_retention_days) < least:
            raise ValueError(
                f"IMS_INBOX_RETENTION_DAYS must be at least {least / timedelta(days=1):.2f}: "
                f"records stay readable on the topics for up to "
                f"{REDELIVERY_WINDOW / timedelta(days=1):.2f} days (retention, the last "
                f"segment, the broker's check), plus a margin of {INBOX_MARGIN.days} day"
            )
        return self

    def kafka_credentials(self) -> KafkaCredentials | None:
        if not self.kafka_username:
            return None
        return KafkaCredentials(
            self.kafka_username,
            self.kafka_password.get_secret_value(),
            self.kafka_sasl_mechanism,
            self.kafka_security_protocol,
        )

    @model_validator(mode="after")
    def _a_kafka_user_needs_its_password(self) -> Self:
        if bool(self.kafka_username) != bool(self.kafka_password.get_secret_value()):
            raise ValueError("IMS_KAFKA_USERNAME and IMS_KAFKA_PASSWORD go together")
        return self

    @model_validator(mode="after")
    def _helpers_need_a_port(self) -> Self:
        if self.http_processes > 1 and not self.http_port:
            raise ValueError("IMS_HTTP_PROCESSES above 1 needs an IMS_HTTP_PORT to share")
        return self

    @model_validator(mode="after")
    def _http_needs_a_way_to_verify_tokens(self) -> Self:
        # Without it every authenticated request would fail; say so at startup instead.
        if not self.http_port:
            return self
        if self.auth_mode == "jwks" and not (self.auth_jwks and self.auth_issuer):
            raise ValueError("IMS_AUTH_JWKS and IMS_AUTH_ISSUER must be set when IMS_HTTP_PORT is")
        if self.auth_mode == "demo-hs256" and len(self.auth_secret) < 32:
            raise ValueError("IMS_AUTH_MODE=demo-hs256 needs IMS_AUTH_SECRET (32+ characters)")
        return self
