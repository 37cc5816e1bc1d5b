"""The unit of work: one transaction holding a service's state change, the events that
announce it (outbox) and the record of the event that caused it (inbox).

Because all three commit together or not at all, a crash at any point leaves either the
whole effect with its announcement, or nothing, and a redelivered event is recognised.

A :class:`Transaction` may hold the units of work of several events (a consumer's batch):
they commit together, and their outbox rows are written in one statement at the end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

import asyncpg

from schemas.envelope import Envelope, utc_now
from schemas.events import Event
from schemas.topics import topic_name
from services.common.codec import build_envelope, encode
from services.common.consistency import Position
from services.common.db import Connection
from services.common.failures import Rejected
from services.common.ports import Clock, Emission

S = TypeVar("S")
# Makes a service's store on the connection of a unit of work (or of a read).
StoreFactory = Callable[[Connection], S]

__all__ = ["Emission", "PgUnitOfWork", "Transaction", "UnitOfWorkFactory"]

# Kafka's default limit is 1 MiB a record; leave room for the record's own overhead.
MAX_EVENT_BYTES = 900 * 1024


class EventTooLarge(Rejected):
    """An event that Kafka would refuse; the change that emits it is refused instead."""


@dataclass(frozen=True)
class OutboxRow:
    event_id: UUID
    topic: str  # the physical topic: any relay of the service can send the row as it is
    message_key: str
    payload: bytes


class Transaction(Generic[S]):
    """One database transaction, shared by the units of work of a batch of events: their
    outbox rows are written together, in order, in one statement when it commits."""

    def __init__(
        self, conn: Connection, source: str, topic_prefix: str, store: S, clock: Clock
    ) -> None:
        self.conn = conn
        self.source = source  # of the events its units of work emit
        self.topic_prefix = topic_prefix
        self.store = store
        self.clock = clock
        self._outbox: list[OutboxRow] = []

    def unit_of_work(
        self, *, correlation_id: UUID | None = None, causation_id: UUID | None = None
    ) -> PgUnitOfWork[S]:
        return PgUnitOfWork(self, correlation_id=correlation_id, causation_id=causation_id)

    def queue(self, row: OutboxRow) -> None:
        self._outbox.append(row)

    async def claim_many(self, consumer: str, claims: Sequence[Claim]) -> set[UUID]:
        """Record that ``consumer`` handles these events; returns the ids it had not yet."""
        rows = await self.conn.fetch(
            """
            INSERT INTO inbox (consumer, event_id, topic, kafka_partition, kafka_offset)
            SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::int[], $5::bigint[])
            ON CONFLICT (consumer, event_id) DO NOTHING
            RETURNING event_id
            """,
            consumer,
            [c.event_id for c in claims],
            [c.topic for c in claims],
            [c.partition for c in claims],
            [c.offset for c in claims],
        )
        return {row["event_id"] for row in rows}

    async def flush(self) -> None:
        """Write the queued outbox rows (one statement, in the order they were emitted)."""
        if not self._outbox:
            return
        rows, self._outbox = self._outbox, []
        await self.conn.execute(
            """
            INSERT INTO outbox (event_id, topic, message_key, payload)
            SELECT event_id, topic, message_key, payload
            FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[])
                WITH ORDINALITY AS r(event_id, topic, message_key, payload, n)
            ORDER BY n  -- positions follow the order the events were emitted in
            """,
            [r.event_id for r in rows],
            [r.topic for r in rows],
            [r.message_key for r in rows],
            [r.payload for r in rows],
        )


@dataclass(frozen=True)
class Claim:
    """An event a consumer is about to handle, where it came from."""

    event_id: UUID
    topic: str
    partition: int
    offset: int


class PgUnitOfWork(Generic[S]):
    """The :class:`services.common.ports.UnitOfWork` of PostgreSQL: what one event's handler
    (or one API call) changes (state, outbox rows, versions), in one transaction."""

    def __init__(
        self,
        transaction: Transaction[S],
        *,
        correlation_id: UUID | None = None,
        causation_id: UUID | None = None,
    ) -> None:
        self.conn = transaction.conn
        self._transaction = transaction
        self._correlation_id = correlation_id
        self._causation_id = causation_id
        # What this unit of work queued, for the writer's read-after token.
        self.emitted: list[Position] = []

    @property
    def store(self) -> S:
        return self._transaction.store

    @property
    def correlation_id(self) -> UUID | None:
        """The request the events of this unit of work belong to."""
        return self._correlation_id

    def now(self) -> datetime:
        return self._transaction.clock()

    async def claim(
        self, consumer: str, event_id: UUID, *, topic: str, partition: int, offset: int
    ) -> bool:
        """Record that ``consumer`` handles ``event_id``; False if it already did."""
        claimed = await self._transaction.claim_many(
            consumer, [Claim(event_id, topic, partition, offset)]
        )
        return event_id in claimed

    async def apply_version(self, aggregate_type: str, aggregate_id: str, sequence: int) -> bool:
        """Advance the aggregate to ``sequence``; False when the fact is stale (not newer).

        The row lock taken here also serialises concurrent handlers of one aggregate.
        """
        applied = await self.conn.fetchval(
            """
            INSERT INTO aggregate_versions (aggregate_type, aggregate_id, version)
            VALUES ($1, $2, $3)
            ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET version = EXCLUDED.version
                WHERE aggregate_versions.version < EXCLUDED.version
            RETURNING true
            """,
            aggregate_type,
            aggregate_id,
            sequence,
        )
        return bool(applied)

    async def emit(
        self, data: Event, *, aggregate_type: str, aggregate_id: str, tenant: str
    ) -> Envelope[Event]:
        """Queue ``data`` in the outbox as the aggregate's next version."""
        [envelope] = await self.emit_many([Emission(data, aggregate_type, aggregate_id, tenant)])
        return envelope

    async def emit_many(self, emissions: Sequence[Emission]) -> list[Envelope[Event]]:
        """Queue many events, each the next version of its aggregate, with one statement
        for all their versions (a batch share of 1,280 offers is not 1,280 round trips)."""
        keys = [(e.aggregate_type, e.aggregate_id) for e in emissions]
        if len(set(keys)) != len(keys):
            # One statement cannot advance a line twice: one at a time keeps each order.
            return [envelope for e in emissions for envelope in await self.emit_many([e])]
        if not emissions:
            return []
        rows = await self.conn.fetch(
            """
            INSERT INTO aggregate_versions (aggregate_type, aggregate_id, version)
            SELECT kind, id, 1 FROM unnest($1::text[], $2::text[]) AS a(kind, id)
            ORDER BY kind, id  -- rows locked in one order by every batch
            ON CONFLICT (aggregate_type, aggregate_id)
                DO UPDATE SET version = aggregate_versions.version + 1
            RETURNING aggregate_type, aggregate_id, version
            """,
            [kind for kind, _ in keys],
            [key for _, key in keys],
        )
        versions = {(row[0], row[1]): int(row[2]) for row in rows}
        envelopes: list[Envelope[Event]] = []
        for emission, key in zip(emissions, keys, strict=True):
            envelope = build_envelope(
                emission.data,
                source=self._transaction.source,
                subject=emission.aggregate_id,
                tenant=emission.tenant,
                sequence=versions[key],
                correlation_id=emission.correlation_id or self._correlation_id,
                causation_id=emission.causation_id or self._causation_id,
            )
            payload = encode(envelope)
            if len(payload) > MAX_EVENT_BYTES:
                name = emission.data.NAME
                raise EventTooLarge(f"{name} of {len(payload)} bytes exceeds {MAX_EVENT_BYTES}")
            self._transaction.queue(
                OutboxRow(
                    envelope.id,
                    topic_name(emission.data.NAME, self._transaction.topic_prefix),
                    emission.aggregate_id,
                    payload,
                )
            )
            envelopes.append(envelope)
            self.emitted.append(
                Position(emission.data.NAME, emission.aggregate_type, emission.aggregate_id,
                         versions[key])
            )  # fmt: skip
        return envelopes


