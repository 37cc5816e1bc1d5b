"""The outbox table as the relay sees it: unsent rows, marking them sent, the relay's lease.

Every statement here runs on its own (autocommit): the relay never keeps a transaction
open while it waits for Kafka, so an instance frozen mid-way holds no lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from services.common.db import Connection


@dataclass(frozen=True)
class UnsentEvent:
    position: int
    topic: str
    key: bytes
    payload: bytes


async def hold_lease(conn: Connection, owner: UUID, holder_pid: int, seconds: float) -> bool:
    """Take or renew the right to send for ``seconds``; False while another relay holds it.

    The lease is free when it ran out, or at once when the database session that holds
    it is gone (its process crashed): a frozen relay keeps it until it runs out.
    """
    held = await conn.fetchval(
        """
        UPDATE outbox_relay
        SET owner = $1, holder_pid = $2,
            lease_until = clock_timestamp() + make_interval(secs => $3)
        WHERE owner = $1 OR owner IS NULL OR lease_until < clock_timestamp()
            OR NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = holder_pid)
        RETURNING true
        """,
        owner,
        holder_pid,
        seconds,
    )
    return bool(held)


async def release_lease(conn: Connection, owner: UUID) -> None:
    """Let another relay take over at once (a clean shutdown)."""
    await conn.execute("UPDATE outbox_relay SET lease_until = '-infinity' WHERE owner = $1", owner)


async def read_unsent(conn: Connection, limit: int) -> list[UnsentEvent]:
    """The oldest unsent rows, in outbox order (picked by their flag, not a high-water
    mark: a row committed late, with a lower position, is still picked)."""
    rows = await conn.fetch(
        """
        SELECT position, topic, message_key, payload FROM outbox
        WHERE sent_at IS NULL ORDER BY position LIMIT $1
        """,
        limit,
    )
    return [
        UnsentEvent(r["position"], r["topic"], r["message_key"].encode(), bytes(r["payload"]))
        for r in rows
    ]


async def mark_sent(conn: Connection, positions: list[int]) -> None:
    await conn.execute(
        "UPDATE outbox SET sent_at = clock_timestamp() WHERE position = ANY($1::bigint[])",
        positions,
    )


async def backlog(conn: Connection) -> tuple[int, float]:
    """How many rows wait, and for how many seconds the oldest has waited."""
    row = await conn.fetchrow(
        """
        SELECT count(*) AS pending,
               coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0) AS age
        FROM outbox WHERE sent_at IS NULL
        """
    )
    assert row is not None
    return int(row["pending"]), float(row["age"])
