"""A database outage is transient: the record is retried, never acknowledged (its offset is
not committed) before its effect is committed, and handled once when the database is back."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID, uuid4

import asyncpg
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner

from schemas.topics import TOPICS
from services.common.codec import build_envelope, encode
from services.common.stream import app_id
from tests.harness import Bus, body, eventually
from tests.infra import TestStack
from tests.integration import facts
from tests.integration.conftest import Spawn
from tests.proxy import TcpProxy


def through(proxy: TcpProxy, dsn: str) -> str:
    parts = urlsplit(dsn)
    credentials = parts.netloc.rsplit("@", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{proxy.port}"))


async def committed_offset(stack: TestStack, group: str, partition: TopicPartition) -> int:
    """The group's committed offset of ``partition`` (the next record it would read), or -1."""
    admin = AIOKafkaAdminClient(**stack.kafka_client_config())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    found = offsets.get(partition)
    return -1 if found is None else int(found.offset)


def same_partition_as(other: UUID) -> UUID:
    """An id whose records land on the partition of ``other``'s (Kafka's default
    partitioner: murmur2 of the key)."""
    [spec] = [t for t in TOPICS if t.name == "CaptureRequested"]
    partitions = list(range(spec.partitions))
    want = _PARTITIONER(str(other).encode(), partitions, partitions)
    for _ in range(10_000):
        candidate = uuid4()
        if _PARTITIONER(str(candidate).encode(), partitions, partitions) == want:
            return candidate
    raise AssertionError("no id on the same partition in 10,000 tries")


_PARTITIONER = DefaultPartitioner()


async def test_records_wait_out_a_database_outage_and_are_handled_once(
    deployment: TestStack, spawn: Spawn
) -> None:
    dsn = deployment.dsns["catalog"]
    target = urlsplit(dsn)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    proxy.open()
    catalog = spawn(deployment, "catalog")
    catalog.env["IMS_DATABASE_URL"] = through(proxy, dsn)
    group = app_id("catalog", deployment.topic_prefix)
    account, warmup = uuid4(), uuid4()
    image_id = same_partition_as(warmup)
    try:
        catalog.start().wait_healthy()
        async with Bus(deployment) as bus:
            # One record before the outage, on the same partition (keyed by its own subject,
            # as every record must be): the group commits past it, so the check below
            # compares with a real committed offset.
            before = await bus.send_raw(
                "CaptureRequested",
                str(warmup),
                encode(
                    build_envelope(
                        facts.capture(account, uuid4(), warmup),
                        source="/test",
                        subject=str(warmup),
                        tenant=str(account),
                        sequence=1,
                    )
                ),
            )
            await bus.read("CaptureAccepted", lambda rs: len(rs) >= 1, key=str(warmup))
            warm = TopicPartition(before.topic, before.partition)

            async def committed_past_warmup() -> bool:
                offset = await committed_offset(deployment, group, warm)
                return offset > int(before.offset)

            await eventually(committed_past_warmup, timeout=30)

            proxy.cut()
            request = build_envelope(
                facts.capture(account, uuid4(), image_id),
                source="/test",
                subject=str(image_id),
                tenant=str(account),
                sequence=1,
            )
            sent = await bus.send_raw("CaptureRequested", str(image_id), encode(request))
            partition = TopicPartition(sent.topic, sent.partition)
            retries = {"component": group, "kind": "transient"}
            await eventually(lambda: catalog.metric("ims_retries_total", **retries) >= 2)
            # Longer than faust's 1 s commit interval: had the record been acknowledged
            # while its effect could not commit, its offset would be committed by now.
            await asyncio.sleep(3)
            assert partition == warm
            assert await committed_offset(deployment, group, partition) == (sent.offset), (
                "the record's offset was committed before its effect"
            )
            proxy.open()

            accepted = await bus.read(
                "CaptureAccepted", lambda rs: len(rs) >= 1, key=str(image_id), timeout=90
            )

            async def committed_past_it() -> bool:
                offset = await committed_offset(deployment, group, partition)
                return offset > int(sent.offset)

            await eventually(committed_past_it, timeout=30)
        assert [body(r)["causationid"] for r in accepted] == [str(request.id)]
        conn = await asyncpg.connect(dsn, server_settings={"search_path": "catalog"})
        try:
            status = await conn.fetchval("SELECT status FROM images WHERE image_id = $1", image_id)
        finally:
            await conn.close()
        assert status == "creating"
        assert catalog.proc is not None
        assert catalog.proc.poll() is None, "the service kept running through the outage"
    finally:
        proxy.close()