@dataclass(frozen=True)
class UnitOfWorkFactory(Generic[S]):
    """Opens a service's units of work: its pool, its event source, its topic prefix, and
    how its store is made on a connection."""

    pool: asyncpg.Pool
    source: str
    store: StoreFactory[S]
    topic_prefix: str = ""
    clock: Clock = utc_now

    @asynccontextmanager
    async def unit_of_work(
        self, *, correlation_id: UUID | None = None, causation_id: UUID | None = None
    ) -> AsyncIterator[PgUnitOfWork[S]]:
        """Open a transaction; it commits when the block ends and rolls back if it raises."""
        async with self.transaction() as transaction:
            yield transaction.unit_of_work(correlation_id=correlation_id, causation_id=causation_id)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction[S]]:
        """A transaction for several units of work (a batch of events): it commits, with
        every outbox row they queued, when the block ends, and rolls back if it raises."""
        async with self.pool.acquire() as conn, conn.transaction():
            transaction = Transaction(
                conn, self.source, self.topic_prefix, self.store(conn), self.clock
            )
            yield transaction
            await transaction.flush()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[S]:
        """The store on a pooled connection outside any transaction: for reads that change
        nothing (an API's lists and details)."""
        async with self.pool.acquire() as conn:
            yield self.store(conn)
