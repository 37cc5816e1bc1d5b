"""Which failures are retried for ever, which are dead-lettered at once, and which are bugs.

A bug must never be taken for an outage: an outage is retried for as long as it takes (the
partition waits), a bug would then stall its partition for ever.
"""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
)

from services.common.failures import Rejected, is_bad_data, is_transient

exc = asyncpg.exceptions


@pytest.mark.parametrize(
    "error",
    [
        ConnectionResetError("peer reset"),
        TimeoutError(),
        KafkaConnectionError("broker down"),
        exc.ConnectionDoesNotExistError("closed"),
        exc.AdminShutdownError("terminating connection"),  # 57P01
        exc.CannotConnectNowError("starting up"),  # 57P03
        exc.TooManyConnectionsError("too many"),  # 53300
        exc.DeadlockDetectedError("deadlock"),  # 40P01
        exc.SerializationError("could not serialize"),  # 40001
        exc.LockNotAvailableError("lock timeout"),  # 55P03
        exc.IdleInTransactionSessionTimeoutError("idle in transaction"),  # 25P03
    ],
)
def test_outages_and_conflicts_are_transient(error: Exception) -> None:
    assert is_transient(error)
    assert not is_bad_data(error)


@pytest.mark.parametrize(
    "error",
    [
        exc.UniqueViolationError("duplicate key"),  # 23505
        exc.CheckViolationError("check"),  # 23514
        exc.StringDataRightTruncationError("too long"),  # 22001
        exc.InvalidTextRepresentationError("bad uuid"),  # 22P02
    ],
)
def test_refusals_of_the_data_are_bad_data(error: Exception) -> None:
    assert is_bad_data(error)
    assert not is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        exc.PostgresSyntaxError("syntax error"),  # 42601
        exc.UndefinedColumnError("no such column"),  # 42703
        exc.UndefinedTableError("no such table"),  # 42P01
        exc.InsufficientPrivilegeError("permission denied"),  # 42501
        exc.DatatypeMismatchError("mismatch"),  # 42804
        KeyError("bug"),
        Rejected("not yours"),
    ],
)
def test_programming_errors_are_neither_transient_nor_bad_data(error: Exception) -> None:
    """They count as unexpected: tried a few times, then parked (see consumer.py)."""
    assert not is_transient(error)
    assert not is_bad_data(error)


@pytest.mark.parametrize(
    "error",
    [
        TopicAuthorizationFailedError("t.ImageReady"),
        GroupAuthorizationFailedError("ims-catalog"),
        SaslAuthenticationFailed("invalid credentials"),
    ],
)
def test_the_broker_refusing_the_principal_is_no_outage(error: Exception) -> None:
    assert not is_transient(error)
