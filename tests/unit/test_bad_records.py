"""Generated bad records fed to every consumer of every service (issue 16).

Each service's consumer (its real subscriptions: the event types its handlers handle) gets
batches of records built by Hypothesis, bad ones interleaved with valid ones: random bytes,
truncated and oversized records, wrong JSON types, missing fields, unknown event types and
versions, bad or missing keys, bad CloudEvents attributes, a key that is not the subject, an
event on another type's topic. Every bad record must end in exactly one ``DeadLetter`` with
a reason and its topic, partition and offset; nothing raises; every valid record after it is
applied (no stuck partition). Extra fields are the tolerant reader's business: ignored.

The handlers are replaced by a recorder (the service's rules have their own tests); the
decode and dispatch path, the inbox and the dead-lettering are the real
:class:`~services.common.consumer.EventProcessor`'s, on an in-memory inbox and outbox.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import enum
import json
import types
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, Union, cast, get_args, get_origin
from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.envelope import Envelope
from schemas.events import EVENT_TYPES as ALL_TYPES
from schemas.events import DeadLetter, Event
from services.capture.adapters.image_store import DirectoryImageStore
from services.capture.handlers import build_handlers
from services.catalog.handlers import HANDLERS as CATALOG
from services.common.backoff import Backoff
from services.common.codec import MAX_RECORD_BYTES, build_envelope, encode
from services.common.consumer import EventProcessor, Outcome, Record
from services.common.handlers import Handlers
from services.common.ports import UnitOfWork
from services.common.uow import Claim
from services.notifier.handlers import HANDLERS as NOTIFIER
from services.sharing.handlers import HANDLERS as SHARING

PREFIX = "fuzz."
SUBSCRIPTIONS: dict[str, tuple[type[Event], ...]] = {
    "capture": tuple(build_handlers(DirectoryImageStore(Path("/nonexistent")))),
    "catalog": tuple(CATALOG),
    "sharing": tuple(SHARING),
    "notifier": tuple(NOTIFIER),
}
FAST = Backoff(initial=0.0, maximum=0.0)
EXAMPLES = 200  # a service; about 4 records an example


# --- a valid event of any type ----------------------------------------------------------


def _value(name: str, annotation: Any) -> Any:
    """A valid value for a field, by its annotation (the few patterns by name)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _value(name, get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return None if len(args) < len(get_args(annotation)) else _value(name, args[0])
    if origin is Literal:
        return get_args(annotation)[0]
    if origin in (list, tuple, set, frozenset):
        return []
    if origin is dict:
        return {}
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return next(iter(annotation))
    if annotation is UUID:
        return uuid4()
    if annotation is bool:
        return False
    if annotation is int:
        return 1
    if annotation is float:
        return 1.0
    if annotation is dt.datetime or "Datetime" in str(annotation):
        return dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return annotation(**_required(annotation))
    if name.endswith("sha256"):
        return "0" * 64
    return "x"


def _required(model: Any) -> dict[str, Any]:
    return {n: _value(n, f.annotation) for n, f in model.model_fields.items() if f.is_required()}


def valid_event(model: type[Event]) -> Envelope[Event]:
    data = model(**_required(model))
    return build_envelope(data, source="/fuzz", subject=str(uuid4()), tenant="t", sequence=1)


class Offsets:
    def __init__(self) -> None:
        self.next = 0

    def __call__(self) -> int:
        self.next += 1
        return self.next


def record_of(envelope: Envelope[Event], offset: int) -> Record:
    """Where a producer puts it: its type's topic, keyed by its subject."""
    return Record(
        PREFIX + envelope.data.NAME,
        0,
        offset,
        envelope.subject.encode(),
        encode(envelope),
    )


# --- bad records ------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)
ATTRIBUTES = ("specversion", "id", "source", "type", "subject", "time", "tenant", "sequence")
BAD_ATTRIBUTES: dict[str, st.SearchStrategy[Any]] = {
    "specversion": st.sampled_from(["0.3", "2.0", "", 1]),
    "id": st.sampled_from(["", "not-a-uuid", 7, None]),
    "time": st.sampled_from(["yesterday", "2026-12-03T08:00:00", 0, 1.5e9, None]),  # naive too
    "tenant": st.sampled_from(["", None, 5]),
    "subject": st.sampled_from(["", None, 5]),
    "sequence": st.sampled_from([0, -1, "one", "1", None, 1.5, 1.0, True]),
    "type": st.sampled_from(["", None, "ims.Nope.v1", "ImageReady", "ims.ImageReady.v99"]),
    "data": st.sampled_from([None, [], "x", 3]),
    "datacontenttype": st.sampled_from(["text/plain", ""]),
}


@st.composite
def bad_record(draw: st.DrawFn, consumed: tuple[type[Event], ...], offset: int) -> Record:
    """A record the consumer must dead-letter: a valid one of a type it consumes, broken."""
    model = draw(st.sampled_from(consumed))
    good = record_of(valid_event(model), offset)
    assert good.value is not None
    original: bytes = good.value
    raw: dict[str, Any] = json.loads(good.value)
    kind = draw(
        st.sampled_from(
            [
                "bytes",
                "truncated",
                "oversized",
                "deep",
                "not-object",
                "tombstone",
                "wrong-type",
                "missing-attribute",
                "missing-field",
                "bad-attribute",
                "no-key",
                "bad-key",
                "other-topic",
                "unexpected-type",
            ]
        )
    )
    key, topic = good.key, good.topic
    value: bytes | None = good.value
    if kind == "bytes":
        value = draw(st.binary(max_size=64).filter(lambda b: not _is_json(b)))
    elif kind == "truncated":
        value = original[: draw(st.integers(0, len(original) - 1))]
    elif kind == "oversized":
        raw["padding"] = "x" * (MAX_RECORD_BYTES + draw(st.integers(0, 1000)))
        value = json.dumps(raw).encode()
    elif kind == "deep":
        value = b"[" * draw(st.integers(10_000, 200_000))
    elif kind == "not-object":
        value = json.dumps(draw(JSON_VALUES.filter(lambda v: not isinstance(v, dict)))).encode()
    elif kind == "tombstone":
        value = None
    elif kind == "wrong-type":
        required = [n for n, f in model.model_fields.items() if f.is_required()]
        name = draw(st.sampled_from(required))
        raw["data"][name] = draw(JSON_VALUES.filter(lambda v: _wrong_for(model, name, v)))
        value = json.dumps(raw).encode()
    elif kind == "missing-attribute":
        del raw[draw(st.sampled_from([*ATTRIBUTES, "data"]))]
        value = json.dumps(raw).encode()
    elif kind == "missing-field":
        required = [n for n, f in model.model_fields.items() if f.is_required()]
        del raw["data"][draw(st.sampled_from(required))]
        value = json.dumps(raw).encode()
    elif kind == "bad-attribute":
        name = draw(st.sampled_from(sorted(BAD_ATTRIBUTES)))
        raw[name] = draw(BAD_ATTRIBUTES[name])
        value = json.dumps(raw).encode()
    elif kind == "no-key":
        key = None
    elif kind == "bad-key":
        key = draw(st.binary(max_size=40).filter(lambda k: k != good.key))
    elif kind == "other-topic":
        others = [m for m in consumed if m is not model]
        if not others:
            key = None  # a consumer of one type: break the key instead
        else:
            topic = PREFIX + draw(st.sampled_from(others)).NAME
    elif kind == "unexpected-type":
        foreign = [m for m in ALL_TYPES if m not in consumed and m is not DeadLetter]
        other = valid_event(draw(st.sampled_from(foreign)))
        topic, key, value = PREFIX + other.data.NAME, other.subject.encode(), encode(other)
    if draw(st.booleans()) and isinstance(value, bytes) and _is_json(value):
        # Extra fields never save a broken record (nor break a good one: see below).
        try:
            extended = json.loads(value)
            if isinstance(extended, dict):
                extended["x-extra"] = draw(JSON_VALUES)
                value = json.dumps(extended).encode()
        except RecursionError:
            pass
    headers = tuple(
        draw(
            st.lists(st.tuples(st.text(max_size=5), st.none() | st.binary(max_size=8)), max_size=2)
        )
    )
    return Record(topic, 0, offset, key, value, headers)


def _is_json(value: bytes) -> bool:
    try:
        json.loads(value)
    except (ValueError, RecursionError):
        return False
    return True


def _wrong_for(model: type[Event], name: str, value: Any) -> bool:
    """Whether ``value`` is refused as the field ``name`` of ``model``."""
    fields = json.loads(model(**_required(model)).model_dump_json())
    try:
        model.model_validate({**fields, name: value})
    except ValueError:
        return True
    return False


# --- an in-memory inbox, outbox and transaction -----------------------------------------


class _Unit:
    """The unit of work the processor and the recorder use."""

    def __init__(self, tx: _Tx) -> None:
        self._tx = tx
        self.store: object = None

    @property
    def correlation_id(self) -> UUID | None:
        return None

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    async def claim(self, consumer: str, event_id: UUID, **_where: object) -> bool:
        return self._tx.claim(consumer, event_id)

    async def apply_version(self, aggregate_type: str, aggregate_id: str, sequence: int) -> bool:
        return True

    async def emit(
        self, data: Event, *, aggregate_type: str, aggregate_id: str, tenant: str
    ) -> None:
        self._tx.emitted.append(data)


class _Tx:
    def __init__(self, inbox: set[tuple[str, UUID]]) -> None:
        self._inbox = inbox
        self.claimed: set[tuple[str, UUID]] = set()
        self.emitted: list[Event] = []
        self.applied: list[UUID] = []

    def claim(self, consumer: str, event_id: UUID) -> bool:
        key = (consumer, event_id)
        if key in self._inbox or key in self.claimed:
            return False
        self.claimed.add(key)
        return True

    async def claim_many(self, consumer: str, claims: Sequence[Claim]) -> set[UUID]:
        return {c.event_id for c in claims if self.claim(consumer, c.event_id)}

    def unit_of_work(self, **_ids: UUID | None) -> _Unit:
        return _Unit(self)


class InboxFactory:
    """Commits a transaction's claims, emissions and applied events when its block ends,
    drops them when it raises: as PostgreSQL would."""

    def __init__(self) -> None:
        self.inbox: set[tuple[str, UUID]] = set()
        self.dead_letters: list[DeadLetter] = []
        self.applied: list[UUID] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Tx]:
        tx = _Tx(self.inbox)
        yield tx
        self.inbox |= tx.claimed
        self.dead_letters += [e for e in tx.emitted if isinstance(e, DeadLetter)]
        self.applied += tx.applied

    @asynccontextmanager
    async def unit_of_work(self, **_ids: UUID | None) -> AsyncIterator[_Unit]:
        async with self.transaction() as tx:
            yield tx.unit_of_work()


