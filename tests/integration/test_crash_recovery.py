"""Killed at the worst moment, restarted: nothing lost, nothing done twice.

Each test runs its own service processes on topics of its own (fresh consumer groups),
with a failpoint that makes the process exit at once, as if killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg

from services.common.failpoints import CRASH_EXIT_CODE
from tests.harness import Bus, ServiceProcess, body, eventually
from tests.infra import TestStack
from tests.integration import facts
from tests.integration.conftest import Spawn
from tests.stored_images import identical, sha256_of


async def fetch_value(dsn: str, schema: str, sql: str, *args: object) -> object:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def announce_seeded_public_images(stack: TestStack, catalog: ServiceProcess) -> None:
    """A catalog's first start announces the seeded public images (C1): let that happen
    first, so that the relay's next batch is the one a test is about."""
    catalog.start().wait_healthy()

    async def announced() -> bool:
        pending = await fetch_value(
            stack.dsns["catalog"],
            "catalog",
            """
            SELECT (SELECT count(*) FROM images WHERE visibility = 'public'
                        AND announced_at IS NULL)
                 + (SELECT count(*) FROM outbox WHERE sent_at IS NULL)
            """,
        )
        return pending == 0

    await eventually(announced)
    catalog.stop()


async def all_registered(stack: TestStack, image_ids: list[UUID]) -> bool:
    """Whether the catalog has a row for every one of these images."""
    sql = "SELECT count(*) FROM images WHERE image_id = ANY($1::uuid[])"
    count = await fetch_value(stack.dsns["catalog"], "catalog", sql, image_ids)
    return count == len(image_ids)


async def image_status(stack: TestStack, image_id: UUID) -> object:
    return await fetch_value(
        stack.dsns["catalog"],
        "catalog",
        "SELECT status FROM images WHERE image_id = $1",
        image_id,
    )


async def test_consumer_killed_between_db_commit_and_offset_commit_has_one_effect(
    deployment: TestStack, spawn: Spawn
) -> None:
    catalog = spawn(deployment, "catalog")
    account, image_id = uuid4(), uuid4()
    async with Bus(deployment) as bus:
        request = await bus.send(
            facts.capture(account, uuid4(), image_id), subject=image_id, tenant=account
        )

        catalog.start(failpoints="consumer.after_commit")
        assert catalog.wait_exit(timeout=90) == CRASH_EXIT_CODE
        assert await image_status(deployment, image_id) == "creating"  # the effect was committed

        catalog.start().wait_healthy()
        # Redelivered (its offset was never committed) and recognised by the inbox: the
        # handler does not run again. (Its store would also shrug off a second insert, so
        # only this metric shows that the inbox, not luck, kept it to one effect.)
        await eventually(lambda: catalog.metric("ims_events_duplicate_total") == 1, timeout=90)
        accepted = await bus.read("CaptureAccepted", lambda rs: len(rs) >= 1, key=str(image_id))
    # One effect means one CaptureAccepted event. Kafka may hold it twice: the relay may
    # have sent it, unmarked, in the instant before the crash (at-least-once delivery,
    # deduplicated by consumers), but a second effect would be a second event id.
    assert len({body(r)["id"] for r in accepted}) == 1
    assert body(accepted[0])["causationid"] == str(request.id)


async def test_relay_killed_after_send_before_mark_resends_and_consumer_ignores_it(
    deployment: TestStack, spawn: Spawn, tmp_path: Path
) -> None:
    catalog = spawn(deployment, "catalog")
    capture = spawn(deployment, "capture")
    await announce_seeded_public_images(deployment, catalog)
    account, host_id, image_id = uuid4(), uuid4(), uuid4()
    async with Bus(deployment) as bus:
        disk = facts.make_disk(tmp_path, 8192)
        await bus.send(facts.host(account, host_id, disk), subject=host_id, tenant=account)
        await bus.send(facts.capture(account, host_id, image_id), subject=image_id, tenant=account)

        catalog.start(failpoints="relay.after_send")
        assert catalog.wait_exit(timeout=90) == CRASH_EXIT_CODE
        first = await bus.read("CaptureAccepted", lambda rs: len(rs) >= 1, key=str(image_id))
        unsent = await fetch_value(
            deployment.dsns["catalog"],
            "catalog",
            "SELECT count(*) FROM outbox WHERE sent_at IS NULL",
        )
        assert unsent, "the relay died before marking what it sent"

        catalog.start().wait_healthy()
        capture.start().wait_healthy()
        resent = await bus.read("CaptureAccepted", lambda rs: len(rs) >= 2, key=str(image_id))
        # The second copy reaches capture's inbox as a duplicate: one job, one capture.
        await eventually(lambda: capture.metric("ims_events_duplicate_total") >= 1, timeout=90)

        async def normal() -> bool:
            return await image_status(deployment, image_id) == "normal"

        await eventually(normal, timeout=60)
        ready = await bus.read("ImageReady", lambda rs: len(rs) >= 1, key=str(image_id))
    assert body(resent[0])["id"] == body(resent[1])["id"] == body(first[0])["id"]
    assert len({body(r)["id"] for r in ready}) == 1
    jobs = await fetch_value(
        deployment.dsns["capture"],
        "capture",
        "SELECT count(*) FROM capture_jobs WHERE image_id = $1",
        image_id,
    )
    assert jobs == 1


