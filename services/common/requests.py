"""Running one HTTP request's unit of work, the same way in every service's API.

The body runs in one unit of work with a correlation id of its own, so every event it
emits is traced to the request. A :class:`~services.common.refusals.Refusal` rolls it back
and becomes a problem document. A deadlock or serialisation failure (PostgreSQL rolled the
request back; locks are taken in id order, so it should be rare) runs it again, a few times.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID, uuid4

import asyncpg

from services.common.http import problem_of
from services.common.ports import UnitOfWork
from services.common.refusals import Refusal
from services.common.uow import UnitOfWorkFactory

S = TypeVar("S")
T = TypeVar("T")

_RETRIED = (asyncpg.exceptions.DeadlockDetectedError, asyncpg.exceptions.SerializationError)
TRIES = 3


@dataclass(frozen=True)
class RequestRunner(Generic[S]):
    uow_factory: UnitOfWorkFactory[S]

    async def run(
        self, body: Callable[[UnitOfWork[S]], Awaitable[T]], *, correlation_id: UUID | None = None
    ) -> T:
        """``body`` in one unit of work; its refusal answers as a problem document."""
        correlation_id = correlation_id or uuid4()
        for attempt in range(1, TRIES + 1):
            try:
                async with self.uow_factory.unit_of_work(correlation_id=correlation_id) as uow:
                    return await body(uow)
            except Refusal as refusal:
                raise problem_of(refusal) from refusal
            except _RETRIED:
                if attempt == TRIES:
                    raise
                await asyncio.sleep(0.01 * attempt)
        raise AssertionError("unreachable")

    async def read(self, body: Callable[[S], Awaitable[T]]) -> T:
        """``body`` on the store outside a transaction (a read that changes nothing)."""
        try:
            async with self.uow_factory.reading() as store:
                return await body(store)
        except Refusal as refusal:
            raise problem_of(refusal) from refusal
