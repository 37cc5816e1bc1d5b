"""Capture's facts in the catalog, with only the catalog running (so an image stays
`creating` until the test says otherwise):

- no tenant can change another tenant's image through facts: a fact applies only to an
  image of the account it names, stated in that account's name; anything else is
  dead-lettered with the reason and changes nothing, not even the image's version line;
- facts of one image travel on several topics and arrive out of order: a fact older than
  the last one applied changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from schemas.events import CaptureProgressed, ImageReady, ImageSource
from tests.harness import Bus, body, eventually
from tests.infra import TestStack
from tests.integration import facts
from tests.integration.conftest import Spawn


def ready(image_id: UUID, account_id: UUID) -> ImageReady:
    return ImageReady(
        image_id=image_id,
        account_id=account_id,
        name="hijacked",
        source=ImageSource(host_id=uuid4(), host_name="evil"),
        os=facts.UBUNTU,
        system_disk_gb=40,
        min_memory_mb=1024,
        disk_format="raw",
        size_bytes=1,
        virtual_size_bytes=1,
        checksum_sha256="0" * 64,
        location="/somewhere/else",
        finished_at=datetime.now(UTC),
    )


async def image_row(stack: TestStack, image_id: UUID) -> dict[str, Any]:
    conn = await asyncpg.connect(stack.dsns["catalog"], server_settings={"search_path": "catalog"})
    try:
        row = await conn.fetchrow(
            "SELECT status, progress, name FROM images WHERE image_id = $1", image_id
        )
    finally:
        await conn.close()
    return dict(row) if row else {}


async def test_capture_facts_about_another_tenants_image_are_dead_lettered(
    deployment: TestStack, spawn: Spawn
) -> None:
    # Only the catalog runs: alice's image stays `creating` until the test says otherwise.
    spawn(deployment, "catalog").start().wait_healthy()
    alice, mallory, image_id = uuid4(), uuid4(), uuid4()
    async with Bus(deployment) as bus:
        await bus.send(facts.capture(alice, uuid4(), image_id), subject=image_id, tenant=alice)
        await eventually(lambda: image_row(deployment, image_id))

        forged = [
            # In mallory's own name, about alice's image.
            await bus.send(
                CaptureProgressed(image_id=image_id, account_id=mallory, percent=90),
                subject=image_id,
                tenant=mallory,
                sequence=2,
            ),
            await bus.send(ready(image_id, mallory), subject=image_id, tenant=mallory, sequence=3),
            # Naming alice in the body, stated in mallory's name.
            await bus.send(ready(image_id, alice), subject=image_id, tenant=mallory, sequence=4),
        ]
        forged_ids = {str(event.id) for event in forged}

        def all_parked(records: list[Any]) -> bool:
            return forged_ids <= {body(r)["data"].get("event_id") for r in records}

        letters = {
            body(r)["data"]["event_id"]: body(r)["data"]
            for r in await bus.read("DeadLetter", all_parked)
            if body(r)["data"].get("event_id") in forged_ids
        }
        assert {letter["error_type"] for letter in letters.values()} == {"Rejected"}
        assert f"does not own image {image_id}" in letters[str(forged[0].id)]["reason"]
        assert f"does not own image {image_id}" in letters[str(forged[1].id)]["reason"]
        assert f"tenant {mallory} may not state" in letters[str(forged[2].id)]["reason"]
        assert await image_row(deployment, image_id) == {
            "status": "creating",
            "progress": 0,
            "name": "TEST-G",
        }

        # The refused facts did not advance the image's version line: alice's own next
        # fact (sequence 2, below the forged 3 and 4) still applies.
        await bus.send(
            CaptureProgressed(image_id=image_id, account_id=alice, percent=40),
            subject=image_id,
            tenant=alice,
            sequence=2,
        )

        async def progressed() -> bool:
            return bool((await image_row(deployment, image_id))["progress"] == 40)

        await eventually(progressed)


async def test_a_stale_fact_arriving_late_changes_nothing(
    deployment: TestStack, spawn: Spawn
) -> None:
    spawn(deployment, "catalog").start().wait_healthy()
    account, image_id = uuid4(), uuid4()
    async with Bus(deployment) as bus:
        await bus.send(facts.capture(account, uuid4(), image_id), subject=image_id, tenant=account)
        await eventually(lambda: image_row(deployment, image_id))
        await bus.send(
            CaptureProgressed(image_id=image_id, account_id=account, percent=60),
            subject=image_id,
            tenant=account,
            sequence=3,
        )

        async def at_60() -> bool:
            return bool((await image_row(deployment, image_id))["progress"] == 60)

        await eventually(at_60)
        # Capture reported 2 before 3, but 2 arrives last (e.g. it waited in a retry).
        late = await bus.send(
            CaptureProgressed(image_id=image_id, account_id=account, percent=30),
            subject=image_id,
            tenant=account,
            sequence=2,
        )

        async def late_handled() -> bool:
            conn = await asyncpg.connect(
                deployment.dsns["catalog"], server_settings={"search_path": "catalog"}
            )
            try:
                return bool(await conn.fetchval("SELECT 1 FROM inbox WHERE event_id = $1", late.id))
            finally:
                await conn.close()

        await eventually(late_handled)
    assert (await image_row(deployment, image_id))["progress"] == 60
