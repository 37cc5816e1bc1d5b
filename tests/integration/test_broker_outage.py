"""A Kafka outage is transient: a service rides out a broker restart, and an event committed
to the outbox while the broker was down is delivered once it is back."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from deploy.stack import kafka
from deploy.stack.config import default_jar_dir
from deploy.stack.kafka_access import provision_kafka
from schemas.events import ImageUpdated
from services.catalog.store import CatalogStore
from services.common.db import create_pool
from services.common.uow import UnitOfWorkFactory
from tests.harness import Bus, body, eventually
from tests.infra import TestStack, free_port
from tests.integration import facts
from tests.integration.conftest import Spawn


async def test_a_service_rides_out_a_broker_restart(
    deployment: TestStack, spawn: Spawn, tmp_path: Path
) -> None:
    node = kafka.KafkaNode(
        tmp_path / "kafka",
        default_jar_dir(),
        free_port(),
        free_port(),
        scram=deployment.kafka_secrets,
    )
    kafka.ensure_jars(node.jar_dir)
    try:
        await asyncio.to_thread(kafka.wait_ready, node, kafka.start(node))
        await provision_kafka(node.bootstrap, deployment.kafka_secrets, deployment.topic_prefix)
        own = dataclasses.replace(deployment, kafka_bootstrap=node.bootstrap)
        catalog = spawn(own, "catalog")
        # Short, so the relay's send fails and is retried soon after the broker goes.
        catalog.env["IMS_KAFKA_REQUEST_TIMEOUT_SECONDS"] = "3"
        catalog.start().wait_healthy()
        account, before, after = uuid4(), uuid4(), uuid4()
        async with Bus(own) as bus:
            await bus.send(facts.capture(account, uuid4(), before), subject=before, tenant=account)
            await bus.read("CaptureAccepted", lambda rs: len(rs) >= 1, key=str(before))

        await asyncio.to_thread(kafka.stop, node)
        # Committed while the broker is down: the relay must keep it and send it later.
        pool = await create_pool(own.dsns["catalog"], "catalog")
        try:
            uow_factory = UnitOfWorkFactory(
                pool, source="/ims/catalog", store=CatalogStore, topic_prefix=own.topic_prefix
            )
            async with uow_factory.unit_of_work() as uow:
                queued = await uow.emit(
                    # An event the catalog writes: the broker refuses it any other topic.
                    ImageUpdated(
                        image_id=before,
                        account_id=account,
                        name="renamed-in-the-outage",
                        publish_status="unpublished",
                        updated_at=datetime.now(UTC),
                    ),
                    aggregate_type="image",
                    aggregate_id=str(before),
                    tenant=str(account),
                )
        finally:
            await pool.close()
        # The relay tries to send it, fails, and keeps the row for a retry.
        relay_retries = {"component": "relay", "kind": "transient"}
        await eventually(lambda: catalog.metric("ims_retries_total", **relay_retries) >= 1)
        await asyncio.to_thread(kafka.wait_ready, node, kafka.start(node))

        async with Bus(own) as bus:
            progressed = await bus.read(
                "ImageUpdated", lambda rs: len(rs) >= 1, key=str(before), timeout=120
            )
            await bus.send(facts.capture(account, uuid4(), after), subject=after, tenant=account)
            accepted_after = await bus.read(
                "CaptureAccepted", lambda rs: len(rs) >= 1, key=str(after), timeout=120
            )
            accepted_before = await bus.read(
                "CaptureAccepted", lambda rs: len(rs) >= 1, key=str(before)
            )
        # At least once: a batch the relay timed out on during the outage may still be
        # delivered by the producer, then sent again; it is the same event (same id).
        assert {body(r)["id"] for r in progressed} == {str(queued.id)}
        assert len({body(r)["id"] for r in accepted_after}) == 1
        assert len({body(r)["id"] for r in accepted_before}) == 1
        assert catalog.proc is not None
        assert catalog.proc.poll() is None, "the service kept running through the outage"
    finally:
        await asyncio.to_thread(kafka.stop, node)
