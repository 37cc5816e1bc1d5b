"""The handlers of a capture attempt's results, with fakes: progress, the image published
and announced, a failure announced with exactly the refusal's code and reason, and nothing
announced once the job is someone else's."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID, uuid4

from schemas.events import (
    CaptureFailed,
    CaptureProgressed,
    HostDisk,
    ImageReady,
    OperatingSystem,
    Preflight,
)
from services.capture.domain import (
    DISK_UNREADABLE,
    HOST_CHANGED,
    CaptureRequest,
    Host,
    Job,
    preflight_refused,
)
from services.capture.handlers.outcomes import record_failure, record_progress, record_ready
from tests.fakes import FakeUnitOfWork
from tests.unit.capture.fakes import FakeImageStore, FakeStore, staged_image

WINDOWS = OperatingSystem(family="windows", distro="Windows Server", version="2019")
PASSED = Preflight(status="passed")


async def claimed(store: FakeStore, owner: UUID, *, os: OperatingSystem = WINDOWS) -> Host:
    account, host_id = uuid4(), uuid4()
    disk = HostDisk(disk_id=uuid4(), path="/d/1", format="raw", size_gb=40)
    host = Host(host_id, account, "ecs-1", os, "stopped", 4096, disk, version=7)
    await store.upsert_host(host, store.clock())
    await store.insert_job(CaptureRequest(uuid4(), account, host_id, "web", "d", False, None))
    return host


async def claim(store: FakeStore, owner: UUID) -> Job:
    job = await store.claim_next_job(owner, 60)
    assert job is not None
    return job


async def test_progress_renews_the_lease_and_is_announced() -> None:
    store, owner = FakeStore(), uuid4()
    await claimed(store, owner)
    job = await claim(store, owner)
    uow = FakeUnitOfWork(store)
    assert await record_progress(uow, job, owner, 35, 60)
    assert store.jobs[job.image_id].percent == 35
    assert uow.emitted == [
        CaptureProgressed(image_id=job.image_id, account_id=job.account_id, percent=35)
    ]


async def test_progress_of_a_lost_job_is_not_announced() -> None:
    store, owner = FakeStore(), uuid4()
    await claimed(store, owner)
    job = await claim(store, owner)
    uow = FakeUnitOfWork(store)
    assert not await record_progress(uow, job, uuid4(), 35, 60)
    assert uow.emitted == []


async def test_a_finished_copy_is_published_and_announced() -> None:
    store, images, owner = FakeStore(), FakeImageStore(), uuid4()
    host = await claimed(store, owner)
    job = await claim(store, owner)
    uow, staged = FakeUnitOfWork(store), staged_image(job.image_id)
    assert await record_ready(uow, images, job, owner, host, staged, PASSED)
    assert images.published == {job.image_id}
    assert store.jobs[job.image_id].status == "succeeded"
    [ready] = uow.emitted
    assert isinstance(ready, ImageReady)
    assert (ready.image_id, ready.name, ready.source.host_id) == (job.image_id, "web", host.host_id)
    assert (ready.min_memory_mb, ready.keeps_source_password) == (2048, True)
    assert (ready.checksum_sha256, ready.location) == (staged.checksum_sha256, staged.location)


async def test_a_host_that_changed_before_the_commit_fails_the_capture() -> None:
    store, images, owner = FakeStore(), FakeImageStore(), uuid4()
    host = await claimed(store, owner)
    job = await claim(store, owner)
    await store.upsert_host(replace(host, version=8, state="running"), store.clock())
    uow, staged = FakeUnitOfWork(store), staged_image(job.image_id)
    assert not await record_ready(uow, images, job, owner, host, staged, PASSED)
    assert images.published == set()
    assert images.discarded == [staged]
    assert images.removed == [job.image_id]
    [failed] = uow.emitted
    assert isinstance(failed, CaptureFailed)
    assert (failed.code, failed.reason) == ("host_changed", HOST_CHANGED.message.zh)


async def test_a_copy_of_a_lost_job_is_discarded_and_not_announced() -> None:
    store, images, owner = FakeStore(), FakeImageStore(), uuid4()
    host = await claimed(store, owner)
    job = await claim(store, owner)
    uow, staged = FakeUnitOfWork(store), staged_image(job.image_id)
    assert not await record_ready(uow, images, job, uuid4(), host, staged, PASSED)
    assert (images.published, images.discarded, uow.emitted) == (set(), [staged], [])


async def test_a_failure_keeps_nothing_and_says_why_in_the_consoles_words() -> None:
    store, images, owner = FakeStore(), FakeImageStore(), uuid4()
    await claimed(store, owner)
    job = await claim(store, owner)
    uow = FakeUnitOfWork(store)
    await record_failure(uow, images, job, owner, DISK_UNREADABLE)
    row = store.jobs[job.image_id]
    assert (row.status, row.failure_code, row.failure_reason) == (
        "failed",
        "disk_unreadable",
        "无法读取云主机系统盘，镜像创建失败。",
    )
    assert images.removed == [job.image_id]
    [failed] = uow.emitted
    assert isinstance(failed, CaptureFailed)
    assert (failed.code, failed.reason, failed.preflight) == (
        "disk_unreadable",
        "无法读取云主机系统盘，镜像创建失败。",
        None,
    )


async def test_a_strict_preflight_refusal_carries_the_findings() -> None:
    store, images, owner = FakeStore(), FakeImageStore(), uuid4()
    await claimed(store, owner)
    job = await claim(store, owner)
    guest = Preflight.model_validate(
        {
            "status": "findings",
            "findings": [{"code": "static_ip", "path": "/etc/network/interfaces", "detail": "x"}],
        }
    )
    uow = FakeUnitOfWork(store)
    await record_failure(uow, images, job, owner, preflight_refused(guest), guest)
    [failed] = uow.emitted
    assert isinstance(failed, CaptureFailed)
    assert failed.code == "preflight_refused"
    assert "[static_ip] /etc/network/interfaces：x" in failed.reason
    assert failed.preflight == guest


async def test_a_failure_of_a_lost_job_is_not_announced() -> None:
    store, images, owner = FakeStore(), FakeImageStore(), uuid4()
    await claimed(store, owner)
    job = await claim(store, owner)
    uow = FakeUnitOfWork(store)
    await record_failure(uow, images, job, uuid4(), DISK_UNREADABLE)
    assert (store.jobs[job.image_id].status, images.removed, uow.emitted) == ("running", [], [])
