"""faust wiring: one faust app per service, one agent per subscribed topic.

faust runs the consumer group (assignment, fetching, offset commits). Two of its defaults
would break IMS's guarantees, so they are changed here:

- an agent that raises gets its record acknowledged and never sees it again; so the agent
  body only calls :meth:`EventProcessor.process`, which never raises;
- faust would declare topics with CreateTopics v1, which Apache Kafka 4 no longer accepts
  (KIP-896) under aiokafka 0.12; so ``topic_allow_declare`` is off and the deployment
  creates every topic up front, faust's leader topic included (:func:`internal_topics`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import faust

from schemas.events import Event
from schemas.topics import TopicSpec, topic_name
from services.common.consumer import EventProcessor, Record


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
    async def agent(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            await processor.process(
                Record(
                    topic=message.topic,
                    partition=message.partition,
                    offset=message.offset,
                    key=message.key,
                    value=message.value,
                    headers=_headers(message.headers),
                )
            )

    return agent


def _headers(raw: Any) -> tuple[tuple[str, bytes | None], ...]:
    """faust hands headers over as a list of pairs or as a mapping, depending on its path."""
    pairs = raw.items() if isinstance(raw, dict) else (raw or ())
    return tuple((str(key), value) for key, value in pairs)
