"""Read your own writes across services: a write answers where its facts sit on their version
lines, and a read that names them waits, boundedly, until its service has applied them.

Sharing's ``POST /v1/shared-images/accept`` commits a membership's new status and queues a
``ShareAccepted`` (membership line, version 3, say); the catalog applies it a moment later,
from Kafka. The accept's answer carries the header ``IMS-Read-After: <token>`` naming each
fact it queued (event type, aggregate line, version). The same client's next read, sent
with that header to the catalog (``GET /v1/images?tab=shared``), waits until the catalog's
``aggregate_versions`` (the lines its consumer advances as it applies facts, in the same
transaction as their effect) reach those versions, at most ``READ_AFTER_WAIT_S``, then
reads; its answer says ``IMS-Read-After: applied`` or ``timeout`` (``invalid`` for a token
no write answered: the read goes on at once, a bad header never costs the read). A reader
waits only for the event types it consumes (``schemas.generate.CONSUMERS``), so a token of
any write can be handed to any read.

The token is opaque to clients: zlib-compressed lines ``type aggregate id version``,
base64url. A write of more than ``MAX_POSITIONS`` facts answers no token (a header must
stay small); its client reads the change from the prompt stream instead.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Header

from schemas.generate import CONSUMERS

HEADER = "IMS-Read-After"
MAX_POSITIONS = 256
MAX_TOKEN_CHARS = 16384
READ_AFTER_WAIT_S = 2.0
_FIRST_POLL_S, _LONGEST_POLL_S = 0.005, 0.05

# For a write route's decorator (``openapi_extra=ANSWERS_TOKEN``): its answers carry the
# header, and the OpenAPI says so (services.common.http.documented_openapi).
ANSWERS_TOKEN = {"x-ims-read-after": "token"}
# What the header means in each kind of answer, for the OpenAPI.
TOKEN_ANSWER = (
    "Names the facts this write queued: send it back as the request header of the same name "
    "to a catalog read to see the change (absent when the write changed nothing)."
)
WAIT_ANSWER = (
    "Only when the request sent a token: `applied` (the read shows that write), `timeout` "
    f"(not yet after {READ_AFTER_WAIT_S:g} s: the read shows what is applied so far) or "
    "`invalid` (no write answered that token)."
)

# For a read route's signature: ``read_after: ReadAfterToken``.
ReadAfterToken = Annotated[
    str | None,
    Header(
        alias=HEADER,
        max_length=MAX_TOKEN_CHARS,
        description="The token a write answered: the read waits (at most "
        f"{READ_AFTER_WAIT_S:g} s) until this service has applied that write's facts.",
    ),
]


@dataclass(frozen=True)
class Position:
    """Where one emitted fact sits: the ``version`` of its aggregate's line."""

    event: str  # the event type's NAME, e.g. "ShareAccepted"
    aggregate_type: str
    aggregate_id: str
    version: int


class BadToken(ValueError):
    """A read-after token that no write of IMS answered."""


def encode_token(positions: Sequence[Position]) -> str | None:
    """The token of a write's facts; None if it queued none or too many."""
    if not positions or len(positions) > MAX_POSITIONS:
        return None
    lines = "\n".join(
        f"{p.event} {p.aggregate_type} {p.aggregate_id} {p.version}" for p in positions
    )
    return base64.urlsafe_b64encode(zlib.compress(lines.encode(), 9)).decode().rstrip("=")


def decode_token(token: str) -> list[Position]:
    """The positions a token names; :class:`BadToken` if it is not one."""
    try:
        padded = token + "=" * (-len(token) % 4)
        # Bounded: a token holds at most MAX_POSITIONS short lines.
        text = zlib.decompressobj().decompress(base64.urlsafe_b64decode(padded), 65536).decode()
        positions = []
        for line in text.split("\n"):
            event, aggregate_type, aggregate_id, version = line.split(" ")
            positions.append(Position(event, aggregate_type, aggregate_id, int(version)))
    except (ValueError, binascii.Error, zlib.error, UnicodeDecodeError) as exc:
        raise BadToken(f"not a read-after token: {exc}") from exc
    if len(positions) > MAX_POSITIONS:
        raise BadToken(f"a read-after token names at most {MAX_POSITIONS} facts")
    return positions


def consumed_by(service: str) -> frozenset[str]:
    """The event types ``service`` applies (the contract's documented consumers)."""
    return frozenset(event for event, readers in CONSUMERS.items() if service in readers)


async def unapplied(conn: asyncpg.Connection | asyncpg.Pool, positions: Sequence[Position]) -> int:
    """How many of ``positions`` this service's version lines have not reached yet."""
    return int(
        await conn.fetchval(
            """
            SELECT count(*)
            FROM unnest($1::text[], $2::text[], $3::bigint[]) AS p(kind, id, version)
            LEFT JOIN aggregate_versions v
                ON v.aggregate_type = p.kind AND v.aggregate_id = p.id
            WHERE coalesce(v.version, 0) < p.version
            """,
            [p.aggregate_type for p in positions],
            [p.aggregate_id for p in positions],
            [p.version for p in positions],
        )
    )


async def wait_applied(
    pool: asyncpg.Pool,
    token: str,
    consumed: frozenset[str],
    timeout_s: float = READ_AFTER_WAIT_S,
) -> bool:
    """Wait until this service (consuming ``consumed``) has applied the facts ``token``
    names, at most ``timeout_s``; True if it has."""
    positions = [p for p in decode_token(token) if p.event in consumed]
    if not positions:
        return True
    deadline, pause = time.monotonic() + timeout_s, _FIRST_POLL_S
    while await unapplied(pool, positions):
        if time.monotonic() + pause > deadline:
            return False
        await asyncio.sleep(pause)
        pause = min(pause * 2, _LONGEST_POLL_S)
    return True
