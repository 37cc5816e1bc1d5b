"""The outbox relay: sends committed outbox rows to Kafka, in order, at least once.

One relay of a service sends at a time: the one holding the lease (``outbox_relay``), so
the order of the outbox, and so of each aggregate's events, is kept. It sends batches of up
to 1,000 rows, oldest first, and marks them sent only after Kafka acknowledged them
(idempotent producer, ``acks=all``); a relay that dies in between leaves them unsent and
the next one sends them again, which consumers recognise by event id (inbox). No
transaction stays open while Kafka acks: a frozen instance holds no lock, only the lease,
which another instance takes once it runs out (or at once when the holder crashed).
NOTIFY from the outbox trigger wakes the relay; a short poll covers a missed one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from uuid import uuid4

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer

from services.common import outbox
from services.common.backoff import DEFAULT_BACKOFF, Backoff
from services.common.db import Connection
from services.common.failpoints import failpoint
from services.common.kafka_auth import KafkaCredentials, client_options
from services.common.metrics import OUTBOX_OLDEST_AGE, OUTBOX_PENDING, OUTBOX_SENT
from services.common.retry import retry_forever
from services.common.wake import every, run_woken

_log = structlog.get_logger(__name__)

BACKLOG_EVERY_S = 2.0  # how often the backlog metrics are refreshed while it drains
LEASE_MARGIN_S = 15.0  # the relay's lease outlasts its longest batch by this much


def notify_channel(schema: str) -> str:
    """The LISTEN channel that the outbox trigger of ``schema`` notifies (see migrations)."""
    return f"{schema}_outbox"


def create_producer(
    bootstrap: str, request_timeout_s: float = 30.0, credentials: KafkaCredentials | None = None
) -> AIOKafkaProducer:
    """The idempotent producer: no duplicates from retries, no loss on leader failover.

    A send the broker has not acknowledged within ``request_timeout_s`` fails, and the
    relay retries its batch (rows stay unsent until acknowledged)."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        request_timeout_ms=int(request_timeout_s * 1000),
        **client_options(credentials),
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
        # Longer than one batch can take, so a live relay never loses it mid-batch.
        self._lease_seconds = ack_timeout + LEASE_MARGIN_S
        self._backlog_observed = 0.0
        self._poll_interval = poll_interval
        self._backoff = backoff
        self._owner = uuid4()  # this relay's name on the lease

    async def run(self) -> None:
        """Relay until cancelled; every failure is retried with backoff."""
        try:
            await retry_forever(self._listen_and_relay, component="relay", backoff=self._backoff)
        finally:
            with contextlib.suppress(Exception):
                async with self._pool.acquire(timeout=2) as conn:
                    await outbox.release_lease(conn, self._owner)

    async def _listen_and_relay(self) -> None:
        async def step(listener: Connection) -> bool:
            # The lease names the listener's session: gone with a crashed process, it frees
            # the lease.
            return await self.relay_once(listener.get_server_pid()) == self._batch_size

        await run_woken(self._pool, notify_channel(self._schema), step, every(self._poll_interval))

    async def relay_once(self, holder_pid: int) -> int:
        """Send one batch of unsent rows, if this relay holds the lease; returns how many
        were sent and marked."""
        async with self._pool.acquire() as conn:
            if not await outbox.hold_lease(conn, self._owner, holder_pid, self._lease_seconds):
                return 0  # another relay of this service is sending
            events = await outbox.read_unsent(conn, self._batch_size)
            if events:
                deliveries = [
                    await self._producer.send(e.topic, value=e.payload, key=e.key) for e in events
                ]
                # Bounded: with the broker gone the producer would wait for it
                # indefinitely. Timing out leaves the rows unsent, shows the outage (retry
                # metric, log) and retries; a batch the producer still delivers later is
                # sent again, which consumers recognise by its event ids.
                await asyncio.wait_for(asyncio.gather(*deliveries), self._ack_timeout)
                failpoint("relay.after_send")
                await outbox.mark_sent(conn, [e.position for e in events])
            if len(events) < self._batch_size or self._backlog_due():
                await self._observe_backlog(conn)
        OUTBOX_SENT.labels(self._schema).inc(len(events))
        return len(events)

    def _backlog_due(self) -> bool:
        return time.monotonic() - self._backlog_observed >= BACKLOG_EVERY_S

    async def _observe_backlog(self, conn: Connection) -> None:
        """How many wait and how long the oldest has waited (a count is not free: while a
        backlog drains, at most every few seconds)."""
        pending, age = await outbox.backlog(conn)
        OUTBOX_PENDING.labels(self._schema).set(pending)
        OUTBOX_OLDEST_AGE.labels(self._schema).set(age)
        self._backlog_observed = time.monotonic()