async def test_a_restarted_consumer_processes_its_whole_backlog(
    deployment: TestStack, spawn: Spawn
) -> None:
    """faust-streaming 0.15.3 with aiokafka 0.14 skipped records after a restart with a
    backlog; this pins the behaviour of the versions we ship."""
    catalog = spawn(deployment, "catalog")
    account = uuid4()
    async with Bus(deployment) as bus:
        catalog.start().wait_healthy()
        warmup = uuid4()
        await bus.send(facts.capture(account, uuid4(), warmup), subject=warmup, tenant=account)
        await eventually(lambda: image_status(deployment, warmup), timeout=90)
        assert catalog.stop() == 0

        backlog = [uuid4() for _ in range(60)]
        for image_id in backlog:
            await bus.send(
                facts.capture(account, uuid4(), image_id), subject=image_id, tenant=account
            )

        catalog.start().wait_healthy()

        await eventually(lambda: all_registered(deployment, backlog), timeout=120)


async def test_capture_killed_after_publishing_before_commit_finishes_once(
    deployment: TestStack, spawn: Spawn, tmp_path: Path
) -> None:
    catalog = spawn(deployment, "catalog")
    capture = spawn(deployment, "capture")
    capture.env["IMS_JOB_LEASE_SECONDS"] = "6"  # the successor may take the job soon
    account, host_id, image_id = uuid4(), uuid4(), uuid4()
    disk = facts.make_disk(tmp_path, 5 * 1024 * 1024)
    async with Bus(deployment) as bus:
        await bus.send(facts.host(account, host_id, disk), subject=host_id, tenant=account)
        await bus.send(facts.capture(account, host_id, image_id), subject=image_id, tenant=account)
        catalog.start().wait_healthy()
        capture.start(failpoints="capture.after_publish")
        assert capture.wait_exit(timeout=90) == CRASH_EXIT_CODE
        capture.start().wait_healthy()
        ready = await bus.read("ImageReady", lambda rs: len(rs) >= 1, key=str(image_id))

        async def normal() -> bool:
            return await image_status(deployment, image_id) == "normal"

        await eventually(normal, timeout=60)
    assert len({body(r)["id"] for r in ready}) == 1
    image = Path(body(ready[0])["data"]["location"])
    assert identical(disk, image)
    assert body(ready[0])["data"]["checksum_sha256"] == sha256_of(image)
    assert not list(image.parent.glob(f".{image_id}.*.partial"))  # nothing half-written left
    attempts = await fetch_value(
        deployment.dsns["capture"],
        "capture",
        "SELECT attempts FROM capture_jobs WHERE image_id = $1",
        image_id,
    )
    assert attempts == 2


async def test_a_consumer_killed_mid_batch_neither_loses_nor_doubles_an_effect(
    deployment: TestStack, spawn: Spawn
) -> None:
    """A backlog is handled in batches; killed half-way through one (handlers ran, nothing
    committed), the restarted service applies every record exactly once."""
    catalog = spawn(deployment, "catalog")
    backlog = [uuid4() for _ in range(40)]
    async with Bus(deployment) as bus:
        for image_id in backlog:
            account = uuid4()  # one image each: all within the private-image quota
            await bus.send(
                facts.capture(account, uuid4(), image_id), subject=image_id, tenant=account
            )
        catalog.start(failpoints="consumer.mid_batch")
        assert catalog.wait_exit(timeout=90) == CRASH_EXIT_CODE
        assert "failpoint.crash" in catalog.log_tail()
        catalog.start().wait_healthy()

        await eventually(lambda: all_registered(deployment, backlog), timeout=90)
        accepted = await bus.read("CaptureAccepted", lambda rs: len(rs) >= len(backlog))
    by_image: dict[str, set[str]] = {}
    for r in accepted:
        by_image.setdefault(body(r)["subject"], set()).add(body(r)["id"])
    assert sorted(by_image) == sorted(str(i) for i in backlog)
    assert all(len(ids) == 1 for ids in by_image.values()), "an effect applied twice"
    handled = await fetch_value(deployment.dsns["catalog"], "catalog", "SELECT count(*) FROM inbox")
    assert handled == len(backlog)


