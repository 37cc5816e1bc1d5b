"""Named crash points for fault-injection tests, off unless ``IMS_FAILPOINTS`` names them.

``IMS_FAILPOINTS=relay.after_send`` makes the process exit at once (as if killed with
SIGKILL) when it reaches that point, so a test can prove recovery from a crash at the worst
moment, with the real process, broker and database. Several names are comma-separated.
"""

from __future__ import annotations

import os

import structlog

_log = structlog.get_logger(__name__)

CRASH_EXIT_CODE = 137


def _armed() -> frozenset[str]:
    return frozenset(n.strip() for n in os.environ.get("IMS_FAILPOINTS", "").split(",") if n)


def failpoint(name: str) -> None:
    """Exit the process immediately if the failpoint ``name`` is armed."""
    if name in _armed():
        _log.warning("failpoint.crash", failpoint=name)
        os._exit(CRASH_EXIT_CODE)
