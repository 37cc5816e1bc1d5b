"""`ims-stack dead-letters`: what a replay produces and what it refuses, without Kafka
(the end-to-end test is tests/integration/test_dead_letters.py)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from deploy.stack.dead_letters import (
    DeadLetterError,
    Ledger,
    Letter,
    find,
    parse_since,
    replay_value,
    select,
)
from schemas.events import DEAD_LETTER_VALUE_MAX, CaptureProgressed, DeadLetter
from services.common.codec import build_envelope, decode, encode

AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def letter_of(
    value: bytes, *, topic: str = "t.CaptureProgressed", failed_at: datetime = AT
) -> Letter:
    kept = value[:DEAD_LETTER_VALUE_MAX]
    data = DeadLetter(
        consumer="t.ims-catalog",
        topic=topic,
        partition=1,
        offset=7,
        key_base64=base64.b64encode(b"k").decode(),
        value_base64=base64.b64encode(kept).decode(),
        value_size=len(value),
        value_sha256=hashlib.sha256(value).hexdigest(),
        value_truncated=len(value) > DEAD_LETTER_VALUE_MAX,
        reason="r",
        error_type="Rejected",
        failed_at=failed_at,
    )
    return Letter(uuid4(), "t", data)


def progress() -> bytes:
    data = CaptureProgressed(image_id=uuid4(), account_id=uuid4(), percent=3)
    return encode(build_envelope(data, source="/s", subject="k", tenant="t", sequence=2))


def test_a_replay_is_the_same_event_with_a_new_id() -> None:
    original = progress()
    new_id = uuid4()
    replayed = decode(replay_value(letter_of(original), new_id))
    before = decode(original)
    assert replayed.id == new_id
    assert replayed.model_dump(exclude={"id"}) == before.model_dump(exclude={"id"})


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a CloudEvent"),
        (json.dumps({"id": "x", "type": "ims.Nope.v1"}).encode(), "still invalid"),
        (b"x" * (DEAD_LETTER_VALUE_MAX + 1), "keeps only"),
    ],
)
def test_a_letter_a_new_id_cannot_fix_is_refused(value: bytes, why: str) -> None:
    with pytest.raises(DeadLetterError, match=why):
        replay_value(letter_of(value), uuid4())


def test_the_ledger_remembers_replays(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.json")
    letter, new_id = letter_of(progress()), uuid4()
    assert ledger.entries() == {}
    ledger.record(letter, new_id, AT)
    assert Ledger(tmp_path / "l.json").entries()[str(letter.id)]["replayed_as"] == str(new_id)


def test_letters_are_selected_by_topic_and_time_and_found_by_prefix() -> None:
    old = letter_of(progress(), failed_at=AT - timedelta(days=1))
    new = letter_of(progress(), topic="t.ImageReady")
    assert select([old, new], topic="ImageReady") == [new]
    assert select([old, new], topic="t.CaptureProgressed") == [old]
    assert select([old, new], since=parse_since("2h", now=AT)) == [new]
    assert select([old, new], since=parse_since("2026-12-02T12:00")) == [new]
    assert find([old, new], str(new.id)[:8]) == new
    with pytest.raises(DeadLetterError, match="no letter"):
        find([old], str(new.id))
    with pytest.raises(DeadLetterError):
        parse_since("yesterday")
