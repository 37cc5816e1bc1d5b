"""The handlers of a capture attempt's results, each in the unit of work the job opens
for it and only while the job is still the worker's (``owner``): progress announced with
``CaptureProgressed``; the image published with ``ImageReady``; or every file of it
removed with ``CaptureFailed``. Each records the job's state in the same transaction."""

from __future__ import annotations

import asyncio
from uuid import UUID

import structlog

from schemas.envelope import utc_now
from schemas.events import (
    IMAGE,
    CaptureFailed,
    CaptureProgressed,
    Event,
    ImageReady,
    ImageSource,
    Preflight,
)
from services.capture.adapters.image_store import ImageStore, StagedImage
from services.capture.domain import (
    HOST_CHANGED,
    Host,
    Job,
    changed_during_capture,
    failure_code,
    keeps_source_password,
    min_memory_mb,
    reason_of,
)
from services.capture.ports import Store
from services.common.failpoints import failpoint
from services.common.ports import UnitOfWork
from services.common.refusals import Refusal

_log = structlog.get_logger(__name__)


async def _announce(uow: UnitOfWork[Store], job: Job, data: Event) -> None:
    await uow.emit(
        data, aggregate_type=IMAGE, aggregate_id=str(job.image_id), tenant=str(job.account_id)
    )


async def record_progress(
    uow: UnitOfWork[Store], job: Job, owner: UUID, percent: int, lease_seconds: int
) -> bool:
    """Renew the lease with the percent done and announce it; False once the job is
    someone else's (nothing announced)."""
    if not await uow.store.renew_lease(job.image_id, owner, percent, lease_seconds):
        return False
    progressed = CaptureProgressed(
        image_id=job.image_id, account_id=job.account_id, percent=percent
    )
    await _announce(uow, job, progressed)
    return True


async def record_ready(
    uow: UnitOfWork[Store],
    images: ImageStore,
    job: Job,
    owner: UUID,
    started: Host,
    staged: StagedImage,
    guest: Preflight,
) -> bool:
    """Publish the staged image and announce it, unless the host changed after all
    (checked under a row lock: a HostChanged for it waits until this is decided). True
    when the image was published."""
    if changed_during_capture(started, await uow.store.lock_host(job.host_id)):
        images.discard(staged)
        await record_failure(uow, images, job, owner, HOST_CHANGED)
        return False
    if not await uow.store.finish_job(job.image_id, owner):
        images.discard(staged)
        _log.warning("capture.lease_lost", image_id=str(job.image_id), attempt=job.attempts)
        return False
    # Published only now that the job is ours to finish; if the commit fails, the next
    # attempt publishes its own copy over this one.
    await asyncio.to_thread(images.publish, staged)
    failpoint("capture.after_publish")
    await _announce(uow, job, _image_ready(job, started, staged, guest))
    return True


def _image_ready(job: Job, started: Host, staged: StagedImage, guest: Preflight) -> ImageReady:
    return ImageReady(
        image_id=job.image_id,
        account_id=job.account_id,
        name=job.name,
        description=job.description,
        source=ImageSource(host_id=started.host_id, host_name=started.name),
        os=started.os,
        system_disk_gb=started.system_disk.size_gb,
        min_memory_mb=min_memory_mb(started.os),
        disk_format=staged.disk_format,
        size_bytes=staged.size_bytes,
        virtual_size_bytes=staged.virtual_size_bytes,
        checksum_sha256=staged.checksum_sha256,
        location=staged.location,
        finished_at=utc_now(),
        preflight=guest,
        keeps_source_password=keeps_source_password(started.os),
    )


async def record_failure(
    uow: UnitOfWork[Store],
    images: ImageStore,
    job: Job,
    owner: UUID,
    refusal: Refusal,
    preflight: Preflight | None = None,
) -> None:
    """Fail the capture: nothing of the image kept, ``CaptureFailed`` with the refusal's
    code and reason (unless the job is someone else's now)."""
    log = _log.bind(image_id=str(job.image_id), attempt=job.attempts)
    if not await uow.store.finish_job(job.image_id, owner, refusal):
        log.warning("capture.lease_lost")
        return
    # A failed capture keeps nothing, also not what an earlier attempt left behind.
    await asyncio.to_thread(images.remove, job.image_id)
    failed = CaptureFailed(
        image_id=job.image_id,
        account_id=job.account_id,
        host_id=job.host_id,
        name=job.name,
        code=failure_code(refusal),
        reason=reason_of(refusal),
        failed_at=utc_now(),
        preflight=preflight,
    )
    await _announce(uow, job, failed)
    log.info("capture.failed", code=refusal.code)
