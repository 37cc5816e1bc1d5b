"""Which failures are worth retrying, and how a handler refuses an event on purpose.

The consumer, the relay and the capture worker all decide by these rules:

- *transient*: the environment failed (the database or the broker unreachable, a server
  shutting down, a deadlock or serialisation conflict): retried for as long as it takes,
  because stalling loses nothing;
- *bad data*: the database refuses the input itself (SQLSTATE classes 22 and 23), or a
  handler raised a :class:`~services.common.refusals.Refusal` (e.g. :class:`Rejected`):
  retrying cannot help, the record is dead-lettered;
- anything else is *unexpected*, a bug (a SQL syntax error, a missing column, a
  ``KeyError``): tried a few times, then parked on the dead-letter topic, so a bug never
  stalls a partition for ever.
"""

from __future__ import annotations

import asyncpg
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
)

from services.common.i18n import Text
from services.common.refusals import Refusal


class Rejected(Refusal):
    """The event breaks a rule and can never be applied (e.g. a tenant acting for another
    account). The consumer parks it on the dead-letter topic with this message as reason."""

    def __init__(self, reason: str) -> None:
        super().__init__("event_rejected", Text(reason, reason))


# SQLSTATE classes that say "this input is wrong": data exceptions, integrity violations.
_BAD_DATA_SQLSTATE_CLASSES = frozenset({"22", "23"})
# SQLSTATE classes about the server and the connection, not about the statement:
# 08 connection exception, 40 transaction rollback (deadlock, serialisation failure),
# 53 insufficient resources, 57 operator intervention (shutdown, cancelled), 58 system
# error (I/O). Class 42 (syntax error or access rule violation) is a bug, not an outage.
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
# Lock not available (a NOWAIT lock or lock_timeout): someone else holds it for now; and
# a session the server ended for idling in a transaction (this instance was frozen).
_TRANSIENT_SQLSTATES = frozenset({"55P03", "25P03"})


_REFUSED_BY_THE_BROKER = (
    TopicAuthorizationFailedError,
    GroupAuthorizationFailedError,
    SaslAuthenticationFailed,
)


def is_transient(exc: BaseException) -> bool:
    """Whether retrying later may succeed: the database, the broker or the network failed.

    The broker refusing this principal (a bad password, a missing ACL) is no outage but a
    broken deployment: still retried, but logged as unexpected, with its traceback."""
    if isinstance(exc, _REFUSED_BY_THE_BROKER):
        return False
    if isinstance(exc, OSError | TimeoutError | asyncpg.exceptions.InterfaceError | KafkaError):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        sqlstate = _sqlstate(exc)
        return sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES or sqlstate in _TRANSIENT_SQLSTATES
    return False


def is_bad_data(exc: BaseException) -> bool:
    """A database refusal of the data itself: retrying the same input cannot succeed."""
    return (
        isinstance(exc, asyncpg.PostgresError) and _sqlstate(exc)[:2] in _BAD_DATA_SQLSTATE_CLASSES
    )


def _sqlstate(exc: BaseException) -> str:
    return str(getattr(exc, "sqlstate", None) or "")