async def test_a_consumer_stopped_mid_batch_loses_nothing_and_doubles_nothing(
    deployment: TestStack, spawn: Spawn
) -> None:
    """SIGTERM (a deploy) while a batch is half handled: the stop lets the batch finish
    and commit. Its grace period then runs out at the worst moment, right after that
    commit, before the records' offsets are: every record comes again after the restart.
    Nothing is lost, and nothing is handled twice.

    The catalog's admission is idempotent by image id, so the images and events alone
    would look right even if every redelivered record were handled again; the metrics
    count the handler runs, and only the inbox keeps them to one per event.
    """
    catalog = spawn(deployment, "catalog")
    backlog = [uuid4() for _ in range(40)]
    async with Bus(deployment) as bus:
        for image_id in backlog:
            account = uuid4()
            await bus.send(
                facts.capture(account, uuid4(), image_id), subject=image_id, tenant=account
            )
        catalog.start(failpoints="consumer.mid_batch:pause,consumer.after_commit")
        await eventually(lambda: "failpoint.pause" in catalog.log_tail(200), timeout=90)
        # The stop waits for the paused batch, which commits; the process dies there.
        assert catalog.stop() == CRASH_EXIT_CODE
        committed = await fetch_value(
            deployment.dsns["catalog"], "catalog", "SELECT count(*) FROM inbox"
        )
        assert isinstance(committed, int)
        assert committed > 0, "the stop abandoned the half-handled batch"

        catalog.start().wait_healthy()

        await eventually(lambda: all_registered(deployment, backlog), timeout=90)

        def seen() -> float:
            return catalog.metric("ims_events_handled_total") + catalog.metric(
                "ims_events_duplicate_total"
            )

        # No offset was committed: the restarted service gets the whole backlog again.
        await eventually(lambda: seen() >= len(backlog), timeout=90)
        accepted = await bus.read("CaptureAccepted", lambda rs: len(rs) >= len(backlog))
    # Each event handled once over the two lives: what the first committed, the inbox
    # recognises; only the rest runs its handler now.
    assert catalog.metric("ims_events_handled_total") == len(backlog) - committed
    assert catalog.metric("ims_events_duplicate_total") >= committed
    handled = await fetch_value(deployment.dsns["catalog"], "catalog", "SELECT count(*) FROM inbox")
    assert handled == len(backlog)
    assert len({body(r)["subject"] for r in accepted}) == len(backlog)
    assert len({body(r)["id"] for r in accepted}) == len(backlog)


async def test_a_consumer_killed_while_its_backlog_grows_resumes_without_skipping_or_doubling(
    deployment: TestStack, spawn: Spawn
) -> None:
    """SIGKILL while records keep arriving, then a restart: every record handled once,
    from the committed offsets (the re-test of the aiokafka pin, docs/architecture.md)."""
    catalog = spawn(deployment, "catalog")
    images = [uuid4() for _ in range(150)]
    async with Bus(deployment) as bus:
        catalog.start().wait_healthy()

        async def produce(ids: list[UUID]) -> None:
            for image_id in ids:
                account = uuid4()  # one each: an account's private image quota is small
                await bus.send(
                    facts.capture(account, uuid4(), image_id), subject=image_id, tenant=account
                )

        await produce(images[:50])
        await eventually(lambda: catalog.metric("ims_events_handled_total") >= 10, timeout=90)
        os.kill(catalog.pid, signal.SIGKILL)  # mid-stream: some handled, some not committed
        catalog.wait_exit(timeout=30)
        await produce(images[50:])  # the backlog grows while it is down
        catalog.start().wait_healthy()

        await eventually(lambda: all_registered(deployment, images), timeout=180)
        accepted = await bus.read(
            "CaptureAccepted", lambda rs: len({r.key for r in rs}) >= len(images)
        )
    # One CaptureAccepted event an image (the relay may send one twice: same id).
    assert len({body(r)["subject"] for r in accepted}) == len(images)
    assert len({body(r)["id"] for r in accepted}) == len(images)
