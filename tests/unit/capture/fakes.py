"""In-memory stand-ins of capture's ports: :class:`FakeStore` keeps the promises of
:class:`services.capture.store.CaptureStore` in dicts; :class:`FakeImageStore` records what
was published and removed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

from services.capture.adapters.disks import SourceDisk
from services.capture.adapters.image_store import ProgressCallback, StagedImage
from services.capture.domain import CaptureRequest, Host, Job, reason_of
from services.common.refusals import Refusal
from tests.fakes import FakeClock, FakeUnitOfWorkFactory


@dataclass
class JobRow:
    request: CaptureRequest
    created_at: datetime
    status: str = "queued"
    percent: int = 0
    attempts: int = 0
    lease_owner: UUID | None = None
    lease_until: datetime | None = None
    failure_code: str | None = None
    failure_reason: str | None = None


@dataclass
class FakeStore:
    """Hosts and capture jobs in dicts, on a clock of the test's."""

    clock: FakeClock = field(default_factory=FakeClock)
    hosts: dict[UUID, Host] = field(default_factory=dict)
    host_updated_at: dict[UUID, datetime] = field(default_factory=dict)
    jobs: dict[UUID, JobRow] = field(default_factory=dict)

    async def upsert_host(self, host: Host, updated_at: datetime) -> None:
        self.hosts[host.host_id] = host
        self.host_updated_at[host.host_id] = updated_at

    async def get_host(self, host_id: UUID) -> Host | None:
        return self.hosts.get(host_id)

    async def lock_host(self, host_id: UUID) -> Host | None:
        return self.hosts.get(host_id)

    async def list_hosts(
        self, account_id: UUID, *, state: str | None, after: tuple[str, UUID] | None, limit: int
    ) -> list[Host]:
        mine = sorted(
            (
                h
                for h in self.hosts.values()
                if h.account_id == account_id
                and h.state != "deleted"
                and (state is None or h.state == state)
                and (after is None or (h.name, str(h.host_id)) > (after[0], str(after[1])))
            ),
            key=lambda h: (h.name, str(h.host_id)),
        )
        return mine[:limit]

    async def insert_job(self, request: CaptureRequest) -> bool:
        if request.image_id in self.jobs:
            return False
        self.jobs[request.image_id] = JobRow(request, created_at=self.clock())
        return True

    async def claim_next_job(self, owner: UUID, lease_seconds: int) -> Job | None:
        now = self.clock()
        due = [
            row
            for row in self.jobs.values()
            if row.status in ("queued", "running")
            and (row.lease_until is None or row.lease_until < now)
        ]
        if not due:
            return None
        row = min(due, key=lambda r: r.created_at)
        row.status, row.attempts, row.lease_owner = "running", row.attempts + 1, owner
        row.lease_until = now + timedelta(seconds=lease_seconds)
        return self._job(row)

    def _job(self, row: JobRow) -> Job:
        r = row.request
        return Job(
            image_id=r.image_id,
            account_id=r.account_id,
            host_id=r.host_id,
            name=r.name,
            description=r.description,
            attempts=row.attempts,
            age_seconds=(self.clock() - row.created_at).total_seconds(),
            correlation_id=r.correlation_id,
            strict_preflight=r.strict_preflight,
        )

    async def defer_job(self, image_id: UUID, owner: UUID, seconds: float) -> None:
        row = self.jobs.get(image_id)
        if row is None or row.lease_owner != owner:
            return
        row.status, row.lease_owner, row.attempts = "queued", None, row.attempts - 1
        row.lease_until = self.clock() + timedelta(seconds=seconds)

    async def renew_lease(
        self, image_id: UUID, owner: UUID, percent: int, lease_seconds: int
    ) -> bool:
        row = self.jobs.get(image_id)
        if row is None or row.lease_owner != owner or row.status != "running":
            return False
        row.percent = percent
        row.lease_until = self.clock() + timedelta(seconds=lease_seconds)
        return True

    async def finish_job(self, image_id: UUID, owner: UUID, failure: Refusal | None = None) -> bool:
        row = self.jobs.get(image_id)
        if row is None or row.lease_owner != owner or row.status != "running":
            return False
        row.status = "failed" if failure else "succeeded"
        row.percent = row.percent if failure else 100
        if failure is not None:
            row.failure_code, row.failure_reason = failure.code, reason_of(failure)
        row.lease_owner = row.lease_until = None
        return True

    async def job_owner(self, image_id: UUID) -> UUID | None:
        row = self.jobs.get(image_id)
        return row.request.account_id if row else None


class FakeUnitOfWorks(FakeUnitOfWorkFactory[FakeStore]):
    """The fake unit of work factory, with the reads outside a transaction capture's jobs
    make (:meth:`services.capture.ports.UnitOfWorkFactory.reading`)."""

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[FakeStore]:
        yield self.store


@dataclass
class FakeImageStore:
    """Staged, published and removed images by id, without files."""

    published: set[UUID] = field(default_factory=set)
    discarded: list[StagedImage] = field(default_factory=list)
    removed: list[UUID] = field(default_factory=list)

    async def stage(
        self, image_id: UUID, source: SourceDisk, on_progress: ProgressCallback
    ) -> StagedImage:
        await on_progress(100)
        return staged_image(image_id)

    def scratch(self, image_id: UUID, suffix: str) -> Path:
        return Path(f"/scratch/.{image_id}.{suffix}.partial")

    def publish(self, image: StagedImage) -> None:
        self.published.add(UUID(image.target.stem))

    def discard(self, image: StagedImage) -> None:
        self.discarded.append(image)

    def remove(self, image_id: UUID) -> None:
        self.removed.append(image_id)
        self.published.discard(image_id)

    def remove_staged(self, image_id: UUID) -> int:
        return 0


def staged_image(image_id: UUID) -> StagedImage:
    return StagedImage(
        staged=Path(f"/images/.{image_id}.partial"),
        target=Path(f"/images/{image_id}.qcow2"),
        disk_format="qcow2",
        size_bytes=1024,
        virtual_size_bytes=4096,
        checksum_sha256="0" * 64,
    )
