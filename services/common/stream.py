"""faust wiring: one faust app per service, one agent per subscribed topic.

faust runs the consumer group (assignment, fetching, offset commits). Two of its defaults
would break IMS's guarantees, so they are changed here:

- an agent that raises gets its record acknowledged and never sees it again; so the agent
  body only calls :meth:`EventProcessor.process`, which never raises;
- faust would declare topics with CreateTopics v1, which Apache Kafka 4 no longer accepts
  (KIP-896) under aiokafka 0.12; so ``topic_allow_declare`` is off and the deployment
  creates every topic up front, faust's leader topic included (:func:`internal_topics`).

An agent handles what has arrived together, up to ``BATCH_MAX`` records, in one transaction
(:meth:`EventProcessor.process_many`): it takes records while more are already waiting in
its queue, never waits for more, and acknowledges them itself once their batch committed.
One commit for a burst instead of one a record (under load, round trips bounded a consumer),
no delay for a lone record. Not faust's ``take_events``: it polls with a timer (idle CPU), and
when the stream stops it acknowledges the batch in hand even if it was never committed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import faust
from faust.streams import Stream

from schemas.events import Event
from schemas.topics import TopicSpec, topic_name
from services.common.consumer import EventProcessor, Record

BATCH_MAX = 100  # also faust's commit interval in records (broker_commit_every)


def app_id(service: str, topic_prefix: str = "") -> str:
    """The faust app id, which is also the Kafka consumer group of the service."""
    return f"{topic_prefix}ims-{service}"


def internal_topics(service: str) -> list[TopicSpec]:
    """faust's own topics of ``service`` (before the prefix); the deployment creates them."""
    return [
        TopicSpec(
            f"{app_id(service)}-__assignor-__leader",
            producer=service,
            key="none",
            description="faust's partition-assignment leader topic",
            partitions=1,
        )
    ]


def create_app(
    service: str, *, bootstrap: str, topic_prefix: str, data_dir: str, session_timeout: float
) -> faust.App:
    return faust.App(
        app_id(service, topic_prefix),
        broker=f"kafka://{bootstrap}",
        key_serializer="raw",
        value_serializer="raw",
        datadir=data_dir,
        web_enabled=False,
        topic_allow_declare=False,
        topic_disable_leader=False,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        # Offsets of handled records are committed often; a record handled but not yet
        # committed is redelivered after a crash and recognised by the inbox.
        broker_commit_interval=1.0,
        broker_commit_every=100,
        broker_session_timeout=session_timeout,
        broker_heartbeat_interval=3.0,
    )


def subscribe(
    app: faust.App,
    events: Iterable[type[Event]],
    processor: EventProcessor,
    *,
    topic_prefix: str,
) -> None:
    """Run ``processor`` on every record of the topics of ``events``, one agent per topic."""
    for event in events:
        topic = app.topic(
            topic_name(event.NAME, topic_prefix),
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
        )
        app.agent(topic, name=f"{app.conf.id}.{event.NAME}")(_agent_body(processor))


def _agent_body(processor: EventProcessor) -> Any:
    async def agent(stream: Stream[bytes]) -> None:
        stream.enable_acks = False  # acknowledged below, once their batch is committed
        waiting = getattr(stream.channel, "queue", None)
        batch: list[Any] = []
        async for event in stream.events():
            batch.append(event)
            if len(batch) < BATCH_MAX and waiting is not None and not waiting.empty():
                continue  # more has arrived already: into this batch, without waiting
            await processor.process_many([_record(e.message) for e in batch])
            for handled in batch:
                await stream.ack(handled)
            batch.clear()

    return agent


def _record(message: Any) -> Record:
    return Record(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        headers=_headers(message.headers),
    )


def _headers(raw: Any) -> tuple[tuple[str, bytes | None], ...]:
    """faust hands headers over as a list of pairs or as a mapping, depending on its path."""
    pairs = raw.items() if isinstance(raw, dict) else (raw or ())
    return tuple((str(key), value) for key, value in pairs)
