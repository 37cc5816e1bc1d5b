"""The unit of work: one transaction holding a service's state change, the events that
announce it (outbox) and the record of the event that caused it (inbox).

Because all three commit together or not at all, a crash at any point leaves either the
whole effect with its announcement, or nothing, and a redelivered event is recognised.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from schemas.envelope import Envelope
from schemas.events import Event
from schemas.topics import topic_name
from services.common.codec import build_envelope, encode
from services.common.db import Connection
from services.common.failures import Rejected

# Kafka's default limit is 1 MiB a record; leave room for the record's own overhead.
MAX_EVENT_BYTES = 900 * 1024


class EventTooLarge(Rejected):
    """An event that Kafka would refuse; the change that emits it is refused instead."""


@dataclass(frozen=True)
class Emission:
    """One event to queue, as the next version of its aggregate; its cause, when it is not
    the unit of work's."""

    data: Event
    aggregate_type: str
    aggregate_id: str
    tenant: str
    correlation_id: UUID | None = None
    causation_id: UUID | None = None


class UnitOfWork:
    def __init__(
        self,
        conn: Connection,
        source: str,
        *,
        topic_prefix: str = "",
        correlation_id: UUID | None = None,
        causation_id: UUID | None = None,
    ) -> None:
        self.conn = conn
        self._source = source
        self._topic_prefix = topic_prefix
        self._correlation_id = correlation_id
        self._causation_id = causation_id

    @property
    def correlation_id(self) -> UUID | None:
        """The request the events of this unit of work belong to."""
        return self._correlation_id

    async def claim(
        self, consumer: str, event_id: UUID, *, topic: str, partition: int, offset: int
    ) -> bool:
        """Record that ``consumer`` handles ``event_id``; False if it already did."""
        inserted = await self.conn.fetchval(
            """
            INSERT INTO inbox (consumer, event_id, topic, kafka_partition, kafka_offset)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (consumer, event_id) DO NOTHING
            RETURNING true
            """,
            consumer,
            event_id,
            topic,
            partition,
            offset,
        )
        return bool(inserted)

    async def claim_many(
        self, consumer: str, claims: Sequence[tuple[UUID, str, int, int]]
    ) -> set[UUID]:
        """Record that ``consumer`` handles each (event id, topic, partition, offset), in one
        statement; the ids it had not handled yet."""
        rows = await self.conn.fetch(
            """
            INSERT INTO inbox (consumer, event_id, topic, kafka_partition, kafka_offset)
            SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::int[], $5::bigint[])
            ON CONFLICT (consumer, event_id) DO NOTHING
            RETURNING event_id
            """,
            consumer,
            [c[0] for c in claims],
            [c[1] for c in claims],
            [c[2] for c in claims],
            [c[3] for c in claims],
        )
        return {row["event_id"] for row in rows}

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
        sequence = await self.conn.fetchval(
            """
            INSERT INTO aggregate_versions (aggregate_type, aggregate_id, version)
            VALUES ($1, $2, 1)
            ON CONFLICT (aggregate_type, aggregate_id)
                DO UPDATE SET version = aggregate_versions.version + 1
            RETURNING version
            """,
            aggregate_type,
            aggregate_id,
        )
        envelope = build_envelope(
            data,
            source=self._source,
            subject=aggregate_id,
            tenant=tenant,
            sequence=int(sequence),
            correlation_id=self._correlation_id,
            causation_id=self._causation_id,
        )
        payload = encode(envelope)
        if len(payload) > MAX_EVENT_BYTES:
            # Caught here, in the transaction, rather than by the relay, where an event
            # Kafka refuses would hold up every event behind it.
            raise EventTooLarge(f"{data.NAME} of {len(payload)} bytes exceeds {MAX_EVENT_BYTES}")
        await self.conn.execute(
            "INSERT INTO outbox (event_id, topic, message_key, payload) VALUES ($1, $2, $3, $4)",
            envelope.id,
            # The physical topic: any relay of the service can send the row as it is.
            topic_name(data.NAME, self._topic_prefix),
            aggregate_id,
            payload,
        )
        return envelope

    async def emit_many(self, emissions: Sequence[Emission]) -> list[Envelope[Event]]:
        """Queue many events, each the next version of its aggregate, in two statements
        whatever their number (a batch share of 1,280 offers is not 2,560 round trips)."""
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
        payloads: list[bytes] = []
        for emission, key in zip(emissions, keys, strict=True):
            envelope = build_envelope(
                emission.data,
                source=self._source,
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
            envelopes.append(envelope)
            payloads.append(payload)
        await self.conn.execute(
            """
            INSERT INTO outbox (event_id, topic, message_key, payload)
            SELECT id, topic, message_key, payload
            FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[])
                WITH ORDINALITY AS e(id, topic, message_key, payload, n)
            ORDER BY n  -- positions in the order given
            """,
            [e.id for e in envelopes],
            [topic_name(e.data.NAME, self._topic_prefix) for e in emissions],
            [e.aggregate_id for e in emissions],
            payloads,
        )
        return envelopes


@dataclass(frozen=True)
class UnitOfWorkFactory:
    """Opens a service's units of work: its pool, its event source, its topic prefix."""

    pool: asyncpg.Pool
    source: str
    topic_prefix: str = ""

    @asynccontextmanager
    async def unit_of_work(
        self, *, correlation_id: UUID | None = None, causation_id: UUID | None = None
    ) -> AsyncIterator[UnitOfWork]:
        """Open a transaction; it commits when the block ends and rolls back if it raises."""
        async with self.transaction() as conn:
            yield self.within(conn, correlation_id=correlation_id, causation_id=causation_id)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A transaction for several units of work that commit together (see ``within``)."""
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn

    def within(
        self,
        conn: Connection,
        *,
        correlation_id: UUID | None = None,
        causation_id: UUID | None = None,
    ) -> UnitOfWork:
        """A unit of work inside a transaction opened by ``transaction``: its events carry
        their own cause, and commit (or roll back) with everything else in it."""
        return UnitOfWork(
            conn,
            self.source,
            topic_prefix=self.topic_prefix,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