def recorder(types_: Iterable[type[Event]]) -> Handlers[object]:
    handlers: Handlers[object] = Handlers()

    async def record(uow: UnitOfWork[object], envelope: Envelope[Event]) -> None:
        cast(_Unit, uow)._tx.applied.append(envelope.id)

    for model in types_:
        handlers.register(model, record)
    return handlers


# --- the properties ---------------------------------------------------------------------


@st.composite
def batch(draw: st.DrawFn, service: str) -> list[tuple[Record, UUID | None]]:
    """Bad records interleaved with valid ones; each with the id it must apply (or None)."""
    consumed = SUBSCRIPTIONS[service]
    offsets = Offsets()
    out: list[tuple[Record, UUID | None]] = []
    for _ in range(draw(st.integers(1, 4))):
        out.append((draw(bad_record(consumed, offsets())), None))
        good = valid_event(draw(st.sampled_from(consumed)))
        rec = record_of(good, offsets())
        if draw(st.booleans()):  # a tolerant reader ignores extra fields
            assert rec.value is not None
            raw = json.loads(rec.value)
            raw["x-extra"] = draw(JSON_VALUES)
            raw["data"]["x-extra"] = draw(JSON_VALUES)
            rec = Record(rec.topic, 0, rec.offset, rec.key, json.dumps(raw).encode())
        out.append((rec, good.id))
    return out


