"""The capture worker: runs queued capture jobs, one at a time per process.

A job is claimed with a lease in this worker's name (``FOR UPDATE SKIP LOCKED``), so several
capture processes share the queue, and a job whose worker died is taken again once its
lease runs out; the copy that worker left staged is then removed. A heartbeat renews the
lease while the disk is copied; a worker that finds its lease taken over stops, discards
its copy and announces nothing. A heartbeat that fails for another reason than a passing
outage (a bug) stops the copy too, and the capture fails as it does on any other bug. The
copy is published (renamed into place) in the same transaction that records the outcome
and queues the event announcing it, after checking under a row lock that the host did not
change meanwhile (K2).
"""

from __future__ import annotations

import asyncio
from uuid import uuid4

import structlog

from schemas.envelope import utc_now
from schemas.events import (
    IMAGE,
    CaptureFailed,
    CaptureProgressed,
    HostDisk,
    ImageReady,
    ImageSource,
)
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
from services.capture.image_store import DiskUnreadable, ImageStore, StagedImage
from services.common.companion import Companion
from services.common.failpoints import failpoint
from services.common.failures import is_transient
from services.common.retry import retry_forever
from services.common.uow import UnitOfWork, UnitOfWorkFactory

_log = structlog.get_logger(__name__)

HOST_FACTS_RECHECK_SECONDS = 1.0
MAX_ATTEMPTS = 5
TOO_MANY_ATTEMPTS = Refusal("internal_error", "多次尝试创建镜像均未完成，镜像创建失败。")
# What the tenant reads; the details (paths, errno) go to the log, not to the tenant.
DISK_UNREADABLE = Refusal("disk_unreadable", "无法读取云主机系统盘，镜像创建失败。")


class LeaseLost(Exception):
    """Another worker took the job over (this one was too slow to renew its lease)."""


class CaptureWorker:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        images: ImageStore,
        *,
        lease_seconds: int,
        host_facts_grace: float,
        poll_interval: float = 0.5,
    ) -> None:
        self._uow_factory = uow_factory
        self._pool = uow_factory.pool
        self._images = images
        self._lease = lease_seconds
        self._grace = host_facts_grace
        self._poll = poll_interval
        self._owner = uuid4()  # this worker's name on the leases it holds

    async def run(self) -> None:
        while True:
            await retry_forever(self._run_once, component="capture-worker")

    async def _run_once(self) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            job = await store.claim_next_job(conn, self._owner, self._lease)
            if job is not None and job.attempts > 1:
                await self._remove_orphans(job)
        if job is None:
            await asyncio.sleep(self._poll)
        else:
            await _Capture(self, job).run()

    async def _remove_orphans(self, job: store.Job) -> None:
        """Delete what earlier attempts at ``job`` left staged (a worker killed mid-copy).

        Safe, because it runs in the claim's transaction, under its row lock:
        - a job is claimed again only once its previous worker's lease ran out, so that
          worker is deemed dead, and the claim makes this worker the job's owner. A worker
          publishes its copy only after finish_job found it still the owner (under the same
          row lock), so a staged copy of an earlier attempt can never become the image. If
          its worker does still live (frozen, cut off from the database), it finds its lease
          lost and announces nothing; its open file going away does not disturb it;
        - no other worker can claim the job before this transaction commits, so no staged
          file removed here belongs to a worker that holds the lease.
        """
        removed = await asyncio.to_thread(self._images.remove_staged, job.image_id)
        if removed:
            _log.info("capture.orphans_removed", image_id=str(job.image_id), files=removed)


