"""The idempotent consumer: how every service handles one Kafka record.

For each record: decode and validate the CloudEvent; in one transaction claim its id in the
inbox, apply the handler's effect and queue the events it emits; only then let the stream
move on (the offset is committed after the database commit). Records of one partition come
in batches (:meth:`EventProcessor.process_batch`): one transaction claims and applies the
whole batch in offset order; a record that fails is taken out, the others are applied
once, and it is handled alone, as below. Outcomes:

- handled: the effect is committed;
- duplicate: the inbox already holds this event id, nothing happens again;
- dead-lettered: the record can never be processed (not a CloudEvent, an unknown or
  unexpected type, a body that breaks its schema, a handler's ``Refusal`` such as
  ``Rejected``, data the database refuses), or an unexpected error (a bug, e.g. bad
  SQL) persisted through ``UNEXPECTED_TRIES`` tries: it is parked on the dead-letter
  topic, with the reason and the original bytes, and the stream goes on;
- a transient failure (database or broker unreachable, a deadlock) and any failure while
  dead-lettering are retried with backoff for as long as it takes: the record is never
  acknowledged before its effect or its dead letter is committed.

:meth:`EventProcessor.process` never raises (except on cancellation): faust acknowledges a
record whose agent raised, which would silently lose it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

import structlog

from schemas.envelope import Envelope, utc_now
from schemas.events import DEAD_LETTER_VALUE_MAX, DeadLetter, Event, KafkaHeader
from services.common.backoff import DEFAULT_BACKOFF, Backoff
from services.common.codec import InvalidEvent, decode_record
from services.common.failpoints import failpoint, pause_point
from services.common.failures import is_bad_data, is_transient
from services.common.handlers import Handler, Handlers
from services.common.metrics import (
    BATCH_SIZE,
    EVENTS_DEAD_LETTERED,
    EVENTS_DUPLICATE,
    EVENTS_HANDLED,
    RETRIES,
)
from services.common.refusals import Refusal
from services.common.retry import retry_forever
from services.common.uow import Claim, PgUnitOfWork, UnitOfWorkFactory

_log = structlog.get_logger(__name__)

S = TypeVar("S")

DEAD_LETTER = "dead_letter"
# An unexpected handler error (not transient, not a refusal) is tried this often before the
# record is parked: a bug must not stall a partition for ever, nor park on its first blip.
UNEXPECTED_TRIES = 5


class Outcome(Enum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True)
class Record:
    """One Kafka record as it came off the wire."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    # Kafka headers may repeat a key and may have no value.
    headers: tuple[tuple[str, bytes | None], ...] = ()

    @property
    def position_id(self) -> UUID:
        """A stable id for a record whose own event id cannot be read."""
        return uuid5(NAMESPACE_URL, f"kafka:{self.topic}/{self.partition}/{self.offset}")


