"""The idempotent consumer against real PostgreSQL: every outcome of one record.

No broker here: records are handed to the processor as faust would hand them over, and the
outbox (what would be sent) and inbox are read back from the database. Each test has a
database of its own and every record its own Kafka position.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from deploy.stack.provision import drop, provision
from schemas.envelope import Envelope
from schemas.events import AccountChanged, CaptureAccepted, CaptureRequested, Event
from services.common.backoff import Backoff
from services.common.codec import build_envelope, encode
from services.common.consumer import UNEXPECTED_TRIES, EventProcessor, Outcome, Record
from services.common.db import Connection, create_pool
from services.common.failures import Rejected
from services.common.handlers import Handler, Handlers
from services.common.migrate import upgrade
from services.common.ports import UnitOfWork
from services.common.uow import MAX_EVENT_BYTES, UnitOfWorkFactory
from tests.infra import TestStack

Factory = UnitOfWorkFactory[Connection]
Uow = UnitOfWork[Connection]

FAST = Backoff(initial=0.01, maximum=0.02)
NOTIFIER_MIGRATIONS = Path(__file__).resolve().parents[2] / "services/notifier/migrations"
_offsets = itertools.count(1)


def bare(conn: Connection) -> Connection:
    """These tests' handlers write SQL of their own: their store is the connection."""
    return conn


@pytest.fixture
async def uow_factory(stack: TestStack) -> AsyncIterator[Factory]:
    """A database of its own for each test: no test sees what another left behind."""
    database = f"{stack.database}_p{secrets.token_hex(3)}"
    dsns = await provision(stack.admin_dsn, database, ["notifier"], secret=stack.role_secret)
    try:
        await asyncio.to_thread(upgrade, dsns["notifier"], "notifier", NOTIFIER_MIGRATIONS)
        pool = await create_pool(dsns["notifier"], "notifier")
        try:
            yield UnitOfWorkFactory(pool, source="/test", store=bare, topic_prefix="proc.")
        finally:
            await pool.close()
    finally:
        await drop(stack.admin_dsn, database, ["notifier"])


def processor(
    uow_factory: Factory, handler: Handler[Connection, CaptureRequested]
) -> EventProcessor[Connection]:
    handlers: Handlers[Connection] = Handlers()
    handlers.register(CaptureRequested, handler)
    return EventProcessor(uow_factory, consumer=f"c-{uuid4()}", handlers=handlers, backoff=FAST)


def record(value: bytes | None, headers: tuple[tuple[str, bytes | None], ...] = ()) -> Record:
    """A record at a Kafka position no other record of the session has, where a producer
    puts it: on its type's topic, keyed by its subject (codec.decode_record checks both)."""
    try:
        raw = json.loads(value or b"null")
        subject, name = str(raw["subject"]).encode(), str(raw["type"]).split(".")[1]
    except (ValueError, TypeError, KeyError, IndexError):
        subject, name = b"key", "CaptureRequested"
    return Record(f"proc.{name}", 0, next(_offsets), subject, value, headers)


def request() -> Envelope[Event]:
    data = CaptureRequested(image_id=uuid4(), account_id=uuid4(), host_id=uuid4(), name="x")
    return build_envelope(data, source="/t", subject=str(data.image_id), tenant="t", sequence=1)


async def accept(uow: Uow, event: Envelope[CaptureRequested], *, name: str | None = None) -> None:
    """The handler under test: queue a CaptureAccepted for the request (optionally renamed)."""
    req: CaptureRequested = event.data
    accepted = CaptureAccepted(
        image_id=req.image_id,
        account_id=req.account_id,
        host_id=req.host_id,
        name=req.name if name is None else name,
        requested_at=event.time,
    )
    await uow.emit(accepted, aggregate_type="image", aggregate_id=str(req.image_id), tenant="t")


async def sent_after(uow_factory: Factory, event: Envelope[Event]) -> list[dict[str, Any]]:
    """The outbox rows caused by ``event`` (its causation id), decoded."""
    async with uow_factory.pool.acquire() as conn:
        rows = await conn.fetch("SELECT topic, payload FROM outbox ORDER BY position")
    decoded = [(r["topic"], json.loads(r["payload"])) for r in rows]
    return [
        {"topic": topic, **body}
        for topic, body in decoded
        if body.get("causationid") == str(event.id) or body["data"].get("event_id") == str(event.id)
    ]


