"""Retrying until it works: the answer to every failure that is not the input's fault."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

from services.common.backoff import DEFAULT_BACKOFF, Backoff
from services.common.failures import is_transient
from services.common.metrics import RETRIES

_log = structlog.get_logger(__name__)

T = TypeVar("T")


async def retry_forever(
    operation: Callable[[], Awaitable[T]],
    *,
    component: str,
    backoff: Backoff = DEFAULT_BACKOFF,
    **context: object,
) -> T:
    """Run ``operation`` until it returns, sleeping with backoff after each failure.

    Transient failures (database or broker unreachable) are expected and logged as
    warnings; anything else is a bug or a broken environment, logged with its traceback,
    and retried all the same: giving up here would acknowledge work that was not done.
    Only cancellation ends the loop early.
    """
    attempt = 0
    while True:
        try:
            return await operation()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            attempt += 1
            transient = is_transient(exc)
            RETRIES.labels(component, "transient" if transient else "unexpected").inc()
            if transient:
                _log.warning(
                    "retry", component=component, attempt=attempt, error=repr(exc), **context
                )
            else:
                _log.exception("retry.unexpected", component=component, attempt=attempt, **context)
            await asyncio.sleep(backoff.delay(attempt))
