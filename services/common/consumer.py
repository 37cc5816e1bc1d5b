"""The idempotent consumer: how every service handles one Kafka record.

For each record: decode and validate the CloudEvent; in one transaction claim its id in the
inbox, apply the handler's effect and queue the events it emits; only then let the stream
move on (the offset is committed after the database commit). Outcomes:

- handled: the effect is committed;
- duplicate: the inbox already holds this event id, nothing happens again;
- dead-lettered: the record can never be processed (not a CloudEvent, an unknown or
  unexpected type, a body that breaks its schema, a handler that refused it): it is parked
  on the dead-letter topic, with the reason and the original bytes, and the stream goes on;
- any other failure (database or broker unreachable, a missing table, a failure while
  dead-lettering) is retried with backoff for as long as it takes: the record is never
  acknowledged before its effect or its dead letter is committed.

:meth:`EventProcessor.process` never raises (except on cancellation): faust acknowledges a
record whose agent raised, which would silently lose it.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import structlog

from schemas.envelope import Envelope, utc_now
from schemas.events import DeadLetter, Event
from services.common.backoff import DEFAULT_BACKOFF, Backoff
from services.common.codec import InvalidEvent, decode
from services.common.db import is_transient
from services.common.failpoints import failpoint
from services.common.metrics import EVENTS_DEAD_LETTERED, EVENTS_DUPLICATE, EVENTS_HANDLED
from services.common.retry import retry_forever
from services.common.uow import Messaging, UnitOfWork

_log = structlog.get_logger(__name__)

Handler = Callable[[UnitOfWork, Envelope[Any]], Awaitable[None]]


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
    headers: Mapping[str, bytes] = field(default_factory=dict)

    @property
    def position_id(self) -> UUID:
        """A stable id for a record whose own event id cannot be read."""
        return uuid5(NAMESPACE_URL, f"kafka:{self.topic}/{self.partition}/{self.offset}")


class EventProcessor:
    def __init__(
        self,
        messaging: Messaging,
        *,
        consumer: str,
        handlers: Mapping[type[Event], Handler],
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        self._messaging = messaging
        self._consumer = consumer
        self._handlers = handlers
        self._backoff = backoff

    async def process(self, record: Record) -> Outcome:
        return await retry_forever(
            lambda: self._process_once(record),
            component=self._consumer,
            backoff=self._backoff,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
        )

    async def _process_once(self, record: Record) -> Outcome:
        try:
            envelope = decode(record.value)
            handler = self._handlers.get(type(envelope.data))
            if handler is None:
                raise InvalidEvent(f"{envelope.type} is not expected by {self._consumer}")
        except InvalidEvent as exc:
            return await self._dead_letter(record, None, exc)
        try:
            outcome = await self._handle(record, envelope, handler)
        except Exception as exc:
            if is_transient(exc):
                raise  # retried by process(), never acknowledged
            # A permanent failure of this record (the handler refused it): park it, move on.
            _log.exception(
                "consumer.handler_failed", consumer=self._consumer, event=str(envelope.id)
            )
            return await self._dead_letter(record, envelope, exc)
        failpoint("consumer.after_commit")
        return outcome

    async def _handle(self, record: Record, envelope: Envelope[Any], handler: Handler) -> Outcome:
        async with self._messaging.unit_of_work(
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
        self, record: Record, envelope: Envelope[Any] | None, exc: Exception
    ) -> Outcome:
        """Queue the record on the dead-letter topic, once, via the outbox."""
        event_id = envelope.id if envelope else record.position_id
        letter = DeadLetter(
            consumer=self._consumer,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key_base64=_b64(record.key),
            value_base64=_b64(record.value),
            headers={k: v.decode(errors="replace") for k, v in record.headers.items()},
            reason=str(exc) or type(exc).__name__,
            error_type=type(exc).__name__,
            failed_at=utc_now(),
        )
        async with self._messaging.unit_of_work(causation_id=event_id) as uow:
            if not await self._claim(uow, event_id, record):
                return Outcome.DUPLICATE
            await uow.emit(
                letter,
                aggregate_type="dead_letter",
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

    async def _claim(self, uow: UnitOfWork, event_id: UUID, record: Record) -> bool:
        return await uow.claim(
            self._consumer,
            event_id,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
        )


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()
