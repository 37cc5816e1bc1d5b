"""The test stack itself: topics laid out, schemas fenced per service, Kafka round trip."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from deploy.stack.config import SERVICES
from deploy.stack.provision import provision
from deploy.stack.topics import ensure_topics, topic_configs
from schemas.topics import REDELIVERY_WINDOW, TOPICS
from tests.infra import TestStack

pytestmark = pytest.mark.integration


async def _describe(stack: TestStack, names: list[str]) -> list[dict[str, Any]]:
    admin = AIOKafkaAdminClient(**stack.kafka_client_config())
    await admin.start()
    try:
        return list(await admin.describe_topics(names))
    finally:
        await admin.close()


async def test_every_catalogue_topic_exists_with_its_partitions(stack: TestStack) -> None:
    names = [stack.topic(t.name) for t in TOPICS]
    described = {d["topic"]: d for d in await _describe(stack, names)}
    for spec in TOPICS:
        topic = described[stack.topic(spec.name)]
        assert topic["error_code"] == 0, spec.name
        assert len(topic["partitions"]) >= max(3, spec.partitions), spec.name


async def _configs(stack: TestStack, names: list[str]) -> dict[str, dict[str, str]]:
    admin = AIOKafkaAdminClient(**stack.kafka_client_config())
    await admin.start()
    try:
        found = await topic_configs(admin, names)
    finally:
        await admin.close()
    return {
        name: {k: value for k, (value, _) in configs.items()} for name, configs in found.items()
    }


async def test_no_record_outlives_the_redelivery_window(stack: TestStack) -> None:
    """The inbox is sized by how long a record stays readable: retention plus the segment
    it sits in. Both are set on every topic, not left to the broker's 7-day defaults."""
    configs = await _configs(stack, [stack.topic(t.name) for t in TOPICS])
    for spec in TOPICS:
        topic = configs[stack.topic(spec.name)]
        assert topic["retention.ms"] == spec.configs["retention.ms"], spec.name
        assert topic["segment.ms"] == spec.configs["segment.ms"], spec.name
        if spec.name != "DeadLetter":  # for operators; no service consumes it
            readable_ms = int(topic["retention.ms"]) + int(topic["segment.ms"])
            assert readable_ms < REDELIVERY_WINDOW.total_seconds() * 1000, spec.name


async def test_ensure_topics_repairs_a_drifted_config_and_keeps_the_rest(
    stack: TestStack,
) -> None:
    prefix = f"{stack.topic_prefix}drift{secrets.token_hex(3)}."
    spec = next(t for t in TOPICS if t.name == "ImageReady")
    name = f"{prefix}{spec.name}"
    admin = AIOKafkaAdminClient(**stack.kafka_client_config())
    await admin.start()
    try:  # as an older deployment created it: no segment.ms, and an operator's own setting
        await admin.create_topics(
            [NewTopic(name, 3, 1, topic_configs={"max.message.bytes": "2000000"})]
        )
    finally:
        await admin.close()

    await ensure_topics(
        stack.kafka_bootstrap, prefix, topics=[spec], credentials=stack.kafka_credentials()
    )

    configs = (await _configs(stack, [name]))[name]
    assert configs["segment.ms"] == spec.configs["segment.ms"]
    assert configs["retention.ms"] == spec.configs["retention.ms"]
    assert configs["max.message.bytes"] == "2000000"


@pytest.mark.parametrize("service", SERVICES)
async def test_service_role_owns_its_schema_and_no_other(stack: TestStack, service: str) -> None:
    other = next(s for s in SERVICES if s != service)
    conn = await asyncpg.connect(stack.dsns[service])
    try:
        assert await conn.fetchval("SELECT current_schema()") == service
        await conn.execute("CREATE TABLE IF NOT EXISTS stack_probe (id int PRIMARY KEY)")
        assert (
            await conn.fetchval(
                "SELECT schemaname FROM pg_tables WHERE tablename = 'stack_probe' "
                "AND schemaname = $1",
                service,
            )
            == service
        )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(f'CREATE TABLE "{other}".intruder (id int)')
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch(f'SELECT * FROM "{other}".stack_probe')
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TABLE public.intruder (id int)")
    finally:
        await conn.close()


async def test_provision_is_idempotent(stack: TestStack) -> None:
    again = await provision(stack.admin_dsn, stack.database, SERVICES, secret=stack.role_secret)
    assert again == stack.dsns


async def test_kafka_round_trip_with_a_committed_group(stack: TestStack) -> None:
    topic = f"{stack.topic_prefix}stack-probe"
    admin = AIOKafkaAdminClient(**stack.kafka_client_config())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 3, 1)])
    finally:
        await admin.close()

    key, value = secrets.token_hex(8).encode(), b'{"probe": true}'
    producer = AIOKafkaProducer(**stack.kafka_client_config(), enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        **stack.kafka_client_config(),
        group_id=f"{stack.topic_prefix}stack-probe",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 60)
        await consumer.commit()
    finally:
        await consumer.stop()
    assert (record.key, record.value) == (key, value)
