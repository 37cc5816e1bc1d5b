"""The wake loop: run a step whenever PostgreSQL NOTIFYs a channel, or after a pause.

A trigger's NOTIFY wakes the loop at once; the pause (a poll) covers a lost notification,
so one only delays work, never loses it. While a step says more is waiting, the next one
runs straight away. The outbox relay and the notifier's prompt publisher run on it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import asyncpg

from services.common.db import Connection

# One step of work on the listening connection; True when more is waiting at once.
Step = Callable[[Connection], Awaitable[bool]]
# How long to sleep when nothing is waiting, unless a NOTIFY comes first.
Pause = Callable[[], Awaitable[float]]


async def run_woken(pool: asyncpg.Pool, channel: str, step: Step, pause: Pause) -> None:
    """Run until cancelled or until a step fails (the caller retries the whole loop).

    The step gets the listening connection: its session outlives every step, so a lease
    can name it (a crashed process's session is gone, and so is its lease).
    """
    wake = asyncio.Event()

    def on_notify(*_: object) -> None:
        wake.set()

    listener = await pool.acquire()
    try:
        await listener.add_listener(channel, on_notify)
        while True:
            wake.clear()  # before the step: a NOTIFY during it wakes the next one
            if await step(listener):
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), await pause())
    finally:
        await listener.remove_listener(channel, on_notify)
        await pool.release(listener)


def every(seconds: float) -> Pause:
    """A fixed pause."""

    async def pause() -> float:
        return seconds

    return pause
