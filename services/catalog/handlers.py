"""Catalog event handlers: one small function per event, each inside a unit of work."""

from __future__ import annotations

from typing import Any

from schemas.envelope import Envelope
from schemas.events import (
    IMAGE,
    CaptureAccepted,
    CaptureFailed,
    CaptureProgressed,
    CaptureRequested,
    ImageReady,
)
from services.catalog import store
from services.common.consumer import Handler
from services.common.failures import Rejected
from services.common.uow import UnitOfWork


async def on_capture_requested(uow: UnitOfWork, event: Envelope[Any]) -> None:
    request: CaptureRequested = event.data
    if event.tenant != str(request.account_id):
        raise Rejected(
            f"tenant {event.tenant} may not request images for account {request.account_id}"
        )
    if not await store.insert_creating(uow.conn, request, event.time):
        existing = await store.get_image(uow.conn, request.image_id)
        if existing is None or existing.owner_account_id != request.account_id:
            raise Rejected(f"image id {request.image_id} is taken by another image")
        return  # the same image requested again: it already exists, one effect only
    await uow.emit(
        CaptureAccepted(
            image_id=request.image_id,
            account_id=request.account_id,
            host_id=request.host_id,
            name=request.name,
            description=request.description,
            strict_preflight=request.strict_preflight,
            requested_at=event.time,
        ),
        aggregate_type=IMAGE,
        aggregate_id=str(request.image_id),
        tenant=str(request.account_id),
    )


async def on_capture_progressed(uow: UnitOfWork, event: Envelope[Any]) -> None:
    progress: CaptureProgressed = event.data
    if await uow.apply_version(IMAGE, str(progress.image_id), event.sequence):
        await store.record_progress(uow.conn, progress.image_id, progress.percent, event.time)


async def on_image_ready(uow: UnitOfWork, event: Envelope[Any]) -> None:
    ready: ImageReady = event.data
    if await uow.apply_version(IMAGE, str(ready.image_id), event.sequence):
        await store.mark_ready(uow.conn, ready)


async def on_capture_failed(uow: UnitOfWork, event: Envelope[Any]) -> None:
    failed: CaptureFailed = event.data
    if await uow.apply_version(IMAGE, str(failed.image_id), event.sequence):
        await store.mark_failed(uow.conn, failed)


HANDLERS: dict[type[Any], Handler] = {
    CaptureRequested: on_capture_requested,
    CaptureProgressed: on_capture_progressed,
    ImageReady: on_image_ready,
    CaptureFailed: on_capture_failed,
}
