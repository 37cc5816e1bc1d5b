"""Capture event handlers: learn hosts from ECS, queue accepted captures, remove the
stored file of a deleted image."""

from __future__ import annotations

import asyncio
from typing import Any

from schemas.envelope import Envelope
from schemas.events import HOST, IMAGE, CaptureAccepted, HostChanged, ImageDeleted
from services.capture import store
from services.capture.image_store import ImageStore
from services.common.consumer import Handler
from services.common.failures import Rejected
from services.common.tenancy import require_tenant
from services.common.uow import UnitOfWork


async def on_host_changed(uow: UnitOfWork, event: Envelope[Any]) -> None:
    host: HostChanged = event.data
    require_tenant(event, host.account_id)
    if await uow.apply_version(HOST, str(host.host_id), event.sequence):
        await store.upsert_host(uow.conn, host, event.sequence, event.time)


async def on_capture_accepted(uow: UnitOfWork, event: Envelope[Any]) -> None:
    accepted: CaptureAccepted = event.data
    require_tenant(event, accepted.account_id)
    # Capture continues the image's version line where the catalog's acceptance left it.
    await uow.apply_version(IMAGE, str(accepted.image_id), event.sequence)
    # Queued even when the host looks unfit: ECS facts travel on another topic and may lag
    # behind the request, so the worker decides when it takes the job (see worker.py).
    await store.insert_job(uow.conn, accepted, uow.correlation_id)


def remove_deleted_image(images: ImageStore) -> Handler:
    """C5: the catalog deleted an image; its stored file is capture's to remove."""

    async def on_image_deleted(uow: UnitOfWork, event: Envelope[Any]) -> None:
        deleted: ImageDeleted = event.data
        require_tenant(event, deleted.account_id)
        owner = await store.job_owner(uow.conn, deleted.image_id)
        if owner is not None and owner != deleted.account_id:
            raise Rejected(f"account {deleted.account_id} does not own image {deleted.image_id}")
        if not await uow.apply_version(IMAGE, str(deleted.image_id), event.sequence):
            return  # stale
        # Before the commit: if the commit fails, the redelivery removes nothing again.
        await asyncio.to_thread(images.remove, deleted.image_id)

    return on_image_deleted


def build_handlers(images: ImageStore) -> dict[type[Any], Handler]:
    return {
        HostChanged: on_host_changed,
        CaptureAccepted: on_capture_accepted,
        ImageDeleted: remove_deleted_image(images),
    }
