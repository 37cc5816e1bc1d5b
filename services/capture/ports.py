"""What capture's handlers and jobs need of the database (:class:`Store`, implemented by
:class:`services.capture.store.CaptureStore`, faked in ``tests/unit/capture``) and of the
units of work around it (:class:`UnitOfWorkFactory`)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol
from uuid import UUID

from services.capture.domain import CaptureRequest, Host, Job
from services.common.ports import UnitOfWork
from services.common.refusals import Refusal


class Store(Protocol):
    """Hosts as ECS last described them, and the queue of capture jobs."""

    async def upsert_host(self, host: Host, updated_at: datetime) -> None: ...

    async def get_host(self, host_id: UUID) -> Host | None: ...

    async def lock_host(self, host_id: UUID) -> Host | None:
        """The host, share-locked until the transaction ends: a HostChanged for it waits."""
        ...

    async def list_hosts(
        self, account_id: UUID, *, state: str | None, after: tuple[str, UUID] | None, limit: int
    ) -> list[Host]:
        """An account's hosts that are not deleted, by name then id, after a keyset cursor."""
        ...

    async def insert_job(self, request: CaptureRequest) -> bool:
        """Queue a capture; False if this image already has a job."""
        ...

    async def claim_next_job(self, owner: UUID, lease_seconds: int) -> Job | None:
        """Take the oldest queued job, or a running one whose worker stopped renewing it."""
        ...

    async def defer_job(self, image_id: UUID, owner: UUID, seconds: float) -> None:
        """Put a job back in the queue, due again in ``seconds``."""
        ...

    async def renew_lease(
        self, image_id: UUID, owner: UUID, percent: int, lease_seconds: int
    ) -> bool:
        """Record progress and extend the lease; False if another worker owns the job now."""
        ...

    async def finish_job(self, image_id: UUID, owner: UUID, failure: Refusal | None = None) -> bool:
        """Record the outcome (succeeded, or failed for ``failure``); False if the job is
        not ours (any more) or already finished."""
        ...

    async def job_owner(self, image_id: UUID) -> UUID | None:
        """The account whose capture made the image (None if capture never had a job)."""
        ...


class UnitOfWorkFactory(Protocol):
    """Opens capture's units of work (:class:`services.common.uow.UnitOfWorkFactory`)."""

    def unit_of_work(
        self, *, correlation_id: UUID | None = None, causation_id: UUID | None = None
    ) -> AbstractAsyncContextManager[UnitOfWork[Store]]: ...

    def reading(self) -> AbstractAsyncContextManager[Store]:
        """The store outside a transaction, for reads."""
        ...
