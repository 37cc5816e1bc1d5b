"""Capture's event handlers, one small function per event: learn hosts from ECS, queue
accepted captures, remove the stored file of a deleted image."""

from __future__ import annotations

import asyncio

from schemas.envelope import Envelope
from schemas.events import HOST, IMAGE, CaptureAccepted, HostChanged, ImageDeleted
from services.capture.adapters.image_store import ImageStore
from services.capture.domain import CaptureRequest, Host
from services.capture.ports import Store
from services.common.failures import Rejected
from services.common.ports import UnitOfWork
from services.common.tenancy import require_tenant
from services.common.values import value_of


async def on_host_changed(uow: UnitOfWork[Store], event: Envelope[HostChanged]) -> None:
    require_tenant(event, event.data.account_id)
    if await uow.apply_version(HOST, str(event.data.host_id), event.sequence):
        await uow.store.upsert_host(_host(event.data, event.sequence), event.time)


def _host(fact: HostChanged, version: int) -> Host:
    return value_of(Host, fact, version=version, data_disks=tuple(fact.data_disks))


async def on_capture_accepted(uow: UnitOfWork[Store], event: Envelope[CaptureAccepted]) -> None:
    accepted = event.data
    require_tenant(event, accepted.account_id)
    # Capture continues the image's version line where the catalog's acceptance left it.
    await uow.apply_version(IMAGE, str(accepted.image_id), event.sequence)
    # Queued even when the host looks unfit: ECS facts travel on another topic and may lag
    # behind the request, so the worker decides when it takes the job (see jobs/attempt.py).
    await uow.store.insert_job(
        CaptureRequest(
            image_id=accepted.image_id,
            account_id=accepted.account_id,
            host_id=accepted.host_id,
            name=accepted.name,
            description=accepted.description,
            strict_preflight=accepted.strict_preflight,
            correlation_id=uow.correlation_id,
        )
    )


async def on_image_deleted(
    uow: UnitOfWork[Store], event: Envelope[ImageDeleted], images: ImageStore
) -> None:
    """C5: the catalog deleted an image; its stored file is capture's to remove."""
    deleted = event.data
    require_tenant(event, deleted.account_id)
    owner = await uow.store.job_owner(deleted.image_id)
    if owner is not None and owner != deleted.account_id:
        raise Rejected(f"account {deleted.account_id} does not own image {deleted.image_id}")
    if not await uow.apply_version(IMAGE, str(deleted.image_id), event.sequence):
        return  # stale
    # Before the commit: if the commit fails, the redelivery removes nothing again.
    await asyncio.to_thread(images.remove, deleted.image_id)