async def test_an_event_is_handled_once_and_its_events_queued(
    uow_factory: Factory,
) -> None:
    consumer = processor(uow_factory, accept)
    event = request()

    assert await consumer.process(record(encode(event))) is Outcome.HANDLED
    assert await consumer.process(record(encode(event))) is Outcome.DUPLICATE

    queued = await sent_after(uow_factory, event)
    assert [q["topic"] for q in queued] == ["proc.CaptureAccepted"]
    assert queued[0]["correlationid"] == str(event.id)


async def test_a_refusal_rolls_back_the_effect_and_dead_letters_the_record(
    uow_factory: Factory,
) -> None:
    async def refuse(uow: Uow, event: Envelope[CaptureRequested]) -> None:
        await accept(uow, event)
        raise Rejected("not for you")

    event = request()
    headers: tuple[tuple[str, bytes | None], ...] = (("h", None), ("h", b"1"))
    outcome = await processor(uow_factory, refuse).process(record(encode(event), headers))

    assert outcome is Outcome.DEAD_LETTERED
    queued = await sent_after(uow_factory, event)
    assert [q["topic"] for q in queued] == ["proc.DeadLetter"]  # CaptureAccepted rolled back
    letter = queued[0]["data"]
    assert letter["reason"] == "not for you"
    assert letter["event_id"] == str(event.id)
    assert letter["headers"] == [{"key": "h"}, {"key": "h", "value_base64": "MQ=="}]


async def test_transient_failures_are_retried_until_the_effect_commits(
    uow_factory: Factory,
) -> None:
    failures = [ConnectionResetError("db gone"), asyncpg.exceptions.AdminShutdownError("restart")]

    async def flaky(uow: Uow, event: Envelope[CaptureRequested]) -> None:
        await accept(uow, event)
        if failures:
            raise failures.pop(0)

    event = request()
    assert await processor(uow_factory, flaky).process(record(encode(event))) is Outcome.HANDLED
    assert [q["topic"] for q in await sent_after(uow_factory, event)] == ["proc.CaptureAccepted"]


async def test_an_unexpected_error_is_retried_then_parked(uow_factory: Factory) -> None:
    calls = 0

    async def buggy(uow: Uow, event: Envelope[CaptureRequested]) -> None:
        nonlocal calls
        calls += 1
        raise KeyError("bug")

    event = request()
    assert (
        await processor(uow_factory, buggy).process(record(encode(event))) is Outcome.DEAD_LETTERED
    )
    assert calls == UNEXPECTED_TRIES + 1
    assert (await sent_after(uow_factory, event))[0]["data"]["error_type"] == "KeyError"


async def test_an_unexpected_type_is_dead_lettered_with_its_id(
    uow_factory: Factory,
) -> None:
    data = AccountChanged(account_id=uuid4(), name="a")
    event = build_envelope(data, source="/iam", subject="a", tenant="t", sequence=1)
    outcome = await processor(uow_factory, accept).process(record(encode(event)))
    assert outcome is Outcome.DEAD_LETTERED
    letter = (await sent_after(uow_factory, event))[0]["data"]
    assert "not expected" in letter["reason"]


async def test_an_oversized_record_is_dead_lettered_cut_to_fit(
    uow_factory: Factory,
) -> None:
    garbage = b"\x00" * (2 * 1024 * 1024)
    consumer = processor(uow_factory, accept)
    assert await consumer.process(record(garbage)) is Outcome.DEAD_LETTERED

    async with uow_factory.pool.acquire() as conn:
        payload = await conn.fetchval(
            "SELECT payload FROM outbox WHERE topic = 'proc.DeadLetter' ORDER BY position DESC"
        )
    letter = json.loads(payload)["data"]
    assert len(payload) < MAX_EVENT_BYTES
    assert letter["value_truncated"] is True
    assert letter["value_size"] == len(garbage)
    assert letter["value_sha256"] == hashlib.sha256(garbage).hexdigest()
    assert len(base64.b64decode(letter["value_base64"])) == 64 * 1024


async def test_an_event_kafka_would_refuse_is_never_queued(uow_factory: Factory) -> None:
    async def bloated(uow: Uow, event: Envelope[CaptureRequested]) -> None:
        await accept(uow, event, name="x" * (MAX_EVENT_BYTES + 1))

    event = request()
    assert (
        await processor(uow_factory, bloated).process(record(encode(event)))
        is Outcome.DEAD_LETTERED
    )
    letter = (await sent_after(uow_factory, event))[0]
    assert letter["data"]["error_type"] == "EventTooLarge"


