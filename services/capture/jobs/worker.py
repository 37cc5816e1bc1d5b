"""The capture worker: takes queued capture jobs, oldest first, and runs them.

A process runs ``IMS_CAPTURE_JOBS_PER_PROCESS`` workers, so at most that many captures at
once; the rest wait in the queue. A job is claimed with a lease in its worker's name
(``FOR UPDATE SKIP LOCKED``), so any number of capture processes share the queue, and a job
whose worker died is taken again once its lease runs out; the files that worker left staged
are then removed. One attempt at a job is :class:`services.capture.jobs.attempt.CaptureAttempt`.
"""

from __future__ import annotations

import asyncio
from uuid import uuid4

import structlog

from services.capture.adapters.disks import BlockStorage
from services.capture.adapters.image_store import ImageStore
from services.capture.domain import Job
from services.capture.jobs.attempt import CaptureAttempt, Workplace
from services.capture.ports import UnitOfWorkFactory
from services.common.retry import retry_forever

_log = structlog.get_logger(__name__)


class CaptureWorker:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        images: ImageStore,
        disks: BlockStorage,
        *,
        lease_seconds: int,
        host_facts_grace: float,
        poll_interval: float = 0.5,
    ) -> None:
        self._place = Workplace(
            uow_factory=uow_factory,
            images=images,
            disks=disks,
            owner=uuid4(),  # this worker's name on the leases it holds
            lease_seconds=lease_seconds,
            host_facts_grace=host_facts_grace,
        )
        self._poll = poll_interval

    async def run(self) -> None:
        while True:
            await retry_forever(self._run_once, component="capture-worker")

    async def _run_once(self) -> None:
        place = self._place
        async with place.uow_factory.unit_of_work() as uow:
            job = await uow.store.claim_next_job(place.owner, place.lease_seconds)
            if job is not None and job.attempts > 1:
                await self._remove_orphans(job)
        if job is None:
            await asyncio.sleep(self._poll)
        else:
            await CaptureAttempt(place, job).run()

    async def _remove_orphans(self, job: Job) -> None:
        """Delete what earlier attempts at ``job`` left staged (a worker killed mid-copy):
        staged images and preflight scratch files alike.

        Safe, because it runs in the claim's transaction, under its row lock:
        - a job is claimed again only once its previous worker's lease ran out, so that
          worker is deemed dead, and the claim makes this worker the job's owner. A worker
          publishes its copy only after finish_job found it still the owner (under the same
          row lock), so a staged copy of an earlier attempt can never become the image. If
          its worker does still live (frozen, cut off from the database), it finds its lease
          lost and announces nothing; its open file going away does not disturb it. (A
          worker that died took its qemu-img with it: adapters/tools.py.)
        - no other worker can claim the job before this transaction commits, so no staged
          file removed here belongs to a worker that holds the lease.
        """
        removed = await asyncio.to_thread(self._place.images.remove_staged, job.image_id)
        if removed:
            _log.info("capture.orphans_removed", image_id=str(job.image_id), files=removed)
