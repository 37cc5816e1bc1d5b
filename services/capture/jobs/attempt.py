"""One attempt at one capture job: check the host, inspect the guest (K4), convert the
system disk into a staged qcow2 image (K3), then record the outcome
(:mod:`services.capture.handlers.outcomes`).

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

import structlog

from schemas.events import Preflight
from services.capture.adapters import preflight
from services.capture.adapters.disks import BlockStorage, DiskUnreadable
from services.capture.adapters.image_store import ImageStore, StagedImage
from services.capture.domain import (
    DISK_UNREADABLE,
    HOST_CHANGED,
    MAX_ATTEMPTS,
    TOO_MANY_ATTEMPTS,
    Host,
    Job,
    changed_during_capture,
    crashed,
    may_wait_for_host_facts,
    preflight_refused,
    refusal_for,
)
from services.capture.handlers import outcomes
from services.capture.ports import UnitOfWorkFactory
from services.common.companion import Companion
from services.common.failures import is_transient
from services.common.refusals import Refusal

_log = structlog.get_logger(__name__)

HOST_FACTS_RECHECK_SECONDS = 1.0
HOST_WATCH_SECONDS = 1.0  # how soon a copy stops after its host changed
PROGRESS_STEP = 5  # percent: a CaptureProgressed at least every 5 % ...
PROGRESS_SECONDS = 2.0  # ... or every 2 s while it advances


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


class CaptureAttempt:
    def __init__(self, place: Workplace, job: Job) -> None:
        self._place = place
        self._job = job
        self._log = _log.bind(image_id=str(job.image_id), attempt=job.attempts)
        self._percent = 0
        self._reported = (-1, 0.0)  # percent, when

    async def run(self) -> None:
        job = self._job
        if job.attempts > MAX_ATTEMPTS:
            await self._fail(TOO_MANY_ATTEMPTS)
            return
        async with self._place.uow_factory.reading() as store:
            host = await store.get_host(job.host_id)
        if (refusal := refusal_for(host, job.account_id)) is not None:
            await self._refuse_or_wait(refusal)
            return
        assert host is not None
        await self._capture(host)

    async def _capture(self, host: Host) -> None:
        self._log.info("capture.started", host_id=str(host.host_id))
        started = time.monotonic()
        try:
            guest, staged = await self._prepare(host)
        except LeaseLost:
            self._log.warning("capture.lease_lost")
            return
        except Exception as exc:
            await self._fail(self._refusal_of(exc, host))
            return
        if staged is None:
            await self._fail(preflight_refused(guest), guest)
        elif await self._complete(host, staged, guest):
            self._log.info(
                "capture.finished",
                size_bytes=staged.size_bytes,
                virtual_size_bytes=staged.virtual_size_bytes,
                seconds=round(time.monotonic() - started, 3),
            )

    def _refusal_of(self, exc: Exception, host: Host) -> Refusal:
        """What a capture that raised fails with; a passing outage is raised again: the
        job stays leased to us, then to whoever takes it next."""
        if isinstance(exc, HostChangedDuringCapture):
            self._log.warning("capture.host_changed", host_id=str(host.host_id))
            return HOST_CHANGED
        if isinstance(exc, DiskUnreadable):
            self._log.warning("capture.disk_unreadable", detail=str(exc))
            return DISK_UNREADABLE
        if is_transient(exc):
            raise exc
        # A bug, in the copy or in its watch: fail cleanly, not forever.
        self._log.exception("capture.crashed", exc_info=exc)
        return crashed(exc)

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
        if not may_wait_for_host_facts(refusal, job, place.host_facts_grace):
            await self._fail(refusal)
            return
        async with place.uow_factory.unit_of_work(correlation_id=job.correlation_id) as uow:
            await uow.store.defer_job(job.image_id, place.owner, HOST_FACTS_RECHECK_SECONDS)

    async def _complete(self, host: Host, staged: StagedImage, guest: Preflight) -> bool:
        job, place = self._job, self._place
        async with place.uow_factory.unit_of_work(correlation_id=job.correlation_id) as uow:
            return await outcomes.record_ready(
                uow, place.images, job, place.owner, host, staged, guest
            )

    async def _fail(self, refusal: Refusal, guest: Preflight | None = None) -> None:
        job, place = self._job, self._place
        async with place.uow_factory.unit_of_work(correlation_id=job.correlation_id) as uow:
            await outcomes.record_failure(uow, place.images, job, place.owner, refusal, guest)

    async def _watch(self, started: Host) -> None:
        """Every second: has the host changed since the copy started (HostChanged is
        applied to ``hosts`` by any capture process)? Every third of the lease: renew it.
        Runs until the copy ends and cancels it."""
        renewed_at = time.monotonic()
        while True:
            await asyncio.sleep(HOST_WATCH_SECONDS)
            try:
                if await self._watch_once(started, renewed_at):
                    renewed_at = time.monotonic()
            except (HostChangedDuringCapture, LeaseLost):
                raise
            except Exception as exc:
                if not is_transient(exc):
                    raise
                # The database unreachable for a moment: the copy goes on, and the next
                # round tells whether the host and the lease survived the outage.
                self._log.warning("capture.watch_failed", error=repr(exc))

    async def _watch_once(self, started: Host, renewed_at: float) -> bool:
        """One round of the watch; True if it renewed the lease."""
        job, place = self._job, self._place
        async with place.uow_factory.reading() as store:
            if changed_during_capture(started, await store.get_host(job.host_id)):
                raise HostChangedDuringCapture(str(job.host_id))
        if time.monotonic() - renewed_at < place.lease_seconds / 3:
            return False
        async with place.uow_factory.unit_of_work(correlation_id=job.correlation_id) as uow:
            renewed = await uow.store.renew_lease(
                job.image_id, place.owner, self._percent, place.lease_seconds
            )
        if not renewed:
            raise LeaseLost(str(job.image_id))
        return True

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
        try:
            async with place.uow_factory.unit_of_work(correlation_id=job.correlation_id) as uow:
                renewed = await outcomes.record_progress(
                    uow, job, place.owner, percent, place.lease_seconds
                )
        except Exception as exc:
            if not is_transient(exc):
                raise
            # As in the watch: the database was away (or ended a session frozen in this
            # report); the copy goes on, and the next renewal tells whether the lease held.
            self._log.warning("capture.progress_failed", error=repr(exc))
            return
        if not renewed:
            raise LeaseLost(str(job.image_id))
        self._reported = (percent, now)
