"""One attempt at one capture job: check the host, inspect the guest (K4), convert the
system disk into a staged qcow2 image (K3), then record the outcome (``outcomes.py``).

While the disk is read, a watcher beside it checks the host every second and renews the
job's lease: a host started, changed or deleted meanwhile stops the copy at once (qemu-img
is killed, every partial file removed) and fails the capture (K2); a lease taken over by
another worker stops it too, and this worker announces nothing. A watch that fails for a
passing outage is only logged; one that fails for another reason (a bug) stops the copy,
and the capture fails as on any other bug. The outcome is checked again under a row lock on
the host in the transaction that publishes it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from uuid import UUID

import asyncpg
import structlog

from schemas.events import IMAGE, CaptureProgressed, Preflight
from services.capture import outcomes, preflight, store
from services.capture.disks import BlockStorage, DiskUnreadable
from services.capture.domain import (
    HOST_CHANGED,
    MAY_CHANGE_SOON,
    Host,
    Refusal,
    changed_during_capture,
    preflight_refused,
    refusal_for,
)
from services.capture.image_store import ImageStore, StagedImage
from services.common.companion import Companion
from services.common.failures import is_transient
from services.common.uow import UnitOfWorkFactory

_log = structlog.get_logger(__name__)

HOST_FACTS_RECHECK_SECONDS = 1.0
HOST_WATCH_SECONDS = 1.0  # how soon a copy stops after its host changed
PROGRESS_STEP = 5  # percent: a CaptureProgressed at least every 5 % ...
PROGRESS_SECONDS = 2.0  # ... or every 2 s while it advances
MAX_ATTEMPTS = 5
TOO_MANY_ATTEMPTS = Refusal("internal_error", "多次尝试创建镜像均未完成，镜像创建失败。")
# What the tenant reads; the details (paths, errno) go to the log, not to the tenant.
DISK_UNREADABLE = Refusal("disk_unreadable", "无法读取云主机系统盘，镜像创建失败。")


class LeaseLost(Exception):
    """Another worker took the job over (this one was too slow to renew its lease)."""


class HostChangedDuringCapture(Exception):
    """The host was started, changed or deleted while its disk was being read."""


@dataclass(frozen=True)
class Workplace:
    """What every attempt of one worker shares."""

    uow_factory: UnitOfWorkFactory
    images: ImageStore
    disks: BlockStorage
    owner: UUID
    lease_seconds: int
    host_facts_grace: float

    @property
    def pool(self) -> asyncpg.Pool:
        return self.uow_factory.pool


class CaptureAttempt:
    def __init__(self, place: Workplace, job: store.Job) -> None:
        self._place = place
        self._job = job
        self._log = _log.bind(image_id=str(job.image_id), attempt=job.attempts)
        self._outcomes = outcomes.Outcomes(place.uow_factory, place.images, job, place.owner)
        self._percent = 0
        self._reported = (-1, 0.0)  # percent, when

    async def run(self) -> None:
        job = self._job
        if job.attempts > MAX_ATTEMPTS:
            await self._outcomes.fail(TOO_MANY_ATTEMPTS)
            return
        async with self._place.pool.acquire() as conn:
            host = await store.get_host(conn, job.host_id)
        if (refusal := refusal_for(host, job.account_id)) is not None:
            await self._refuse_or_wait(refusal)
            return
        assert host is not None
        self._log.info("capture.started", host_id=str(host.host_id))
        started = time.monotonic()
        try:
            guest, staged = await self._prepare(host)
        except HostChangedDuringCapture:
            self._log.warning("capture.host_changed", host_id=str(host.host_id))
            await self._outcomes.fail(HOST_CHANGED)
            return
        except DiskUnreadable as exc:
            self._log.warning("capture.disk_unreadable", detail=str(exc))
            await self._outcomes.fail(DISK_UNREADABLE)
            return
        except LeaseLost:
            self._log.warning("capture.lease_lost")
            return
        except Exception as exc:
            if is_transient(exc):
                raise  # the job stays leased to us, then to whoever takes it next
            # A bug, in the copy or in its watch: fail cleanly, not forever.
            self._log.exception("capture.crashed")
            await self._outcomes.fail(
                Refusal("internal_error", f"内部错误（{type(exc).__name__}）。")
            )
            return
        if staged is None:
            await self._outcomes.fail(preflight_refused(guest), preflight=guest)
            return
        await self._outcomes.complete(host, staged, guest, seconds=time.monotonic() - started)

    async def _prepare(self, host: Host) -> tuple[Preflight, StagedImage | None]:
        """Inspect the guest, then (unless strict preflight refuses it) stage the image,
        with the watcher beside. Its failure (the host changed, the lease lost, a bug)
        stops either at once and is raised here; whatever ends early leaves no file."""
        images, image_id = self._place.images, self._job.image_id
        staged: StagedImage | None = None
        try:
            async with Companion(self._watch(host), name="capture-watch"):
                source = await self._place.disks.open(host.system_disk)
                guest = await preflight.inspect(
                    source, host.os, lambda: images.scratch(image_id, "inspect.raw")
                )
                self._log.info("capture.preflight", status=guest.status, found=len(guest.findings))
                if self._job.strict_preflight and guest.status == "findings":
                    return guest, None
                staged = await images.stage(image_id, source, self._progress)
        except BaseException:
            if staged is not None:  # the copy was done when its watcher failed
                images.discard(staged)
            raise
        return guest, staged

    async def _refuse_or_wait(self, refusal: Refusal) -> None:
        """Host facts travel on another topic and may lag the request: wait a little for
        a HostChanged that lifts the refusal before failing the capture."""
        job, place = self._job, self._place
        if refusal.code in MAY_CHANGE_SOON and job.age_seconds < place.host_facts_grace:
            async with place.pool.acquire() as conn:
                await store.defer_job(conn, job.image_id, place.owner, HOST_FACTS_RECHECK_SECONDS)
        else:
            await self._outcomes.fail(refusal)

    async def _watch(self, started: Host) -> None:
        """Every second: has the host changed since the copy started (HostChanged is
        applied to ``hosts`` by any capture process)? Every third of the lease: renew it.
        Runs until the copy ends and cancels it."""
        job, place = self._job, self._place
        renewed_at = time.monotonic()
        while True:
            await asyncio.sleep(HOST_WATCH_SECONDS)
            try:
                async with place.pool.acquire() as conn:
                    if changed_during_capture(started, await store.get_host(conn, job.host_id)):
                        raise HostChangedDuringCapture(str(job.host_id))
                    if time.monotonic() - renewed_at < place.lease_seconds / 3:
                        continue
                    if not await store.renew_lease(
                        conn, job.image_id, place.owner, self._percent, place.lease_seconds
                    ):
                        raise LeaseLost(str(job.image_id))
                    renewed_at = time.monotonic()
            except (HostChangedDuringCapture, LeaseLost):
                raise
            except Exception as exc:
                if not is_transient(exc):
                    raise
                # The database unreachable for a moment: the copy goes on, and the next
                # round tells whether the host and the lease survived the outage.
                self._log.warning("capture.watch_failed", error=repr(exc))

    async def _progress(self, percent: int) -> None:
        """Report at every 5 % step, or after 2 s if it advanced at all; stop the copy once
        the job is someone else's."""
        self._percent = percent
        last_percent, last_at = self._reported
        now = time.monotonic()
        step = percent // PROGRESS_STEP > last_percent // PROGRESS_STEP
        if not step and (percent <= last_percent or now - last_at < PROGRESS_SECONDS):
            return
        job, place = self._job, self._place
        async with place.uow_factory.unit_of_work(correlation_id=job.correlation_id) as uow:
            if not await store.renew_lease(
                uow.conn, job.image_id, place.owner, percent, place.lease_seconds
            ):
                raise LeaseLost(str(job.image_id))
            await uow.emit(
                CaptureProgressed(
                    image_id=job.image_id, account_id=job.account_id, percent=percent
                ),
                aggregate_type=IMAGE,
                aggregate_id=str(job.image_id),
                tenant=str(job.account_id),
            )
        self._reported = (percent, now)
