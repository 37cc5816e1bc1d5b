"""Which failures are worth retrying, and how a handler refuses an event on purpose.

The consumer, the relay and the capture worker all decide by these rules: a transient
failure is retried for as long as it takes; bad data and refusals are dead-lettered.
"""

from __future__ import annotations

import asyncpg
from aiokafka.errors import KafkaError


class Rejected(Exception):
    """The event breaks a rule and can never be applied (e.g. a tenant acting for another
    account). The consumer parks it on the dead-letter topic with this message as reason."""


# SQLSTATE classes that say "this input is wrong": data exceptions and integrity violations.
# Every other database error (connection, resources, operator intervention, a missing
# table before migrations ran, ...) is about the environment and worth retrying: stalling
# loses nothing, while dead-lettering would park good events.
_PERMANENT_SQLSTATE_CLASSES = frozenset({"22", "23"})


def is_transient(exc: BaseException) -> bool:
    """Whether retrying later may succeed: the database, the broker or the network."""
    if isinstance(exc, OSError | TimeoutError | asyncpg.exceptions.InterfaceError | KafkaError):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        return not is_bad_data(exc)
    return False


def is_bad_data(exc: BaseException) -> bool:
    """A database refusal of the data itself: retrying the same input cannot succeed."""
    sqlstate = getattr(exc, "sqlstate", None) or ""
    return isinstance(exc, asyncpg.PostgresError) and sqlstate[:2] in _PERMANENT_SQLSTATE_CLASSES
