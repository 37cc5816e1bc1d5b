"""Turning events into Kafka record bytes and back, with a clear error for bad input."""

from __future__ import annotations

import json
from uuid import UUID, uuid4

from pydantic import ValidationError

from schemas.envelope import Envelope, EnvelopeHeader
from schemas.events import BY_TYPE, Event

REQUIRED_ATTRIBUTES = (
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "tenant",
    "sequence",
    "data",
)
STRING_ATTRIBUTES = ("specversion", "id", "source", "type", "subject", "time", "tenant")


# Kafka's default message.max.bytes (1 MiB and a little): IMS producers stay under 900 KiB
# (uow.MAX_EVENT_BYTES); anything larger is not parsed at all.
MAX_RECORD_BYTES = 1024 * 1024


class InvalidEvent(Exception):
    """A record that can never be processed: it goes to the dead-letter topic."""


def build_envelope(
    data: Event,
    *,
    source: str,
    subject: str,
    tenant: str,
    sequence: int,
    correlation_id: UUID | None = None,
    causation_id: UUID | None = None,
) -> Envelope[Event]:
    # Parametrise with the concrete body type so serialisation keeps every field.
    envelope_type: type[Envelope[Event]] = Envelope[type(data)]  # type: ignore[misc,assignment]
    return envelope_type(
        id=uuid4(),
        source=source,
        type=data.event_type(),
        subject=subject,
        tenant=tenant,
        sequence=sequence,
        correlationid=correlation_id,
        causationid=causation_id,
        data=data,
    )


def encode(envelope: EnvelopeHeader) -> bytes:
    """The record bytes of ``envelope`` (any event type: the header and its data)."""
    return envelope.model_dump_json(exclude_none=True).encode()


def decode(value: bytes | None) -> Envelope[Event]:
    """Parse and validate a structured-mode CloudEvent whose type IMS knows.

    Raises InvalidEvent naming what is wrong: not JSON, not an object, a bad envelope,
    an unknown type, or a body that does not match its type's schema.
    """
    if value is None:
        raise InvalidEvent("empty record (tombstone) where a CloudEvent was expected")
    if len(value) > MAX_RECORD_BYTES:
        raise InvalidEvent(f"record of {len(value)} bytes exceeds {MAX_RECORD_BYTES}")
    try:
        raw = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"not JSON: {exc}") from exc
    except RecursionError as exc:  # e.g. b"[" * 100_000: found by tests/unit/test_bad_records.py
        raise InvalidEvent("not JSON: nested too deeply") from exc
    if not isinstance(raw, dict):
        raise InvalidEvent("a CloudEvent must be a JSON object")
    missing = [name for name in REQUIRED_ATTRIBUTES if name not in raw]
    if missing:
        # Checked here, not by the model: its defaults (a fresh id, the current time) are
        # for producers, and a reader that filled in an id would defeat deduplication.
        raise InvalidEvent(f"missing CloudEvents attributes: {', '.join(missing)}")
    # The JSON format of CloudEvents types its attributes; pydantic's lax mode alone would
    # take ``"time": 0`` for 1970 (found by tests/unit/test_bad_records.py).
    mistyped = [name for name in STRING_ATTRIBUTES if not isinstance(raw[name], str)]
    if mistyped:
        raise InvalidEvent(f"CloudEvents attributes must be strings: {', '.join(mistyped)}")
    if type(raw["sequence"]) is not int:
        raise InvalidEvent("the sequence attribute must be a JSON integer")
    event_type = raw.get("type")
    model = BY_TYPE.get(event_type) if isinstance(event_type, str) else None
    if model is None:
        raise InvalidEvent(f"unknown event type {event_type!r}")
    try:
        envelope = Envelope[model].model_validate(raw)  # type: ignore[valid-type]
    except ValidationError as exc:
        raise InvalidEvent(f"invalid {event_type}: {_summarise(exc)}") from exc
    return envelope


def decode_record(topic: str, key: bytes | None, value: bytes | None) -> Envelope[Event]:
    """:func:`decode`, and the record where its event belongs: on its type's topic (with
    any prefix), keyed by its subject, so it shares a partition with its aggregate's other
    events (a record keyed otherwise could overtake them)."""
    envelope = decode(value)
    if not topic.endswith(envelope.data.NAME):
        raise InvalidEvent(f"{envelope.type} does not belong on topic {topic}")
    text = None if key is None else key.decode(errors="replace")
    if text != envelope.subject:
        raise InvalidEvent(f"key {text!r} does not match subject {envelope.subject!r}")
    return envelope


def _summarise(exc: ValidationError) -> str:
    parts = [
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
    ]
    return "; ".join(parts[:10])
