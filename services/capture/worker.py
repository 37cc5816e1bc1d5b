"""The capture worker: runs queued capture jobs, one at a time per process.

A job is claimed with a lease (``FOR UPDATE SKIP LOCKED``), so several capture processes
share the queue and a job whose process died is taken again once its lease runs out. The
image file is written atomically; the job's outcome and the event announcing it commit in
one transaction, after checking under a row lock that the host did not change meanwhile.
"""

from __future__ import annotations

import asyncio

import structlog

from schemas.envelope import utc_now
from schemas.events import CaptureFailed, CaptureProgressed, ImageReady, ImageSource
from services.capture import store
from services.capture.domain import (
    HOST_CHANGED,
    MAY_CHANGE_SOON,
    Host,
    Refusal,
    changed_during_capture,
    min_memory_mb,
    refusal_for,
)
from services.capture.image_store import DiskUnreadable, ImageStore, StoredImage
from services.common.backoff import DEFAULT_BACKOFF
from services.common.db import TRANSIENT_DB_ERRORS
from services.common.uow import Messaging, UnitOfWork

_log = structlog.get_logger(__name__)

HOST_FACTS_RECHECK_SECONDS = 1.0
IMAGE = "image"


class LeaseLost(Exception):
    """Another worker took the job over (this one was too slow to renew its lease)."""


class CaptureWorker:
    def __init__(
        self,
        messaging: Messaging,
        images: ImageStore,
        *,
        lease_seconds: int,
        host_facts_grace: float,
        poll_interval: float = 0.5,
    ) -> None:
        self._messaging = messaging
        self._pool = messaging.pool
        self._images = images
        self._lease = lease_seconds
        self._grace = host_facts_grace
        self._poll = poll_interval

    async def run(self) -> None:
        attempt = 0
        while True:
            try:
                async with self._pool.acquire() as conn:
                    job = await store.claim_next_job(conn, self._lease)
                attempt = 0
                if job is None:
                    await asyncio.sleep(self._poll)
                    continue
                await self._execute(job)
            except asyncio.CancelledError:
                raise
            except TRANSIENT_DB_ERRORS as exc:
                attempt += 1
                _log.warning("capture.retry", attempt=attempt, error=repr(exc))
                await asyncio.sleep(DEFAULT_BACKOFF.delay(attempt))

    async def _execute(self, job: store.Job) -> None:
        log = _log.bind(image_id=str(job.image_id), host_id=str(job.host_id), attempt=job.attempts)
        async with self._pool.acquire() as conn:
            host = await store.get_host(conn, job.host_id)
        if (refusal := refusal_for(host, job.account_id)) is not None:
            if refusal.code in MAY_CHANGE_SOON and job.age_seconds < self._grace:
                async with self._pool.acquire() as conn:
                    await store.defer_job(conn, job.image_id, HOST_FACTS_RECHECK_SECONDS)
            else:
                await self._fail(job, refusal)
            return
        assert host is not None
        log.info("capture.started")
        try:
            stored = await self._images.capture(
                job.image_id, host.system_disk, lambda p: self._progress(job, p)
            )
        except DiskUnreadable as exc:
            await self._fail(job, Refusal("disk_unreadable", f"无法读取云主机系统盘：{exc}"))
            return
        except LeaseLost:
            log.warning("capture.lease_lost")
            return
        except TRANSIENT_DB_ERRORS:
            raise
        except Exception as exc:  # a bug: fail this image cleanly rather than retry forever
            log.exception("capture.crashed")
            await self._fail(job, Refusal("internal_error", f"内部错误：{type(exc).__name__}"))
            return
        await self._complete(job, host, stored)
        log.info("capture.finished", size_bytes=stored.size_bytes)

    async def _progress(self, job: store.Job, percent: int) -> None:
        async with self._messaging.unit_of_work(correlation_id=job.correlation_id) as uow:
            if not await store.renew_lease(uow.conn, job.image_id, percent, self._lease):
                raise LeaseLost(str(job.image_id))
            await uow.emit(
                CaptureProgressed(
                    image_id=job.image_id, account_id=job.account_id, percent=percent
                ),
                aggregate_type=IMAGE,
                aggregate_id=str(job.image_id),
                tenant=str(job.account_id),
            )

    async def _complete(self, job: store.Job, started: Host, stored: StoredImage) -> None:
        async with self._messaging.unit_of_work(correlation_id=job.correlation_id) as uow:
            # FOR SHARE: a HostChanged for this host waits until this outcome is decided.
            row = await uow.conn.fetchrow(
                "SELECT * FROM hosts WHERE host_id = $1 FOR SHARE", job.host_id
            )
            now = Host.from_row(row) if row else None
            if changed_during_capture(started, now):
                self._images.remove(job.image_id, stored.disk_format)
                await self._record_failure(uow, job, HOST_CHANGED)
                return
            await store.finish_job(uow.conn, job.image_id)
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
                    disk_format=stored.disk_format,
                    size_bytes=stored.size_bytes,
                    virtual_size_bytes=stored.virtual_size_bytes,
                    checksum_sha256=stored.checksum_sha256,
                    location=stored.location,
                    finished_at=utc_now(),
                ),
                aggregate_type=IMAGE,
                aggregate_id=str(job.image_id),
                tenant=str(job.account_id),
            )

    async def _fail(self, job: store.Job, refusal: Refusal) -> None:
        async with self._messaging.unit_of_work(correlation_id=job.correlation_id) as uow:
            await self._record_failure(uow, job, refusal)

    async def _record_failure(self, uow: UnitOfWork, job: store.Job, refusal: Refusal) -> None:
        await store.finish_job(
            uow.conn, job.image_id, failure_code=refusal.code, failure_reason=refusal.reason
        )
        await uow.emit(
            CaptureFailed(
                image_id=job.image_id,
                account_id=job.account_id,
                host_id=job.host_id,
                name=job.name,
                code=refusal.code,
                reason=refusal.reason,
                failed_at=utc_now(),
            ),
            aggregate_type=IMAGE,
            aggregate_id=str(job.image_id),
            tenant=str(job.account_id),
        )
