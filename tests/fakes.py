"""Fakes of the ports (:mod:`services.common.ports`): a unit of work, its outbox and a
clock, in memory, so that a service's rules and handlers are tested in milliseconds.

They keep the promises the real ones make: ``apply_version`` refuses a fact that is not
newer; ``emit`` gives each aggregate's events versions 1, 2, 3, ... and refuses one too
large for Kafka; the events of a unit of work reach ``FakeOutbox.events`` only when it
commits (``FakeUnitOfWorkFactory``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar
from uuid import UUID, uuid4

from schemas.envelope import Envelope
from schemas.events import Event
from services.common.codec import build_envelope, encode
from services.common.ports import Emission
from services.common.uow import MAX_EVENT_BYTES, EventTooLarge

S = TypeVar("S")
E = TypeVar("E", bound=Event)


@dataclass
class FakeClock:
    """A clock that moves only when told to."""

    at: datetime = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> datetime:
        self.at += timedelta(seconds=seconds)
        return self.at


@dataclass
class FakeOutbox:
    """What was emitted and committed, and the version lines."""

    events: list[Envelope[Event]] = field(default_factory=list)
    versions: dict[tuple[str, str], int] = field(default_factory=dict)

    def of_type(self, event_type: type[E]) -> list[E]:
        return [e.data for e in self.events if isinstance(e.data, event_type)]


class FakeUnitOfWork(Generic[S]):
    """The :class:`services.common.ports.UnitOfWork` of the tests: ``store`` is a service's
    fake store; emitted events wait in ``pending`` until :meth:`commit`."""

    def __init__(
        self,
        store: S,
        *,
        outbox: FakeOutbox | None = None,
        clock: FakeClock | None = None,
        correlation_id: UUID | None = None,
        source: str = "/ims/test",
    ) -> None:
        self._store = store
        self.outbox = outbox if outbox is not None else FakeOutbox()
        self.clock = clock or FakeClock()
        self._correlation_id = correlation_id
        self._source = source
        self._versions = dict(self.outbox.versions)
        self.pending: list[Envelope[Event]] = []

    @property
    def store(self) -> S:
        return self._store

    @property
    def correlation_id(self) -> UUID | None:
        return self._correlation_id

    @property
    def emitted(self) -> list[Event]:
        """The bodies emitted so far (committed or not)."""
        return [e.data for e in self.pending]

    def now(self) -> datetime:
        return self.clock()

    async def apply_version(self, aggregate_type: str, aggregate_id: str, sequence: int) -> bool:
        key = (aggregate_type, aggregate_id)
        if self._versions.get(key, 0) >= sequence:
            return False
        self._versions[key] = sequence
        return True

    async def emit(
        self, data: Event, *, aggregate_type: str, aggregate_id: str, tenant: str
    ) -> Envelope[Event]:
        return self._queue(Emission(data, aggregate_type, aggregate_id, tenant))

    async def emit_many(self, emissions: Sequence[Emission]) -> list[Envelope[Event]]:
        return [self._queue(e) for e in emissions]

    def _queue(self, emission: Emission) -> Envelope[Event]:
        """As the real unit of work: an emission's own cause wins over the unit of work's,
        and an event too large for Kafka is refused."""
        key = (emission.aggregate_type, emission.aggregate_id)
        self._versions[key] = self._versions.get(key, 0) + 1
        envelope = build_envelope(
            emission.data,
            source=self._source,
            subject=emission.aggregate_id,
            tenant=emission.tenant,
            sequence=self._versions[key],
            correlation_id=emission.correlation_id or self._correlation_id,
            causation_id=emission.causation_id,
        )
        size = len(encode(envelope))
        if size > MAX_EVENT_BYTES:
            raise EventTooLarge(f"{emission.data.NAME} of {size} bytes exceeds {MAX_EVENT_BYTES}")
        self.pending.append(envelope)
        return envelope

    def commit(self) -> None:
        self.outbox.events += self.pending
        self.outbox.versions.update(self._versions)
        self.pending = []


class FakeUnitOfWorkFactory(Generic[S]):
    """Opens fake units of work on one fake store: committed when the block ends, dropped
    (their events and versions) when it raises. The store itself is not rolled back: a test
    that needs that checks what the handler left before it raised."""

    def __init__(self, store: S, *, clock: FakeClock | None = None) -> None:
        self.store = store
        self.outbox = FakeOutbox()
        self.clock = clock or FakeClock()

    @asynccontextmanager
    async def unit_of_work(
        self, *, correlation_id: UUID | None = None, causation_id: UUID | None = None
    ) -> AsyncIterator[FakeUnitOfWork[S]]:
        uow = FakeUnitOfWork(
            self.store,
            outbox=self.outbox,
            clock=self.clock,
            correlation_id=correlation_id or uuid4(),
        )
        yield uow
        uow.commit()


def envelope_of(
    data: E, *, tenant: str | UUID, subject: str | UUID, sequence: int = 1
) -> Envelope[E]:
    """A fact as a consumer receives it: ``data`` with its metadata."""
    built = build_envelope(
        data, source="/test", subject=str(subject), tenant=str(tenant), sequence=sequence
    )
    return Envelope[type(data)].model_validate(built.model_dump())  # type: ignore[misc,no-any-return]
