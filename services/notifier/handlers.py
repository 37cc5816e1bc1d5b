"""Notifier event handlers: tell an image's owner how its capture ended (N4), also when
the catalog refused it before it started (e.g. over quota)."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from schemas.envelope import Envelope
from schemas.events import NOTICES, CaptureFailed, CaptureRefused, ImageReady, OwnerNotified
from services.common.consumer import Handler
from services.common.tenancy import require_tenant
from services.common.uow import UnitOfWork
from services.notifier import domain, store


async def on_image_ready(uow: UnitOfWork, event: Envelope[Any]) -> None:
    ready: ImageReady = event.data
    require_tenant(event, ready.account_id)
    await _notify(uow, event, ready.account_id, ready.image_id, domain.capture_succeeded(ready))


async def on_capture_failed(uow: UnitOfWork, event: Envelope[Any]) -> None:
    failed: CaptureFailed = event.data
    require_tenant(event, failed.account_id)
    await _notify(uow, event, failed.account_id, failed.image_id, domain.capture_failed(failed))


async def on_capture_refused(uow: UnitOfWork, event: Envelope[Any]) -> None:
    refused: CaptureRefused = event.data
    require_tenant(event, refused.account_id)
    await _notify(uow, event, refused.account_id, refused.image_id, domain.capture_refused(refused))


async def _notify(
    uow: UnitOfWork,
    event: Envelope[Any],
    account_id: UUID,
    image_id: UUID,
    text: domain.NoticeText,
) -> None:
    notice_id = uuid5(NAMESPACE_URL, f"ims:notice:{image_id}:{text.kind}")
    if not await store.insert_notice(uow.conn, notice_id, account_id, image_id, text, event.time):
        return
    await uow.emit(
        OwnerNotified(
            notice_id=notice_id,
            account_id=account_id,
            image_id=image_id,
            kind=text.kind,
            text_zh=text.zh,
            text_en=text.en,
        ),
        aggregate_type=NOTICES,
        aggregate_id=str(account_id),
        tenant=str(account_id),
    )


HANDLERS: dict[type[Any], Handler] = {
    ImageReady: on_image_ready,
    CaptureFailed: on_capture_failed,
    CaptureRefused: on_capture_refused,
}
