"""Handlers bound to the event type they handle, so that a mismatch is a type error.

A handler takes the unit of work of its service and the typed event (the fact in ``data``,
its metadata around it: id, tenant, sequence, time). :meth:`Handlers.register` binds the
event type and the handler with one type variable: ``register(ImageReady,
on_capture_failed)`` fails ``mypy --strict`` (see ``tests/unit/test_handler_typing.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Generic, TypeAlias, TypeVar, cast

from schemas.envelope import Envelope
from schemas.events import Event
from services.common.ports import UnitOfWork

S = TypeVar("S")
E = TypeVar("E", bound=Event)

Handler: TypeAlias = Callable[[UnitOfWork[S], Envelope[E]], Awaitable[None]]


class Handlers(Generic[S]):
    """The event handlers of one service: at most one per event type."""

    def __init__(self) -> None:
        self._by_type: dict[type[Event], Handler[S, Event]] = {}

    def register(self, event_type: type[E], handler: Handler[S, E]) -> None:
        if event_type in self._by_type:
            raise ValueError(f"{event_type.__name__} already has a handler")
        # Safe: handler_for() hands it only envelopes whose data is an ``event_type``.
        self._by_type[event_type] = cast("Handler[S, Event]", handler)

    def handler_for(self, event_type: type[Event]) -> Handler[S, Event] | None:
        return self._by_type.get(event_type)

    def __iter__(self) -> Iterator[type[Event]]:
        """The event types handled (the topics the service consumes)."""
        return iter(self._by_type)

    def __len__(self) -> int:
        return len(self._by_type)
