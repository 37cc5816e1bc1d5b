"""The idempotent consumer handling what faust buffered, against real PostgreSQL: a batch of
records commits in one transaction when every one goes through; a bad record, a refusal or
an outage in it sends each record through the one-by-one path, with its own outcome."""

from __future__ import annotations

from typing import Any

from schemas.envelope import Envelope
from services.common.codec import encode
from services.common.consumer import Outcome
from services.common.failures import Rejected
from services.common.uow import UnitOfWork, UnitOfWorkFactory
from tests.integration.test_event_processor import (
    accept,
    processor,
    record,
    request,
    sent_after,
    uow_factory,
)

__all__ = ["uow_factory"]  # the fixture, shared with test_event_processor


async def test_a_batch_is_handled_in_order_each_event_with_its_own_cause(
    uow_factory: UnitOfWorkFactory,
) -> None:
    consumer = processor(uow_factory, accept)
    events = [request() for _ in range(3)]
    again = events[1]
    outcomes = await consumer.process_many([record(encode(e)) for e in [*events, again]])
    assert outcomes == [Outcome.HANDLED] * 3 + [Outcome.DUPLICATE]
    for event in events:
        queued = await sent_after(uow_factory, event)
        assert [q["topic"] for q in queued] == ["proc.CaptureAccepted"]
        assert queued[0]["causationid"] == queued[0]["correlationid"] == str(event.id)
    # Handled once each: a later delivery of the batch changes nothing.
    assert (
        await consumer.process_many([record(encode(e)) for e in events]) == [Outcome.DUPLICATE] * 3
    )


async def test_a_poison_record_or_a_refusal_in_a_batch_is_parked_alone(
    uow_factory: UnitOfWorkFactory,
) -> None:
    refused = request()

    async def refuse_one(uow: UnitOfWork, event: Envelope[Any]) -> None:
        await accept(uow, event)
        if event.id == refused.id:
            raise Rejected("not this one")

    consumer = processor(uow_factory, refuse_one)
    good = [request(), request()]
    batch = [record(encode(good[0])), record(b"not json"), record(encode(refused)),
             record(encode(good[1]))]  # fmt: skip
    assert await consumer.process_many(batch) == [
        Outcome.HANDLED, Outcome.DEAD_LETTERED, Outcome.DEAD_LETTERED, Outcome.HANDLED,
    ]  # fmt: skip
    for event in good:
        assert [q["topic"] for q in await sent_after(uow_factory, event)] == [
            "proc.CaptureAccepted"
        ]
    # The refused record's own effect was rolled back with the batch, and not redone.
    assert [q["topic"] for q in await sent_after(uow_factory, refused)] == ["proc.DeadLetter"]


async def test_an_outage_in_a_batch_is_retried_until_every_effect_commits(
    uow_factory: UnitOfWorkFactory,
) -> None:
    failures = [ConnectionResetError("db gone")]

    async def flaky(uow: UnitOfWork, event: Envelope[Any]) -> None:
        await accept(uow, event)
        if failures:
            raise failures.pop(0)

    events = [request() for _ in range(4)]
    outcomes = await processor(uow_factory, flaky).process_many([record(encode(e)) for e in events])
    assert outcomes == [Outcome.HANDLED] * 4
    for event in events:
        assert len(await sent_after(uow_factory, event)) == 1
