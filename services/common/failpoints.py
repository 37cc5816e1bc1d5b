"""Named crash points for fault-injection tests, off unless ``IMS_FAILPOINTS`` names them.

``IMS_FAILPOINTS=relay.after_send`` makes the process exit at once (as if killed with
SIGKILL) when it reaches that point, so a test can prove recovery from a crash at the worst
moment, with the real process, broker and database. Several names are comma-separated.
``IMS_FAILPOINTS=consumer.mid_batch:pause`` makes :func:`pause_point` there wait
``PAUSE_SECONDS`` instead, so a test can stop the process (SIGTERM) at that moment.
"""

from __future__ import annotations

import asyncio
import os

import structlog

_log = structlog.get_logger(__name__)

CRASH_EXIT_CODE = 137
PAUSE_SECONDS = 10.0


def _armed() -> frozenset[str]:
    return frozenset(n.strip() for n in os.environ.get("IMS_FAILPOINTS", "").split(",") if n)


def failpoint(name: str) -> None:
    """Exit the process immediately if the failpoint ``name`` is armed."""
    if name in _armed():
        _log.warning("failpoint.crash", failpoint=name)
        os._exit(CRASH_EXIT_CODE)


async def pause_point(name: str) -> None:
    """Wait ``PAUSE_SECONDS`` if ``name:pause`` is armed; crash if ``name`` is."""
    failpoint(name)
    if f"{name}:pause" in _armed():
        _log.warning("failpoint.pause", failpoint=name)
        await asyncio.sleep(PAUSE_SECONDS)
