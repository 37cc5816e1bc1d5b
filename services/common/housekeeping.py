"""Pruning the messaging tables, so they stay small however long a service runs.

Sent outbox rows are only kept for inspection. Inbox rows must outlive every chance of a
redelivery: a record stays readable for up to ``schemas.topics.REDELIVERY_WINDOW`` (about 8
days), and settings refuse an inbox retention that does not outlive it with a margin.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import structlog

from services.common.retry import retry_forever

_log = structlog.get_logger(__name__)

BATCH = 5000  # rows per DELETE: short transactions, no long locks


@dataclass(frozen=True)
class Retention:
    sent_outbox: timedelta = timedelta(days=1)
    inbox: timedelta = timedelta(days=14)


async def prune_once(pool: asyncpg.Pool, retention: Retention) -> tuple[int, int]:
    """Delete what is past its retention; returns (outbox rows, inbox rows) deleted."""
    outbox = await _delete_in_batches(
        pool,
        """
        DELETE FROM outbox WHERE position IN (
            SELECT position FROM outbox WHERE sent_at < now() - $1::interval LIMIT $2)
        """,
        retention.sent_outbox,
    )
    inbox = await _delete_in_batches(
        pool,
        """
        DELETE FROM inbox WHERE (consumer, event_id) IN (
            SELECT consumer, event_id FROM inbox WHERE handled_at < now() - $1::interval LIMIT $2)
        """,
        retention.inbox,
    )
    return outbox, inbox


async def _delete_in_batches(pool: asyncpg.Pool, sql: str, age: timedelta) -> int:
    total = 0
    while True:
        async with pool.acquire() as conn:
            status = await conn.execute(sql, age, BATCH)
        deleted = int(status.split()[-1])
        total += deleted
        if deleted < BATCH:
            return total


async def run_housekeeping(
    pool: asyncpg.Pool, retention: Retention, *, interval: float = 600.0
) -> None:
    """Prune every ``interval`` seconds until cancelled."""
    while True:
        outbox, inbox = await retry_forever(
            lambda: prune_once(pool, retention), component="housekeeping"
        )
        if outbox or inbox:
            _log.info("housekeeping.pruned", outbox=outbox, inbox=inbox)
        await asyncio.sleep(interval)
