"""Provision a Kafka and a PostgreSQL that run elsewhere (a cluster, containers): every
topic, one database, one role + schema per service, and on an authenticating broker a
SCRAM user per principal and the catalogue's ACLs. What `ims-stack provision` does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg

from deploy.stack.config import SERVICES
from deploy.stack.kafka import broker_answers
from deploy.stack.kafka_access import ADMIN, credentials, passwords, provision_kafka
from deploy.stack.process import StackError
from deploy.stack.provision import provision
from deploy.stack.topics import ALL_TOPICS
from schemas.topics import PRINCIPALS, topic_name


@dataclass(frozen=True)
class Provisioned:
    database: str
    dsns: dict[str, str]  # service -> postgresql:// URL of its own role
    topics: dict[str, str]  # catalogue name -> physical topic name
    # principal -> SCRAM password (derived from the admin's); empty on an open broker
    kafka_passwords: dict[str, str] = field(default_factory=dict)


async def provision_external(
    bootstrap: str,
    admin_dsn: str,
    *,
    database: str = "ims",
    topic_prefix: str = "",
    replication_factor: int = 1,
    role_secret: str | None = None,
    kafka_admin_password: str | None = None,
    wait_s: float = 0.0,
) -> Provisioned:
    """Wait (up to `wait_s`) until both answer, then create what is missing. Idempotent.

    With ``kafka_admin_password`` (the broker's super user ``admin``, made when its storage
    was formatted) the broker is an authenticating one: every principal's user and the
    ACLs are set too, and the passwords come back for the processes' settings."""
    secrets = passwords(kafka_admin_password) if kafka_admin_password else None
    admin = credentials(secrets, ADMIN) if secrets else None
    await _wait(
        lambda: broker_answers(bootstrap, credentials=admin), wait_s, f"Kafka at {bootstrap}"
    )
    await _wait(lambda: _postgres_answers(admin_dsn), wait_s, "PostgreSQL")
    await provision_kafka(bootstrap, secrets, topic_prefix, replication_factor)
    dsns = await provision(admin_dsn, database, SERVICES, secret=role_secret)
    topics = {t.name: topic_name(t.name, topic_prefix) for t in ALL_TOPICS}
    users = {name: secrets[name] for name in PRINCIPALS} if secrets else {}
    return Provisioned(database, dsns, topics, users)


async def _wait(probe: Callable[[], Awaitable[bool]], wait_s: float, what: str) -> None:
    deadline = time.monotonic() + wait_s
    while not await probe():
        if time.monotonic() >= deadline:
            raise StackError(f"{what} did not answer within {wait_s:.0f}s")
        await asyncio.sleep(0.5)


async def _postgres_answers(dsn: str) -> bool:
    try:
        conn = await asyncio.wait_for(asyncpg.connect(dsn), 5.0)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    try:
        return bool(await conn.fetchval("SELECT 1") == 1)
    finally:
        await conn.close()
