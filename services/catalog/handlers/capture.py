"""The catalog's handlers of capture's facts and of capture requests (C6): one small
function per event, each inside a unit of work."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from schemas.envelope import Envelope
from schemas.events import (
    IMAGE,
    CaptureAccepted,
    CaptureFailed,
    CaptureProgressed,
    CaptureRefused,
    CaptureRequested,
    Event,
    ImageReady,
)
from services.catalog import domain
from services.catalog.domain import CaptureRequest, FailedCapture, FinishedCapture
from services.catalog.handlers.usage import restate_stored
from services.catalog.ports import Store
from services.common.failures import Rejected
from services.common.handlers import Handlers
from services.common.ports import UnitOfWork
from services.common.refusals import Refusal
from services.common.tenancy import require_tenant


async def on_capture_requested(uow: UnitOfWork[Store], event: Envelope[CaptureRequested]) -> None:
    """Admit a capture request within the account's quota (C6), or refuse it.

    The console's requests were registered by the API, their quota slot already taken:
    they are only accepted here. Anyone else's take a slot now, under the account's lock,
    so that the quota holds however many requests arrive at once, through any process.
    Three round trips either way: the lock, the admission, the event.
    """
    request = event.data
    require_tenant(event, request.account_id)
    account = await uow.store.lock_account(request.account_id)
    quota = domain.quota_of(account.private_image_quota, 0)
    admission = await uow.store.admit(_request_of(request), event.time, quota.limit)
    if admission.taken and admission.existing_owner != request.account_id:
        raise Rejected(f"image id {request.image_id} is taken by another image")
    if admission.registered_at is not None:
        await _accept(uow, request, admission.registered_at)
    elif admission.admitted_at is not None:
        await _accept(uow, request, admission.admitted_at)
    elif not admission.taken:
        try:
            domain.quota_of(account.private_image_quota, admission.used).admit_one()
        except Refusal as refusal:
            await _refuse(uow, request, refusal, event.time)
            return
        # A slot was free, yet the id was taken between the statement's look and its
        # insert (the API registering it that instant): try again, it is there now.
        raise AdmissionRace(f"image id {request.image_id} appeared while being admitted")
    # Otherwise the same image requested again (already accepted, or failed): one effect.


class AdmissionRace(Exception):
    """Retried by the consumer (an unexpected error gets a few tries)."""


def _request_of(request: CaptureRequested) -> CaptureRequest:
    return CaptureRequest(
        request.image_id, request.account_id, request.host_id, request.name, request.description
    )


async def _accept(
    uow: UnitOfWork[Store], request: CaptureRequested, requested_at: datetime
) -> None:
    # CaptureAccepted repeats the request (its fields), with when it was made.
    await _answer(uow, request, CaptureAccepted(**request.model_dump(), requested_at=requested_at))


async def _refuse(
    uow: UnitOfWork[Store], request: CaptureRequested, refusal: Refusal, at: datetime
) -> None:
    """The image is failed with the reason, and the requester and owner are told."""
    reason = refusal.message.zh
    if not await uow.store.insert_refused(_request_of(request), refusal.code, reason, at):
        return
    quota = refusal.facts.get("quota", {})
    assert isinstance(quota, dict)
    refused = CaptureRefused(
        **request.model_dump(include={"image_id", "account_id", "host_id", "name"}),
        code=refusal.code,
        reason=reason,
        reason_en=refusal.message.en,
        quota_limit=quota.get("limit"),
        quota_used=quota.get("used"),
        refused_at=at,
    )
    await _answer(uow, request, refused)


async def _answer(uow: UnitOfWork[Store], request: CaptureRequested, answer: Event) -> None:
    """The catalog's answer to a request, the image's next version, in its account's name."""
    await uow.emit(
        answer,
        aggregate_type=IMAGE,
        aggregate_id=str(request.image_id),
        tenant=str(request.account_id),
    )


# Capture's facts about an image: each applies only to an image of the account it names,
# in that account's name, and only if it is newer than what the catalog applied last.


async def on_capture_progressed(uow: UnitOfWork[Store], event: Envelope[CaptureProgressed]) -> None:
    progress = event.data
    require_tenant(event, progress.account_id)
    if not await uow.apply_version(IMAGE, str(progress.image_id), event.sequence):
        return  # stale
    image_id, owner = progress.image_id, progress.account_id
    if not await uow.store.record_progress(image_id, owner, progress.percent, event.time):
        await _require_owner(uow, image_id, owner)


async def on_image_ready(uow: UnitOfWork[Store], event: Envelope[ImageReady]) -> None:
    ready = event.data
    require_tenant(event, ready.account_id)
    if not await uow.apply_version(IMAGE, str(ready.image_id), event.sequence):
        return  # stale
    if not await uow.store.mark_ready(_finished_of(ready)):
        await _require_owner(uow, ready.image_id, ready.account_id)
        return
    await restate_stored(uow, ready.account_id, ready.image_id, ready.finished_at)


async def on_capture_failed(uow: UnitOfWork[Store], event: Envelope[CaptureFailed]) -> None:
    failed = event.data
    require_tenant(event, failed.account_id)
    if not await uow.apply_version(IMAGE, str(failed.image_id), event.sequence):
        return  # stale
    if not await uow.store.mark_failed(_failed_of(failed)):
        await _require_owner(uow, failed.image_id, failed.account_id)


def _finished_of(ready: ImageReady) -> FinishedCapture:
    return FinishedCapture(
        image_id=ready.image_id,
        account_id=ready.account_id,
        name=ready.name,
        description=ready.description,
        os=ready.os.model_dump(mode="json"),
        system_disk_gb=ready.system_disk_gb,
        min_memory_mb=ready.min_memory_mb,
        disk_format=ready.disk_format,
        size_bytes=ready.size_bytes,
        virtual_size_bytes=ready.virtual_size_bytes,
        checksum_sha256=ready.checksum_sha256,
        location=ready.location,
        source_host_id=ready.source.host_id,
        source_host_name=ready.source.host_name,
        finished_at=ready.finished_at,
        preflight=ready.preflight.model_dump(mode="json") if ready.preflight else None,
        keeps_source_password=ready.keeps_source_password,
    )


def _failed_of(failed: CaptureFailed) -> FailedCapture:
    return FailedCapture(
        image_id=failed.image_id,
        account_id=failed.account_id,
        code=failed.code,
        reason=failed.reason,
        failed_at=failed.failed_at,
        preflight=failed.preflight.model_dump(mode="json") if failed.preflight else None,
    )


async def _require_owner(uow: UnitOfWork[Store], image_id: UUID, account_id: UUID) -> None:
    """A fact that changed nothing: fine if the image is past creating, refused if the
    image is not the named account's (the whole unit of work, version included, rolls back)."""
    if await uow.store.owner_of(image_id) != account_id:
        raise Rejected(f"account {account_id} does not own image {image_id}")


def register_capture(handlers: Handlers[Store]) -> None:
    handlers.register(CaptureRequested, on_capture_requested)
    handlers.register(CaptureProgressed, on_capture_progressed)
    handlers.register(ImageReady, on_image_ready)
    handlers.register(CaptureFailed, on_capture_failed)
