"""Running one request's unit of work, and answering its refusals as problem documents."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from uuid import uuid4

import asyncpg

from services.common.http import ProblemError
from services.common.uow import UnitOfWork, UnitOfWorkFactory
from services.sharing.domain import Refusal
from services.sharing.memberships import Refused

T = TypeVar("T")

# Locks are taken in id order, so a deadlock should not happen; if one does (or a
# serialisation failure), PostgreSQL rolled the request back and it is simply run again.
_RETRIED = (asyncpg.exceptions.DeadlockDetectedError, asyncpg.exceptions.SerializationError)
_TRIES = 3

# Whole-request refusals: someone else's private image, an unknown member or offer answer
# 404 (exactly like a missing one); an image that cannot be shared, 409.
STATUS_OF_CODE = {
    "image_not_found": 404,
    "member_not_found": 404,
    "offer_not_found": 404,
    "public_image": 409,
    "image_not_normal": 409,
}


def problem_of(refusal: Refusal) -> ProblemError:
    """The problem document of a refusal (rendered in the request's language)."""
    return ProblemError(STATUS_OF_CODE.get(refusal.code, 400), refusal.code, refusal.text)


@dataclass(frozen=True)
class Work:
    uow_factory: UnitOfWorkFactory

    async def run(self, body: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """``body`` in one unit of work with a correlation id of its own; a Refused turns
        into a problem document (the work rolls back)."""
        for attempt in range(1, _TRIES + 1):
            try:
                async with self.uow_factory.unit_of_work(correlation_id=uuid4()) as uow:
                    return await body(uow)
            except Refused as refused:
                raise problem_of(refused.refusal) from refused
            except _RETRIED:
                if attempt == _TRIES:
                    raise
                await asyncio.sleep(0.01 * attempt)
        raise AssertionError("unreachable")
