"""How a capture attempt ends: the image published with ``ImageReady``, or every file of it
removed with ``CaptureFailed``; each in one transaction with the job's outcome, and only
while the job is still this worker's."""

from __future__ import annotations

import asyncio
from uuid import UUID

import structlog

from schemas.envelope import utc_now
from schemas.events import IMAGE, CaptureFailed, ImageReady, ImageSource, Preflight
from services.capture import store
from services.capture.domain import (
    HOST_CHANGED,
    Host,
    Refusal,
    changed_during_capture,
    keeps_source_password,
    min_memory_mb,
)
from services.capture.image_store import ImageStore, StagedImage
from services.common.failpoints import failpoint
from services.common.uow import UnitOfWork, UnitOfWorkFactory

_log = structlog.get_logger(__name__)


class Outcomes:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, images: ImageStore, job: store.Job, owner: UUID
    ) -> None:
        self._uow_factory = uow_factory
        self._images = images
        self._job = job
        self._owner = owner
        self._log = _log.bind(image_id=str(job.image_id), attempt=job.attempts)

    async def complete(
        self, started: Host, staged: StagedImage, guest: Preflight, *, seconds: float
    ) -> None:
        """Publish the staged image and announce it, unless the host changed after all
        (checked under a row lock: a HostChanged for it waits until this is decided)."""
        job = self._job
        async with self._uow_factory.unit_of_work(correlation_id=job.correlation_id) as uow:
            now = await store.lock_host(uow.conn, job.host_id)
            if changed_during_capture(started, now):
                self._images.discard(staged)
                await self._record_failure(uow, HOST_CHANGED, None)
                return
            if not await store.finish_job(uow.conn, job.image_id, owner=self._owner):
                self._images.discard(staged)
                self._log.warning("capture.lease_lost")
                return
            # Published only now that the job is ours to finish; if the commit fails, the
            # next attempt publishes its own copy over this one.
            await asyncio.to_thread(self._images.publish, staged)
            failpoint("capture.after_publish")
            await uow.emit(
                ImageReady(
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
                ),
                aggregate_type=IMAGE,
                aggregate_id=str(job.image_id),
                tenant=str(job.account_id),
            )
        self._log.info(
            "capture.finished",
            size_bytes=staged.size_bytes,
            virtual_size_bytes=staged.virtual_size_bytes,
            seconds=round(seconds, 3),
        )

    async def fail(self, refusal: Refusal, *, preflight: Preflight | None = None) -> None:
        async with self._uow_factory.unit_of_work(correlation_id=self._job.correlation_id) as uow:
            await self._record_failure(uow, refusal, preflight)

    async def _record_failure(
        self, uow: UnitOfWork, refusal: Refusal, preflight: Preflight | None
    ) -> None:
        job = self._job
        if not await store.finish_job(
            uow.conn,
            job.image_id,
            owner=self._owner,
            failure_code=refusal.code,
            failure_reason=refusal.reason,
        ):
            self._log.warning("capture.lease_lost")
            return
        # A failed capture keeps nothing, also not what an earlier attempt left behind.
        await asyncio.to_thread(self._images.remove, job.image_id)
        await uow.emit(
            CaptureFailed(
                image_id=job.image_id,
                account_id=job.account_id,
                host_id=job.host_id,
                name=job.name,
                code=refusal.code,
                reason=refusal.reason,
                failed_at=utc_now(),
                preflight=preflight,
            ),
            aggregate_type=IMAGE,
            aggregate_id=str(job.image_id),
            tenant=str(job.account_id),
        )
        self._log.info("capture.failed", code=refusal.code)