class _Capture:
    """One attempt at one job."""

    def __init__(self, worker: CaptureWorker, job: store.Job) -> None:
        self._w = worker
        self._job = job
        self._log = _log.bind(image_id=str(job.image_id), attempt=job.attempts)
        self._percent = 0
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
            staged = await self._stage(host.system_disk)
        except DiskUnreadable as exc:
            self._log.warning("capture.disk_unreadable", detail=str(exc))
            await self._fail(DISK_UNREADABLE)
            return
        except LeaseLost:
            self._log.warning("capture.lease_lost")
            return
        except Exception as exc:
            if is_transient(exc):
                raise  # the job stays leased to us, then to whoever takes it next
            # A bug, in the copy or in its heartbeat: fail cleanly, not forever.
            self._log.exception("capture.crashed")
            await self._fail(Refusal("internal_error", f"内部错误（{type(exc).__name__}）。"))
            return
        await self._complete(host, staged)

    async def _stage(self, disk: HostDisk) -> StagedImage:
        """Copy the disk while a heartbeat keeps the lease. The heartbeat's failure (the
        lease taken over, or a bug) stops the copy and is raised here; whatever ends the
        copy early leaves no staged file behind."""
        staged: StagedImage | None = None
        try:
            async with Companion(self._keep_lease(), name="capture-heartbeat"):
                staged = await self._w._images.stage(self._job.image_id, disk, self._progress)
        except BaseException:
            if staged is not None:  # the copy was done when its heartbeat failed
                self._w._images.discard(staged)
            raise
        return staged

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

    async def _keep_lease(self) -> None:
        """Renew the lease every third of its time for as long as the copy runs, fsync
        included (it runs until the copy ends and cancels it); raise LeaseLost once another
        worker has taken the job over.

        A renewal that fails for a transient reason (the database unreachable for a
        moment) is only logged: the copy goes on, and the next renewal tells whether the
        lease survived the outage. Any other failure is a bug and ends the heartbeat, which
        stops the copy (see _stage)."""
        job = self._job
        while True:
            await asyncio.sleep(self._w._lease / 3)
            try:
                async with self._w._pool.acquire() as conn:
                    renewed = await store.renew_lease(
                        conn, job.image_id, self._w._owner, self._percent, self._w._lease
                    )
            except Exception as exc:
                if not is_transient(exc):
                    raise
                self._log.warning("capture.lease_renewal_failed", error=repr(exc))
                continue
            if not renewed:
                raise LeaseLost(str(job.image_id))

    async def _progress(self, copied: int, total: int) -> None:
        """Report every 10 %; stop the copy once the job is someone else's."""
        self._percent = copied * 100 // total if total else 100
        step = self._percent // 10
        if step == self._reported_step:
            return
        job = self._job
        async with self._w._uow_factory.unit_of_work(correlation_id=job.correlation_id) as uow:
            if not await store.renew_lease(
                uow.conn, job.image_id, self._w._owner, self._percent, self._w._lease
            ):
                raise LeaseLost(str(job.image_id))
            await uow.emit(
                CaptureProgressed(
                    image_id=job.image_id, account_id=job.account_id, percent=self._percent
                ),
                aggregate_type=IMAGE,
                aggregate_id=str(job.image_id),
                tenant=str(job.account_id),
            )
        self._reported_step = step

    async def _complete(self, started: Host, staged: StagedImage) -> None:
        job = self._job
        async with self._w._uow_factory.unit_of_work(correlation_id=job.correlation_id) as uow:
            # Locked: a HostChanged for this host waits until this outcome is decided.
            now = await store.lock_host(uow.conn, job.host_id)
            if changed_during_capture(started, now):
                self._w._images.discard(staged)
                await self._record_failure(uow, HOST_CHANGED)
                return
            if not await store.finish_job(uow.conn, job.image_id, owner=self._w._owner):
                self._w._images.discard(staged)
                self._log.warning("capture.lease_lost")
                return
            # Published only now that the job is ours to finish; if the commit fails, the
            # next attempt publishes its own copy over this one.
            await asyncio.to_thread(self._w._images.publish, staged)
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
                ),
                aggregate_type=IMAGE,
                aggregate_id=str(job.image_id),
                tenant=str(job.account_id),
            )
        self._log.info("capture.finished", size_bytes=staged.size_bytes)

    async def _fail(self, refusal: Refusal) -> None:
        async with self._w._uow_factory.unit_of_work(
            correlation_id=self._job.correlation_id
        ) as uow:
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
        await asyncio.to_thread(self._w._images.remove, job.image_id)
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
