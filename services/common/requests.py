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

from services.common.consistency import BadToken, Position, encode_token, wait_applied
from services.common.http import problem_of
from services.common.ports import UnitOfWork
from services.common.refusals import Refusal
from services.common.uow import PgUnitOfWork, UnitOfWorkFactory

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

    async def write(self, body: Callable[[UnitOfWork[S]], Awaitable[T]]) -> tuple[T, str | None]:
        """As :meth:`run`, and the read-after token of the facts it queued
        (:mod:`services.common.consistency`): None if it queued none, or too many."""
        emitted: list[Position] = []

        async def tracked(uow: UnitOfWork[S]) -> T:
            result = await body(uow)
            assert isinstance(uow, PgUnitOfWork)
            emitted[:] = uow.emitted  # of the attempt that committed: a retry starts over
            return result

        result = await self.run(tracked)
        return result, encode_token(emitted)

    async def wait_applied(self, token: str | None, consumed: frozenset[str]) -> str | None:
        """Before a read: wait, boundedly, until this service has applied the facts of a
        write's token (``consumed``: the event types it applies). ``applied``, ``timeout``
        or ``invalid`` (a token no write answered: the read answers at once, as without
        one) for the read's answer; None without a token."""
        if token is None:
            return None
        try:
            applied = await wait_applied(self.uow_factory.pool, token, consumed)
        except BadToken:
            return "invalid"
        return "applied" if applied else "timeout"

    async def read(self, body: Callable[[S], Awaitable[T]]) -> T:
        """``body`` on the store outside a transaction (a read that changes nothing)."""
        try:
            async with self.uow_factory.reading() as store:
                return await body(store)
        except Refusal as refusal:
            raise problem_of(refusal) from refusal
