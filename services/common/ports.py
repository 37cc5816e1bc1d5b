"""The ports a service's handlers talk through, so that rules can be tested with fakes.

A handler (of an event or of an HTTP command) gets a :class:`UnitOfWork`: its service's
store (all the SQL, bound to the unit of work's transaction), the outbox (``emit``), the
aggregates' version lines (``apply_version``) and a clock. The real one is
:class:`services.common.uow.PgUnitOfWork` (one PostgreSQL transaction); tests use the fakes
in ``tests/fakes.py``, which keep the same promises in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar
from uuid import UUID

from schemas.envelope import Envelope
from schemas.events import Event

Store_co = TypeVar("Store_co", covariant=True)

# What time it is, timezone-aware UTC (a fake one in tests).
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Emission:
    """One event to queue as the next version of its aggregate; its cause, when it is not
    the unit of work's (e.g. each prompt a publisher sends names the fact that changed it)."""

    data: Event
    aggregate_type: str
    aggregate_id: str
    tenant: str
    correlation_id: UUID | None = None
    causation_id: UUID | None = None


class UnitOfWork(Protocol[Store_co]):
    """What one event's handler (or one API call) changes, committed together or not at
    all: the state (through ``store``), the events announcing it, the versions."""

    @property
    def store(self) -> Store_co:
        """The service's store, bound to this unit of work's transaction."""
        ...

    @property
    def correlation_id(self) -> UUID | None:
        """The request the events of this unit of work belong to."""
        ...

    def now(self) -> datetime:
        """The clock of the unit of work (UTC)."""
        ...

    async def apply_version(self, aggregate_type: str, aggregate_id: str, sequence: int) -> bool:
        """Advance the aggregate to ``sequence``; False when the fact is stale (not newer).
        Also serialises concurrent handlers of one aggregate."""
        ...

    async def emit(
        self, data: Event, *, aggregate_type: str, aggregate_id: str, tenant: str
    ) -> Envelope[Event]:
        """Queue ``data`` in the outbox as the aggregate's next version."""
        ...

    async def emit_many(self, emissions: Sequence[Emission]) -> list[Envelope[Event]]:
        """Queue many events, each the next version of its aggregate."""
        ...
