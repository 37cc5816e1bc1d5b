"""The read-after token (services.common.consistency): what a write answers and a read sends
back, and what a reader waits for."""

from __future__ import annotations

import base64
import zlib
from uuid import uuid4

import pytest

from services.common.consistency import (
    MAX_POSITIONS,
    MAX_TOKEN_CHARS,
    BadToken,
    Position,
    consumed_by,
    decode_token,
    encode_token,
)


def positions(count: int) -> list[Position]:
    return [Position("ShareAccepted", "membership", str(uuid4()), n + 1) for n in range(count)]


def test_a_token_names_the_facts_of_its_write() -> None:
    written = positions(3)
    token = encode_token(written)
    assert token is not None
    assert decode_token(token) == written


def test_a_write_of_the_largest_batch_fits_in_a_header() -> None:
    token = encode_token(positions(MAX_POSITIONS))
    assert token is not None
    assert len(token) <= MAX_TOKEN_CHARS


def test_no_token_for_no_facts_or_too_many() -> None:
    assert encode_token([]) is None
    assert encode_token(positions(MAX_POSITIONS + 1)) is None


@pytest.mark.parametrize(
    "bad",
    [
        "not a token",
        base64.urlsafe_b64encode(zlib.compress(b"ShareAccepted membership x")).decode(),
        base64.urlsafe_b64encode(zlib.compress(b"ShareAccepted membership x one")).decode(),
        base64.urlsafe_b64encode(zlib.compress(b"\xff\xfe")).decode(),
        base64.urlsafe_b64encode(zlib.compress(b"A b c 1\n" * (MAX_POSITIONS + 1))).decode(),
        base64.urlsafe_b64encode(zlib.compress(b"A b c 1\n" * 100_000)).decode(),  # too big
    ],
)
def test_a_token_no_write_answered_is_refused(bad: str) -> None:
    with pytest.raises(BadToken):
        decode_token(bad)


def test_a_reader_waits_only_for_what_it_consumes() -> None:
    catalog = consumed_by("catalog")
    assert {"ShareOffered", "ShareAccepted", "ShareRejected", "ShareRevoked"} <= catalog
    assert "ImageUpdated" not in catalog  # the catalog's own fact
    assert "ShareAccepted" in consumed_by("notifier")
