"""The CloudEvents codec: what is accepted, and the reason given for what is not."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest

from schemas.events import CaptureRequested
from services.common.codec import InvalidEvent, build_envelope, decode, encode


def request_bytes() -> bytes:
    data = CaptureRequested(image_id=uuid4(), account_id=uuid4(), host_id=uuid4(), name="img")
    envelope = build_envelope(
        data, source="/test", subject=str(data.image_id), tenant=str(data.account_id), sequence=1
    )
    return encode(envelope)


def test_an_encoded_event_decodes_to_the_same_typed_body() -> None:
    raw = request_bytes()
    decoded = decode(raw)
    assert isinstance(decoded.data, CaptureRequested)
    assert decoded.type == "ims.CaptureRequested.v1"
    assert json.loads(encode(decoded)) == json.loads(raw)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "empty record"),
        (b"\xff\xfe", "not JSON"),
        (b"{oops", "not JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"type": "ims.CaptureRequested.v1"}', "missing CloudEvents attributes: specversion, id"),
    ],
)
def test_malformed_records_are_refused_with_a_reason(value: bytes | None, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        decode(value)


def test_an_unknown_type_is_refused() -> None:
    raw = json.loads(request_bytes())
    raw["type"] = "ims.Nonsense.v1"
    with pytest.raises(InvalidEvent, match=r"unknown event type 'ims\.Nonsense\.v1'"):
        decode(json.dumps(raw).encode())


def test_a_body_that_breaks_its_schema_names_the_field() -> None:
    raw = json.loads(request_bytes())
    raw["data"]["name"] = ""
    del raw["data"]["host_id"]
    expected = r"data\.host_id: Field required; data\.name: String should have at least 1"
    with pytest.raises(InvalidEvent, match=expected):
        decode(json.dumps(raw).encode())


def test_a_reader_never_invents_an_event_id() -> None:
    raw = json.loads(request_bytes())
    del raw["id"]
    with pytest.raises(InvalidEvent, match="missing CloudEvents attributes: id"):
        decode(json.dumps(raw).encode())


def test_unknown_body_fields_are_ignored_so_producers_may_add_fields() -> None:
    raw = json.loads(request_bytes())
    raw["data"]["added_later"] = 1
    assert isinstance(decode(json.dumps(raw).encode()).data, CaptureRequested)