class EventProcessor(Generic[S]):
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory[S],
        *,
        consumer: str,
        handlers: Handlers[S],
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        self._uow_factory = uow_factory
        self._consumer = consumer
        self._handlers = handlers
        self._backoff = backoff

    @property
    def consumer(self) -> str:
        """The consumer group this processor handles records for."""
        return self._consumer

    async def process(self, record: Record) -> Outcome:
        unexpected = 0

        async def attempt() -> Outcome:
            nonlocal unexpected
            try:
                return await self._process_once(record, give_up=unexpected >= UNEXPECTED_TRIES)
            except Exception as exc:
                if not is_transient(exc):
                    unexpected += 1
                raise

        return await retry_forever(
            attempt,
            component=self._consumer,
            backoff=self._backoff,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
        )

    async def process_batch(self, records: Sequence[Record]) -> list[Outcome]:
        """Records of one partition, in offset order: their outcomes, in the same order.

        Runs of records with a handler are applied in one transaction each; a record that
        cannot be decoded or has no handler splits the run and is dead-lettered alone, in
        its place, so the partition's order of effects is kept. Never raises (except on
        cancellation), like :meth:`process`.
        """
        BATCH_SIZE.labels(self._consumer).observe(len(records))
        outcomes: list[Outcome] = []
        run: list[_Ready[S]] = []
        for record in records:
            ready = self._ready(record)
            if ready is None:
                outcomes += await self._process_run(run)
                run = []
                outcomes.append(await self.process(record))  # the dead letter, in order
            else:
                run.append(ready)
        outcomes += await self._process_run(run)
        return outcomes

    def _ready(self, record: Record) -> _Ready[S] | None:
        """The record with its event and handler, or None if it can never be handled."""
        try:
            envelope = decode_record(record.topic, record.key, record.value)
        except InvalidEvent:
            return None
        handler = self._handlers.handler_for(type(envelope.data))
        return None if handler is None else _Ready(record, envelope, handler)

    async def _process_run(self, run: list[_Ready[S]]) -> list[Outcome]:
        """Apply ``run`` in one transaction, retrying outages for as long as it takes; a
        record whose handler fails otherwise is taken out and handled alone."""
        outcomes: list[Outcome] = []
        attempt = 0
        while run:
            try:
                outcomes += await self._apply(run)
                return outcomes
            except _HandlerFailed as failed:
                # Everything before it again (it rolled back with the failure), then the
                # failing record alone (tries, dead letter), then the rest.
                outcomes += await self._process_run(run[: failed.index])
                outcomes.append(await self.process(run[failed.index].record))
                run = run[failed.index + 1 :]
                attempt = 0
            except Exception as exc:  # transient, or a bug in the mechanics themselves
                attempt += 1
                transient = is_transient(exc)
                RETRIES.labels(self._consumer, "transient" if transient else "unexpected").inc()
                _log.warning(
                    "consumer.batch_retry",
                    consumer=self._consumer,
                    attempt=attempt,
                    error=repr(exc),
                )
                await asyncio.sleep(self._backoff.delay(attempt))
        return outcomes

    async def _apply(self, run: list[_Ready[S]]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        handled: list[str] = []
        async with self._uow_factory.transaction() as transaction:
            fresh = await transaction.claim_many(self._consumer, [r.claim for r in run])
            for index, ready in enumerate(run):
                event_id = ready.envelope.id
                if event_id not in fresh:
                    outcomes.append(Outcome.DUPLICATE)
                    continue
                fresh.discard(event_id)  # the same event twice in one batch: once
                uow = transaction.unit_of_work(
                    correlation_id=ready.envelope.correlationid or event_id,
                    causation_id=event_id,
                )
                try:
                    await ready.handler(uow, ready.envelope)
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    raise _HandlerFailed(index) from exc
                outcomes.append(Outcome.HANDLED)
                handled.append(ready.envelope.type)
                if index == len(run) // 2:
                    await pause_point("consumer.mid_batch")
        for event_type in handled:
            EVENTS_HANDLED.labels(self._consumer, event_type).inc()
        EVENTS_DUPLICATE.labels(self._consumer).inc(outcomes.count(Outcome.DUPLICATE))
        failpoint("consumer.after_commit")
        return outcomes

    async def _process_once(self, record: Record, *, give_up: bool) -> Outcome:
        try:
            envelope = decode_record(record.topic, record.key, record.value)
        except InvalidEvent as exc:
            return await self._dead_letter(record, None, exc)
        handler = self._handlers.handler_for(type(envelope.data))
        if handler is None:
            unexpected_type = InvalidEvent(f"{envelope.type} is not expected by {self._consumer}")
            return await self._dead_letter(record, envelope, unexpected_type)
        try:
            outcome = await self._handle(record, envelope, handler)
        except Exception as exc:
            if is_transient(exc):
                raise  # retried by process() for as long as it takes, never acknowledged
            if not (isinstance(exc, Refusal) or is_bad_data(exc) or give_up):
                raise  # unexpected (a bug?): retried a few times before it is parked
            _log.warning(
                "consumer.refused",
                consumer=self._consumer,
                event_id=str(envelope.id),
                error=repr(exc),
            )
            return await self._dead_letter(record, envelope, exc)
        failpoint("consumer.after_commit")
        return outcome

    async def _handle(
        self, record: Record, envelope: Envelope[Event], handler: Handler[S, Event]
    ) -> Outcome:
        async with self._uow_factory.unit_of_work(
            correlation_id=envelope.correlationid or envelope.id,
            causation_id=envelope.id,
        ) as uow:
            if not await self._claim(uow, envelope.id, record):
                EVENTS_DUPLICATE.labels(self._consumer).inc()
                return Outcome.DUPLICATE
            await handler(uow, envelope)
        EVENTS_HANDLED.labels(self._consumer, envelope.type).inc()
        return Outcome.HANDLED

    async def _dead_letter(
        self, record: Record, envelope: Envelope[Event] | None, exc: Exception
    ) -> Outcome:
        """Queue the record on the dead-letter topic, once, via the outbox."""
        event_id = envelope.id if envelope else record.position_id
        value = record.value or b""
        letter = DeadLetter(
            consumer=self._consumer,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            event_id=envelope.id if envelope else None,
            key_base64=_b64(record.key),
            value_base64=_b64(None if record.value is None else value[:DEAD_LETTER_VALUE_MAX]),
            value_size=len(value),
            value_sha256=hashlib.sha256(value).hexdigest() if record.value is not None else None,
            value_truncated=len(value) > DEAD_LETTER_VALUE_MAX,
            headers=[KafkaHeader(key=k, value_base64=_b64(v)) for k, v in record.headers],
            reason=(str(exc) or type(exc).__name__)[:2000],
            error_type=type(exc).__name__,
            failed_at=utc_now(),
        )
        async with self._uow_factory.unit_of_work(causation_id=event_id) as uow:
            if not await self._claim(uow, event_id, record):
                return Outcome.DUPLICATE
            await uow.emit(
                letter,
                aggregate_type=DEAD_LETTER,
                aggregate_id=str(uuid5(event_id, self._consumer)),
                tenant=envelope.tenant if envelope else "unknown",
            )
        EVENTS_DEAD_LETTERED.labels(self._consumer).inc()
        _log.warning(
            "consumer.dead_lettered",
            consumer=self._consumer,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=letter.reason,
        )
        return Outcome.DEAD_LETTERED

    async def _claim(self, uow: PgUnitOfWork[S], event_id: UUID, record: Record) -> bool:
        return await uow.claim(
            self._consumer,
            event_id,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
        )


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


@dataclass(frozen=True)
class _Ready(Generic[S]):
    """A record that decoded to an event this consumer has a handler for."""

    record: Record
    envelope: Envelope[Event]
    handler: Handler[S, Event]

    @property
    def claim(self) -> Claim:
        r = self.record
        return Claim(self.envelope.id, r.topic, r.partition, r.offset)


class _HandlerFailed(Exception):
    """The handler of the run's record at ``index`` failed, not for a passing outage."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index
