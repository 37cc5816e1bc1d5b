"""The catalog's handlers of capture's facts and of capture requests (C6): one small
function per event, each inside a unit of work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from schemas.envelope import Envelope, EnvelopeHeader
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
from services.common.values import value_of


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


ImageFact = CaptureProgressed | ImageReady | CaptureFailed


async def _apply(
    uow: UnitOfWork[Store],
    event: EnvelopeHeader,
    fact: ImageFact,
    change: Callable[[], Awaitable[bool]],
) -> bool:
    """Run ``change`` if the fact is newer on the image's line; whether it changed the
    image. Rejected unless stated by the account it names, and that account's image."""
    require_tenant(event, fact.account_id)
    if not await uow.apply_version(IMAGE, str(fact.image_id), event.sequence):
        return False  # stale
    if await change():
        return True
    await _require_owner(uow, fact.image_id, fact.account_id)
    return False


async def on_capture_progressed(uow: UnitOfWork[Store], event: Envelope[CaptureProgressed]) -> None:
    progress = event.data
    await _apply(
        uow,
        event,
        progress,
        lambda: uow.store.record_progress(
            progress.image_id, progress.account_id, progress.percent, event.time
        ),
    )


async def on_image_ready(uow: UnitOfWork[Store], event: Envelope[ImageReady]) -> None:
    ready = event.data
    if await _apply(uow, event, ready, lambda: uow.store.mark_ready(_finished_of(ready))):
        await restate_stored(uow, ready.account_id, ready.image_id, ready.finished_at)


async def on_capture_failed(uow: UnitOfWork[Store], event: Envelope[CaptureFailed]) -> None:
    failed = event.data
    await _apply(uow, event, failed, lambda: uow.store.mark_failed(_failed_of(failed)))


def _finished_of(ready: ImageReady) -> FinishedCapture:
    return value_of(
        FinishedCapture,
        ready,
        os=ready.os.model_dump(mode="json"),
        source_host_id=ready.source.host_id,
        source_host_name=ready.source.host_name,
        preflight=_json(ready.preflight),
    )


def _failed_of(failed: CaptureFailed) -> FailedCapture:
    return value_of(FailedCapture, failed, preflight=_json(failed.preflight))


def _json(model: BaseModel | None) -> dict[str, Any] | None:
    return model.model_dump(mode="json") if model else None


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
