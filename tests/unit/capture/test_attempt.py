"""A capture attempt's decisions before any disk is read, with fakes: too many attempts
fail it; a host that ECS's facts may still make capturable defers it within the grace
period and fails it after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg

from schemas.events import CaptureFailed, HostDisk, OperatingSystem
from services.capture.adapters.disks import BlockStorage
from services.capture.domain import HOST_RUNNING, HOST_UNKNOWN, CaptureRequest, Host
from services.capture.jobs.attempt import CaptureAttempt, Workplace
from tests.fakes import FakeUnitOfWork
from tests.unit.capture.fakes import FakeImageStore, FakeStore, FakeUnitOfWorks

LINUX = OperatingSystem(family="linux", distro="Debian", version="12")


def workplace(uows: FakeUnitOfWorks, owner: UUID, grace: float = 15.0) -> Workplace:
    return Workplace(
        uow_factory=uows,
        images=FakeImageStore(),
        disks=BlockStorage(Path("/nonexistent")),
        owner=owner,
        lease_seconds=60,
        host_facts_grace=grace,
    )


async def attempt(store: FakeStore, host_id: UUID, *, grace: float = 15.0) -> FakeUnitOfWorks:
    uows, owner = FakeUnitOfWorks(store, clock=store.clock), uuid4()
    await store.insert_job(CaptureRequest(uuid4(), uuid4(), host_id, "web", "", False, None))
    job = await store.claim_next_job(owner, 60)
    assert job is not None
    await CaptureAttempt(workplace(uows, owner, grace), job).run()
    return uows


async def test_an_unknown_host_defers_the_job_while_facts_may_lag() -> None:
    store = FakeStore()
    uows = await attempt(store, uuid4())
    [row] = store.jobs.values()
    assert (row.status, row.attempts, row.lease_owner) == ("queued", 0, None)
    assert uows.outbox.events == []


async def test_an_unknown_host_fails_the_capture_after_the_grace_period() -> None:
    store = FakeStore()
    uows = await attempt(store, uuid4(), grace=0)
    [failed] = uows.outbox.of_type(CaptureFailed)
    assert (failed.code, failed.reason) == ("host_unknown", HOST_UNKNOWN.message.zh)
    assert [row.status for row in store.jobs.values()] == ["failed"]


async def test_a_running_host_fails_the_capture_after_the_grace_period() -> None:
    store, host_id = FakeStore(), uuid4()
    uows = FakeUnitOfWorks(store, clock=store.clock)
    owner, account = uuid4(), uuid4()
    disk = HostDisk(disk_id=uuid4(), path="/d/1", format="raw", size_gb=40)
    await store.upsert_host(
        Host(host_id, account, "h", LINUX, "running", 1024, disk, 1), uows.clock()
    )
    await store.insert_job(CaptureRequest(uuid4(), account, host_id, "web", "", False, None))
    job = await store.claim_next_job(owner, 60)
    assert job is not None
    await CaptureAttempt(workplace(uows, owner, grace=0), job).run()
    [failed] = uows.outbox.of_type(CaptureFailed)
    assert (failed.code, failed.reason) == ("host_running", HOST_RUNNING.message.zh)


async def test_a_job_tried_too_often_fails() -> None:
    store, owner = FakeStore(), uuid4()
    uows = FakeUnitOfWorks(store, clock=store.clock)
    await store.insert_job(CaptureRequest(uuid4(), uuid4(), uuid4(), "web", "", False, None))
    for _ in range(5):  # each attempt's worker died: its lease ran out
        assert await store.claim_next_job(owner, 60) is not None
        store.clock.advance(61)
    claimed = await store.claim_next_job(owner, 60)
    assert claimed is not None
    assert claimed.attempts == 6
    await CaptureAttempt(workplace(uows, owner), claimed).run()
    [failed] = uows.outbox.of_type(CaptureFailed)
    assert (failed.code, failed.reason) == (
        "internal_error",
        "多次尝试创建镜像均未完成，镜像创建失败。",
    )


class DroppedConnections(FakeUnitOfWorks):
    """The database ends every unit of work's session (a frozen worker thawed)."""

    @asynccontextmanager
    async def unit_of_work(
        self, *, correlation_id: UUID | None = None, causation_id: UUID | None = None
    ) -> AsyncIterator[FakeUnitOfWork[FakeStore]]:
        raise asyncpg.exceptions.ConnectionDoesNotExistError("the session was ended")
        yield  # pragma: no cover


async def test_a_progress_report_the_database_drops_lets_the_copy_go_on() -> None:
    """Progress is best effort: the watch's next renewal says whether the lease held. A
    report that raised instead stopped the attempt short of finding its lease lost."""
    store = FakeStore()
    await store.insert_job(CaptureRequest(uuid4(), uuid4(), uuid4(), "web", "", False, None))
    owner = uuid4()
    job = await store.claim_next_job(owner, 60)
    assert job is not None
    uows = DroppedConnections(store, clock=store.clock)
    capture = CaptureAttempt(workplace(uows, owner), job)
    await capture._progress(50)  # no exception: logged, and the copy goes on
    [row] = store.jobs.values()
    assert row.percent == 0  # nothing recorded
