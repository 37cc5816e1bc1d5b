"""Catalog event handlers: one small function per event, each inside a unit of work."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from schemas.envelope import Envelope
from schemas.events import (
    IMAGE,
    CaptureAccepted,
    CaptureFailed,
    CaptureProgressed,
    CaptureRefused,
    CaptureRequested,
    ImageReady,
)
from services.catalog import domain, store
from services.catalog.membership_handlers import MEMBERSHIP_HANDLERS
from services.catalog.usage import restate_stored
from services.common.consumer import Handler
from services.common.failures import Rejected
from services.common.tenancy import require_tenant
from services.common.uow import UnitOfWork


async def on_capture_requested(uow: UnitOfWork, event: Envelope[Any]) -> None:
    """Admit a capture request within the account's quota (C6), or refuse it.

    The console's requests were registered by the API, their quota slot already taken:
    they are only accepted here. Anyone else's take a slot now, under the account's lock,
    so that the quota holds however many requests arrive at once, through any process.
    Three round trips either way: the lock, the admission, the event.
    """
    request: CaptureRequested = event.data
    require_tenant(event, request.account_id)
    account = await store.lock_account(uow.conn, request.account_id)
    quota = domain.quota_of(account.private_image_quota, 0)
    admission = await store.admit(uow.conn, request, event.time, quota.limit)
    if admission.taken and admission.existing_owner != request.account_id:
        raise Rejected(f"image id {request.image_id} is taken by another image")
    if admission.registered_at is not None:
        await _accept(uow, request, admission.registered_at)
    elif admission.admitted_at is not None:
        await _accept(uow, request, admission.admitted_at)
    elif not admission.taken:
        try:
            domain.quota_of(account.private_image_quota, admission.used).admit_one()
        except domain.Refusal as refusal:
            await _refuse(uow, request, refusal, event.time)
            return
        # A slot was free, yet the id was taken between the statement's look and its
        # insert (the API registering it that instant): try again, it is there now.
        raise AdmissionRace(f"image id {request.image_id} appeared while being admitted")
    # Otherwise the same image requested again (already accepted, or failed): one effect.


class AdmissionRace(Exception):
    """Retried by the consumer (an unexpected error gets a few tries)."""


async def _accept(uow: UnitOfWork, request: CaptureRequested, requested_at: datetime) -> None:
    await uow.emit(
        CaptureAccepted(
            image_id=request.image_id,
            account_id=request.account_id,
            host_id=request.host_id,
            name=request.name,
            description=request.description,
            strict_preflight=request.strict_preflight,
            requested_at=requested_at,
        ),
        aggregate_type=IMAGE,
        aggregate_id=str(request.image_id),
        tenant=str(request.account_id),
    )


async def _refuse(
    uow: UnitOfWork, request: CaptureRequested, refusal: domain.Refusal, at: datetime
) -> None:
    """The image is failed with the reason, and the requester and owner are told."""
    reason = refusal.message.zh
    if not await store.insert_refused(uow.conn, request, refusal.code, reason, at):
        return
    quota = refusal.facts.get("quota", {})
    assert isinstance(quota, dict)
    await uow.emit(
        CaptureRefused(
            image_id=request.image_id,
            account_id=request.account_id,
            host_id=request.host_id,
            name=request.name,
            code=refusal.code,
            reason=reason,
            reason_en=refusal.message.en,
            quota_limit=quota.get("limit"),
            quota_used=quota.get("used"),
            refused_at=at,
        ),
        aggregate_type=IMAGE,
        aggregate_id=str(request.image_id),
        tenant=str(request.account_id),
    )


# Capture's facts about an image: each applies only to an image of the account it names,
# in that account's name, and only if it is newer than what the catalog applied last.


async def on_capture_progressed(uow: UnitOfWork, event: Envelope[Any]) -> None:
    progress: CaptureProgressed = event.data
    require_tenant(event, progress.account_id)
    if not await uow.apply_version(IMAGE, str(progress.image_id), event.sequence):
        return  # stale
    image_id, owner = progress.image_id, progress.account_id
    if not await store.record_progress(uow.conn, image_id, owner, progress.percent, event.time):
        await _require_owner(uow, image_id, owner)


async def on_image_ready(uow: UnitOfWork, event: Envelope[Any]) -> None:
    ready: ImageReady = event.data
    require_tenant(event, ready.account_id)
    if not await uow.apply_version(IMAGE, str(ready.image_id), event.sequence):
        return  # stale
    if not await store.mark_ready(uow.conn, ready):
        await _require_owner(uow, ready.image_id, ready.account_id)
        return
    await restate_stored(uow, ready.account_id, ready.image_id, ready.finished_at)


async def on_capture_failed(uow: UnitOfWork, event: Envelope[Any]) -> None:
    failed: CaptureFailed = event.data
    require_tenant(event, failed.account_id)
    if not await uow.apply_version(IMAGE, str(failed.image_id), event.sequence):
        return  # stale
    if not await store.mark_failed(uow.conn, failed):
        await _require_owner(uow, failed.image_id, failed.account_id)


async def _require_owner(uow: UnitOfWork, image_id: UUID, account_id: UUID) -> None:
    """A fact that changed nothing: fine if the image is past creating, refused if the
    image is not the named account's (the whole unit of work, version included, rolls back)."""
    if await store.owner_of(uow.conn, image_id) != account_id:
        raise Rejected(f"account {account_id} does not own image {image_id}")


HANDLERS: dict[type[Any], Handler] = {
    CaptureRequested: on_capture_requested,
    CaptureProgressed: on_capture_progressed,
    ImageReady: on_image_ready,
    CaptureFailed: on_capture_failed,
    **MEMBERSHIP_HANDLERS,
}