def check(service: str, records: list[tuple[Record, UUID | None]], *, batched: bool) -> None:
    factory = InboxFactory()
    processor: EventProcessor[object] = EventProcessor(
        cast(Any, factory),
        consumer=service,
        handlers=recorder(SUBSCRIPTIONS[service]),
        backoff=FAST,
    )
    inputs = [r for r, _ in records]

    async def run() -> list[Outcome]:
        if batched:
            return await asyncio.wait_for(processor.process_batch(inputs), 30)
        return [await asyncio.wait_for(processor.process(r), 30) for r in inputs]

    outcomes = asyncio.run(run())
    expected = [Outcome.DEAD_LETTERED if good is None else Outcome.HANDLED for _, good in records]
    assert outcomes == expected, [(r.topic, r.key, (r.value or b"")[:2000]) for r, _ in records]
    assert factory.applied == [good for _, good in records if good is not None]
    bad = [r for r, good in records if good is None]
    assert [(d.topic, d.partition, d.offset) for d in factory.dead_letters] == [
        (r.topic, r.partition, r.offset) for r in bad
    ]
    for letter, original in zip(factory.dead_letters, bad, strict=True):
        assert letter.reason
        assert letter.consumer == service
        key = None if letter.key_base64 is None else base64.b64decode(letter.key_base64)
        assert key == original.key


