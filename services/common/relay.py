"""The outbox relay: sends committed outbox rows to Kafka, in order, at least once.

A batch (up to 1,000 rows, oldest first) is read inside a transaction that holds a
per-schema advisory lock, so only one relay of a service sends at a time and the order of
the outbox (and so of each aggregate's events) is kept. Rows are marked sent only after
Kafka acknowledged them (idempotent producer, ``acks=all``); a relay that dies in between
leaves them unsent and the next one sends them again, which consumers recognise by event
id (inbox). NOTIFY from the outbox trigger wakes the relay; a short poll covers a missed one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer

from services.common.backoff import DEFAULT_BACKOFF, Backoff
from services.common.db import Connection
from services.common.failpoints import failpoint
from services.common.metrics import OUTBOX_OLDEST_AGE, OUTBOX_PENDING, OUTBOX_SENT
from services.common.retry import retry_forever

_log = structlog.get_logger(__name__)

BACKLOG_EVERY_S = 2.0  # how often the backlog metrics are refreshed while it drains


def notify_channel(schema: str) -> str:
    """The LISTEN channel that the outbox trigger of ``schema`` notifies (see migrations)."""
    return f"{schema}_outbox"


def create_producer(bootstrap: str, request_timeout_s: float = 30.0) -> AIOKafkaProducer:
    """The idempotent producer: no duplicates from retries, no loss on leader failover.

    A send the broker has not acknowledged within ``request_timeout_s`` fails, and the
    relay retries its batch (rows stay unsent until acknowledged)."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        request_timeout_ms=int(request_timeout_s * 1000),
    )


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        *,
        schema: str,
        batch_size: int = 1000,
        poll_interval: float = 1.0,
        ack_timeout: float = 30.0,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._schema = schema
        self._batch_size = batch_size
        self._ack_timeout = ack_timeout
        self._backlog_observed = 0.0
        self._poll_interval = poll_interval
        self._backoff = backoff
        self._wake = asyncio.Event()
        # One lock id per schema: relays of other services never wait for each other.
        self._lock_id = zlib.crc32(f"ims-outbox-{schema}".encode())

    async def run(self) -> None:
        """Relay until cancelled; every failure is retried with backoff."""
        await retry_forever(self._listen_and_relay, component="relay", backoff=self._backoff)

    async def _listen_and_relay(self) -> None:
        listener = await self._pool.acquire()
        channel = notify_channel(self._schema)
        try:
            await listener.add_listener(channel, self._on_notify)
            while True:
                # Cleared before the batch: a NOTIFY that arrives during it wakes the next.
                self._wake.clear()
                sent = await self.relay_once()
                if sent == self._batch_size:
                    continue  # more are waiting
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval)
        finally:
            await listener.remove_listener(channel, self._on_notify)
            await self._pool.release(listener)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def relay_once(self) -> int:
        """Send one batch of unsent rows; returns how many were sent and marked."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", self._lock_id):
                return 0  # another relay of this service is sending
            # No row locks needed: only the lock holder sends, and nothing else changes an
            # unsent row (housekeeping deletes sent ones only).
            rows = await conn.fetch(
                """
                SELECT position, topic, message_key, payload FROM outbox
                WHERE sent_at IS NULL ORDER BY position LIMIT $1
                """,
                self._batch_size,
            )
            if rows:
                deliveries = [
                    await self._producer.send(
                        row["topic"],
                        value=bytes(row["payload"]),
                        key=row["message_key"].encode(),
                    )
                    for row in rows
                ]
                # Bounded: with the broker gone the producer would wait for it
                # indefinitely, holding this transaction open. Timing out rolls back (the
                # rows stay unsent), shows the outage (retry metric, log) and retries; a
                # batch the producer still delivers later is sent again, which consumers
                # recognise by its event ids.
                await asyncio.wait_for(asyncio.gather(*deliveries), self._ack_timeout)
                failpoint("relay.after_send")
                await conn.execute(
                    "UPDATE outbox SET sent_at = clock_timestamp() "
                    "WHERE position = ANY($1::bigint[])",
                    [row["position"] for row in rows],
                )
            if len(rows) < self._batch_size or self._backlog_due():
                await self._observe_backlog(conn)
        OUTBOX_SENT.labels(self._schema).inc(len(rows))
        return len(rows)

    def _backlog_due(self) -> bool:
        return time.monotonic() - self._backlog_observed >= BACKLOG_EVERY_S

    async def _observe_backlog(self, conn: Connection) -> None:
        """How many wait and how long the oldest has waited (a count is not free: while a
        backlog drains, at most every few seconds)."""
        row = await conn.fetchrow(
            """
            SELECT count(*) AS pending,
                   coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0) AS age
            FROM outbox WHERE sent_at IS NULL
            """
        )
        assert row is not None
        OUTBOX_PENDING.labels(self._schema).set(row["pending"])
        OUTBOX_OLDEST_AGE.labels(self._schema).set(float(row["age"]))
        self._backlog_observed = time.monotonic()
