"""faust wiring: one faust app per service, one agent for all the topics it subscribes.

faust runs the consumer group (assignment, fetching, offset commits). Two of its defaults
would break IMS's guarantees, so they are changed here:

- an agent that raises gets its record acknowledged and never sees it again; so the agent
  body only calls :meth:`EventProcessor.process_batch`, which never raises;
- faust would declare topics with CreateTopics v1, which Apache Kafka 4 no longer accepts
  (KIP-896) under aiokafka 0.12; so ``topic_allow_declare`` is off and the deployment
  creates every topic up front, faust's leader topic included (:func:`internal_topics`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import faust
from faust.streams import Stream
from faust.types import TP

from schemas.access import group_id, leader_topic
from schemas.events import Event
from schemas.topics import TopicSpec, topic_name
from services.common.consumer import EventProcessor, Record
from services.common.kafka_auth import KafkaCredentials
from services.common.metrics import CONSUMER_LAG


def app_id(service: str, topic_prefix: str = "") -> str:
    """The faust app id, which is also the Kafka consumer group of the service (the one
    group its principal may use, schemas.access)."""
    return group_id(service, topic_prefix)


def internal_topics(service: str) -> list[TopicSpec]:
    """faust's own topics of ``service`` (before the prefix); the deployment creates them."""
    return [
        TopicSpec(
            leader_topic(service),
            producer=service,
            key="none",
            description="faust's partition-assignment leader topic",
            partitions=1,
        )
    ]


def create_app(
    service: str,
    *,
    bootstrap: str,
    topic_prefix: str,
    data_dir: str,
    session_timeout: float,
    credentials: KafkaCredentials | None = None,
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
        broker_credentials=credentials.faust() if credentials else None,
    )


def subscribe(
    app: faust.App,
    events: Iterable[type[Event]],
    processor: EventProcessor[Any],
    *,
    topic_prefix: str,
    batch_max: int = 500,
    batch_wait: float = 0.01,
) -> None:
    """Run ``processor`` on every record of the topics of ``events``, in one agent.

    The agent takes what has arrived, up to ``batch_max`` records or ``batch_wait`` seconds
    after the last batch, splits it by topic and partition and processes those at once
    (each in offset order, each in a transaction of its own). faust acknowledges the
    records only when the batch is done: their offsets are committed after their effects.

    One agent for all the topics, not one each: faust's batching wakes every agent every
    ``batch_wait`` even when nothing arrives, and a service with ten topics idled at 5 % of
    a core doing so.
    """
    topic = app.topic(
        *(topic_name(event.NAME, topic_prefix) for event in events),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )
    body = _agent_body(app, processor, batch_max, batch_wait)
    app.agent(topic, name=f"{app.conf.id}.events")(body)


def _agent_body(
    app: faust.App, processor: EventProcessor[Any], batch_max: int, batch_wait: float
) -> Any:
    async def agent(stream: Stream[bytes]) -> None:
        async for events in stream.take_events(batch_max, within=batch_wait):
            partitions: dict[tuple[str, int], list[Record]] = {}
            for event in events:
                message = event.message
                partitions.setdefault((message.topic, message.partition), []).append(
                    Record(
                        topic=message.topic,
                        partition=message.partition,
                        offset=message.offset,
                        key=message.key,
                        value=message.value,
                        headers=_headers(message.headers),
                    )
                )
            await asyncio.gather(*(processor.process_batch(rs) for rs in partitions.values()))
            for (topic, partition), records in partitions.items():
                _report_lag(app, processor.consumer, topic, partition, records[-1].offset)

    return agent


def _report_lag(app: faust.App, consumer: str, topic: str, partition: int, offset: int) -> None:
    """The partition's end (as of the last fetch) minus the next record to handle."""
    try:
        end = app.consumer.highwater(TP(topic, partition))
    except Exception:  # not fetched yet, or the assignment moved: report nothing
        return
    if end is not None:
        CONSUMER_LAG.labels(consumer, topic, str(partition)).set(max(0, end - offset - 1))


def _headers(raw: Any) -> tuple[tuple[str, bytes | None], ...]:
    """faust hands headers over as a list of pairs or as a mapping, depending on its path."""
    pairs = raw.items() if isinstance(raw, dict) else (raw or ())
    return tuple((str(key), value) for key, value in pairs)
