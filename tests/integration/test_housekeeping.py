"""Housekeeping prunes sent outbox rows and old inbox rows, and nothing else."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from services.common.db import create_pool
from services.common.housekeeping import Retention, prune_once
from tests.infra import TestStack


async def test_prunes_only_what_is_past_its_retention(quiet_deployment: TestStack) -> None:
    pool = await create_pool(quiet_deployment.dsns["notifier"], "notifier")
    old_sent, old_unsent, new_sent = uuid4(), uuid4(), uuid4()
    old_handled, new_handled = uuid4(), uuid4()
    try:
        async with pool.acquire() as conn:
            await conn.executemany(
                """
                INSERT INTO outbox (event_id, topic, message_key, payload, created_at, sent_at)
                VALUES ($1, 't', 'k', '\\x00', now() - $2::interval, now() - $3::interval)
                """,
                [
                    (old_sent, timedelta(days=3), timedelta(days=2)),
                    (new_sent, timedelta(hours=2), timedelta(hours=1)),
                ],
            )
            # Never sent: kept however old, the relay still owes it to Kafka.
            await conn.execute(
                """
                INSERT INTO outbox (event_id, topic, message_key, payload, created_at)
                VALUES ($1, 't', 'k', '\\x00', now() - interval '30 days')
                """,
                old_unsent,
            )
            await conn.executemany(
                """
                INSERT INTO inbox (consumer, event_id, topic, kafka_partition, kafka_offset,
                                   handled_at)
                VALUES ('c', $1, 't', 0, 0, now() - $2::interval)
                """,
                [(old_handled, timedelta(days=20)), (new_handled, timedelta(days=6))],
            )

        deleted = await prune_once(pool, Retention(timedelta(days=1), timedelta(days=14)))

        async with pool.acquire() as conn:
            outbox = {r["event_id"] for r in await conn.fetch("SELECT event_id FROM outbox")}
            inbox = {r["event_id"] for r in await conn.fetch("SELECT event_id FROM inbox")}
        assert deleted == (1, 1)
        assert outbox == {old_unsent, new_sent}
        assert inbox == {new_handled}
    finally:
        await pool.close()
