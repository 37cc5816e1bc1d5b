"""The capture worker: runs queued capture jobs, one at a time per process.

A job is claimed with a lease in this worker's name (``FOR UPDATE SKIP LOCKED``), so several
capture processes share the queue, and a job whose worker died is taken again once its
lease runs out. The lease is renewed while the disk is copied; a worker that finds its
lease taken over stops and announces nothing. The image file is written atomically; the
job's outcome and the event announcing it commit in one transaction, after checking under
a row lock that the host did not change meanwhile (K2).
"""

from __future__ import annotations

import asyncio
import time
from uuid import uuid4

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
from services.common.db import is_transient
from services.common.retry import retry_forever
from services.common.uow import Messaging, UnitOfWork

_log = structlog.get_logger(__name__)

IMAGE = "image"
HOST_FACTS_RECHECK_SECONDS = 1.0
MAX_ATTEMPTS = 5
TOO_MANY_ATTEMPTS = Refusal("internal_error", "多次尝试创建镜像均未完成，镜像创建失败。")


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
        self._owner = uuid4()  # this worker's name on the leases it holds

    async def run(self) -> None:
        while True:
            await retry_forever(self._run_once, component="capture-worker")

    async def _run_once(self) -> None:
        async with self._pool.acquire() as conn:
            job = await store.claim_next_job(conn, self._owner, self._lease)
        if job is None:
            await asyncio.sleep(self._poll)
        else:
            await _Capture(self, job).run()


class _Capture:
    """One attempt at one job."""

    def __init__(self, worker: CaptureWorker, job: store.Job) -> None:
        self._w = worker
        self._job = job
        self._log = _log.bind(image_id=str(job.image_id), attempt=job.attempts)
        self._renewed_at = time.monotonic()
        self._reported_step = -1

    async def run(self) -> None:
        job = self._job
        if job.attempts > MAX_ATTEMPTS:
            await self._fail(TOO_MANY_ATTEMPTS)
            return
        async with self._w._pool.acquire() as conn:
            host = await store.get_host(conn, job.host_id)
        if (refusal := refusal_for(host, job.account_id)) is not None:
            await self._refuse_or_wait(refusal)
            return
        assert host is not None
        self._log.info("capture.started", host_id=str(host.host_id))
        try:
            stored = await self._w._images.capture(job.image_id, host.system_disk, self._progress)
        except DiskUnreadable as exc:
            await self._fail(Refusal("disk_unreadable", f"无法读取云主机系统盘：{exc}"))
            return
        except LeaseLost:
            self._log.warning("capture.lease_lost")
            return
        except Exception as exc:
            if is_transient(exc):
                raise  # the job stays leased to us, then to whoever takes it next
            self._log.exception("capture.crashed")  # a bug: fail cleanly, not forever
            await self._fail(Refusal("internal_error", f"内部错误：{type(exc).__name__}"))
            return
        await self._complete(host, stored)

    async def _refuse_or_wait(self, refusal: Refusal) -> None:
        """Host facts travel on another topic and may lag the request: wait a little for
        a HostChanged that lifts the refusal before failing the capture."""
        if refusal.code in MAY_CHANGE_SOON and self._job.age_seconds < self._w._grace:
            async with self._w._pool.acquire() as conn:
                await store.defer_job(
                    conn, self._job.image_id, self._w._owner, HOST_FACTS_RECHECK_SECONDS
                )
        else:
            await self._fail(refusal)

    async def _progress(self, copied: int, total: int) -> None:
        """Renew the lease well before it runs out; report every 10 %."""
        percent = copied * 100 // total if total else 100
        step = percent // 10
        due = time.monotonic() - self._renewed_at > self._w._lease / 3
        if step == self._reported_step and not due:
            return
        job = self._job
        async with self._w._messaging.unit_of_work(correlation_id=job.correlation_id) as uow:
            if not await store.renew_lease(
                uow.conn, job.image_id, self._w._owner, percent, self._w._lease
            ):
                raise LeaseLost(str(job.image_id))
            if step != self._reported_step:
                await uow.emit(
                    CaptureProgressed(
                        image_id=job.image_id, account_id=job.account_id, percent=percent
                    ),
                    aggregate_type=IMAGE,
                    aggregate_id=str(job.image_id),
                    tenant=str(job.account_id),
                )
        self._renewed_at = time.monotonic()
        self._reported_step = step

    async def _complete(self, started: Host, stored: StoredImage) -> None:
        job = self._job
        async with self._w._messaging.unit_of_work(correlation_id=job.correlation_id) as uow:
            # FOR SHARE: a HostChanged for this host waits until this outcome is decided.
            row = await uow.conn.fetchrow(
                "SELECT * FROM hosts WHERE host_id = $1 FOR SHARE", job.host_id
            )
            if changed_during_capture(started, Host.from_row(row) if row else None):
                await self._record_failure(uow, HOST_CHANGED)
                return
            if not await store.finish_job(uow.conn, job.image_id, owner=self._w._owner):
                self._log.warning("capture.lease_lost")
                return
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
        self._log.info("capture.finished", size_bytes=stored.size_bytes)

    async def _fail(self, refusal: Refusal) -> None:
        async with self._w._messaging.unit_of_work(correlation_id=self._job.correlation_id) as uow:
            await self._record_failure(uow, refusal)

    async def _record_failure(self, uow: UnitOfWork, refusal: Refusal) -> None:
        job = self._job
        if not await store.finish_job(
            uow.conn,
            job.image_id,
            owner=self._w._owner,
            failure_code=refusal.code,
            failure_reason=refusal.reason,
        ):
            self._log.warning("capture.lease_lost")
            return
        # A failed capture keeps nothing, also not what an earlier attempt left behind.
        self._w._images.remove(job.image_id)
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
        self._log.info("capture.failed", code=refusal.code)