def _property(service: str, *, batched: bool) -> Callable[[], None]:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(records=batch(service))
    def prop(records: list[tuple[Record, UUID | None]]) -> None:
        check(service, records, batched=batched)

    return cast(Callable[[], None], prop)


test_capture_dead_letters_bad_records_in_a_batch = _property("capture", batched=True)
test_catalog_dead_letters_bad_records_in_a_batch = _property("catalog", batched=True)
test_sharing_dead_letters_bad_records_in_a_batch = _property("sharing", batched=True)
test_notifier_dead_letters_bad_records_in_a_batch = _property("notifier", batched=True)
test_capture_dead_letters_bad_records_one_by_one = _property("capture", batched=False)
test_catalog_dead_letters_bad_records_one_by_one = _property("catalog", batched=False)
test_sharing_dead_letters_bad_records_one_by_one = _property("sharing", batched=False)
test_notifier_dead_letters_bad_records_one_by_one = _property("notifier", batched=False)


def test_a_record_keyed_by_another_aggregate_is_dead_lettered() -> None:
    """Found by the properties: a key other than the subject was applied (it may sit on
    another partition than its aggregate's other events, and overtake them)."""
    good = valid_event(SUBSCRIPTIONS["catalog"][0])
    rec = record_of(good, 1)
    check("catalog", [(Record(rec.topic, 0, 1, b"other", rec.value), None)], batched=True)


def test_a_deeply_nested_record_is_dead_lettered() -> None:
    """Found by the properties: ``[[[...`` raised RecursionError out of the agent."""
    rec = Record(PREFIX + SUBSCRIPTIONS["catalog"][0].NAME, 0, 1, b"k", b"[" * 100_000)
    check("catalog", [(rec, None)], batched=True)


def test_an_event_on_another_types_topic_is_dead_lettered() -> None:
    """Found by the properties: an ImageReady on the CaptureFailed topic was applied."""
    consumed = SUBSCRIPTIONS["catalog"]
    rec = record_of(valid_event(consumed[0]), 1)
    elsewhere = Record(PREFIX + consumed[1].NAME, 0, 1, rec.key, rec.value)
    check("catalog", [(elsewhere, None)], batched=True)


def test_an_oversized_record_is_refused_unread() -> None:
    rec = record_of(valid_event(SUBSCRIPTIONS["catalog"][0]), 1)
    assert rec.value is not None
    huge = rec.value[:-1] + b',"pad":"' + b"x" * MAX_RECORD_BYTES + b'"}'
    check("catalog", [(Record(rec.topic, 0, 1, rec.key, huge), None)], batched=True)


def test_a_number_for_the_time_is_dead_lettered() -> None:
    """Found by the properties: ``"time": 0`` was read as 1970 and the event applied."""
    rec = record_of(valid_event(SUBSCRIPTIONS["catalog"][0]), 1)
    assert rec.value is not None
    raw = json.loads(rec.value)
    raw["time"] = 0
    check(
        "catalog",
        [(Record(rec.topic, 0, 1, rec.key, json.dumps(raw).encode()), None)],
        batched=True,
    )