async def test_a_bug_in_a_handlers_sql_is_parked_not_retried_for_ever(
    uow_factory: Factory,
) -> None:
    """A programming error is not an outage: after a few tries the record is parked and
    the partition moves on, instead of stalling behind it for ever."""
    calls = 0

    async def buggy_sql(uow: Uow, event: Envelope[CaptureRequested]) -> None:
        nonlocal calls
        calls += 1
        await uow.store.execute("UPDATE no_such_table SET x = 1")

    event = request()
    outcome = await asyncio.wait_for(
        processor(uow_factory, buggy_sql).process(record(encode(event))), timeout=30
    )
    assert outcome is Outcome.DEAD_LETTERED
    assert calls == UNEXPECTED_TRIES + 1
    letter = (await sent_after(uow_factory, event))[0]["data"]
    assert letter["error_type"] == "UndefinedTableError"


# --- batches: records of one partition in one transaction ----------------------------------


async def outbox_of(uow_factory: Factory) -> list[dict[str, Any]]:
    async with uow_factory.pool.acquire() as conn:
        rows = await conn.fetch("SELECT payload FROM outbox ORDER BY position")
    return [json.loads(r["payload"]) for r in rows]


async def test_a_poison_record_mid_batch_is_dead_lettered_alone(
    uow_factory: Factory,
) -> None:
    """Its neighbours are applied once, in order; only it is parked."""
    events = [request() for _ in range(5)]
    poison = events[2].id
    calls: list[str] = []

    async def accept_unless_poison(uow: Uow, event: Envelope[CaptureRequested]) -> None:
        calls.append(str(event.id))
        await accept(uow, event)
        if event.id == poison:
            raise Rejected("poison")

    records = [record(encode(e)) for e in events]
    outcomes = await processor(uow_factory, accept_unless_poison).process_batch(records)

    assert outcomes == [
        Outcome.HANDLED,
        Outcome.HANDLED,
        Outcome.DEAD_LETTERED,
        Outcome.HANDLED,
        Outcome.HANDLED,
    ]
    sent = await outbox_of(uow_factory)
    accepted = [e["causationid"] for e in sent if e["type"] == "ims.CaptureAccepted.v1"]
    assert accepted == [str(e.id) for e in events if e.id != poison]  # once each, in order
    letters = [e["data"] for e in sent if e["type"] == "ims.DeadLetter.v1"]
    assert [(x["event_id"], x["reason"]) for x in letters] == [(str(poison), "poison")]


async def test_an_unreadable_record_mid_batch_keeps_the_partitions_order(
    uow_factory: Factory,
) -> None:
    first, last = request(), request()
    records = [record(encode(first)), record(b"not json"), record(encode(last))]
    outcomes = await processor(uow_factory, accept).process_batch(records)

    assert outcomes == [Outcome.HANDLED, Outcome.DEAD_LETTERED, Outcome.HANDLED]
    kinds = [(e["type"], e.get("causationid")) for e in await outbox_of(uow_factory)]
    assert [k for k, _ in kinds] == [
        "ims.CaptureAccepted.v1",
        "ims.DeadLetter.v1",
        "ims.CaptureAccepted.v1",
    ]
    assert [kinds[0][1], kinds[2][1]] == [str(first.id), str(last.id)]


async def test_a_redelivered_batch_and_a_record_twice_in_one_batch_have_one_effect(
    uow_factory: Factory,
) -> None:
    events = [request() for _ in range(3)]
    consumer = processor(uow_factory, accept)
    first = await consumer.process_batch([record(encode(e)) for e in events])
    again = await consumer.process_batch(
        [record(encode(events[0])), record(encode(events[0])), record(encode(request()))]
    )

    assert first == [Outcome.HANDLED] * 3
    assert again == [Outcome.DUPLICATE, Outcome.DUPLICATE, Outcome.HANDLED]
    causes = [e["causationid"] for e in await outbox_of(uow_factory)]
    assert len(causes) == len(set(causes)) == 4


async def test_an_outage_mid_batch_retries_the_whole_batch_once_it_is_over(
    uow_factory: Factory,
) -> None:
    events = [request() for _ in range(4)]
    failures = [ConnectionResetError("db gone")]

    async def flaky(uow: Uow, event: Envelope[CaptureRequested]) -> None:
        await accept(uow, event)
        if event.id == events[2].id and failures:
            raise failures.pop()

    outcomes = await processor(uow_factory, flaky).process_batch(
        [record(encode(e)) for e in events]
    )

    assert outcomes == [Outcome.HANDLED] * 4
    causes = [e["causationid"] for e in await outbox_of(uow_factory)]
    assert causes == [str(e.id) for e in events]
