"""Provision a Kafka and a PostgreSQL that run elsewhere (a cluster, containers): every
topic, one database, one role + schema per service. What `ims-stack provision` does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from deploy.stack.config import SERVICES
from deploy.stack.kafka import broker_answers
from deploy.stack.process import StackError
from deploy.stack.provision import provision
from deploy.stack.topics import ALL_TOPICS, ensure_topics
from schemas.topics import topic_name


@dataclass(frozen=True)
class Provisioned:
    database: str
    dsns: dict[str, str]  # service -> postgresql:// URL of its own role
    topics: dict[str, str]  # catalogue name -> physical topic name


async def provision_external(
    bootstrap: str,
    admin_dsn: str,
    *,
    database: str = "ims",
    topic_prefix: str = "",
    replication_factor: int = 1,
    role_secret: str | None = None,
    wait_s: float = 0.0,
) -> Provisioned:
    """Wait (up to `wait_s`) until both answer, then create what is missing. Idempotent."""
    await _wait(lambda: broker_answers(bootstrap), wait_s, f"Kafka at {bootstrap}")
    await _wait(lambda: _postgres_answers(admin_dsn), wait_s, "PostgreSQL")
    await ensure_topics(bootstrap, topic_prefix, replication_factor)
    dsns = await provision(admin_dsn, database, SERVICES, secret=role_secret)
    topics = {t.name: topic_name(t.name, topic_prefix) for t in ALL_TOPICS}
    return Provisioned(database, dsns, topics)


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
