"""Notifier event handlers: tell an image's owner how its capture ended (N4), also when
the catalog refused it before it started (e.g. over quota); keep each recipient's pending
offers for its prompt 是否接受镜像 (N1-N3).

Facts about one membership arrive on four topics, in any order: each applies only if it is
newer on the membership's version line, so an answer or a revocation that overtook its
offer leaves the offer out of the prompt for good."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from schemas.envelope import Envelope
from schemas.events import (
    MEMBERSHIP,
    NOTICES,
    CaptureFailed,
    CaptureRefused,
    ImageReady,
    MembershipFact,
    OwnerNotified,
    PromptImage,
    ShareAccepted,
    ShareOffered,
    ShareRejected,
    ShareRevoked,
)
from services.common.consumer import Handler
from services.common.tenancy import require_membership_fact, require_tenant
from services.common.uow import UnitOfWork
from services.notifier import domain, store
from services.notifier.prompts import PROMPT_MIN_INTERVAL


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


async def on_share_offered(uow: UnitOfWork, event: Envelope[Any]) -> None:
    offered: ShareOffered = event.data
    if not await _newer(uow, event, offered, by_owner=True):
        return
    offer = PromptImage(
        membership_id=offered.membership_id,
        image_id=offered.image_id,
        name=offered.image_name,
        owner_account_id=offered.owner_account_id,
        owner_account_name=offered.owner_account_name,
        offered_at=offered.offered_at,
    )
    await store.add_offer(uow.conn, offered.member_account_id, offer, _cause(event))


async def on_share_accepted(uow: UnitOfWork, event: Envelope[Any]) -> None:
    await _no_longer_pending(uow, event, event.data, by_owner=False)


async def on_share_rejected(uow: UnitOfWork, event: Envelope[Any]) -> None:
    await _no_longer_pending(uow, event, event.data, by_owner=False)


async def on_share_revoked(uow: UnitOfWork, event: Envelope[Any]) -> None:
    await _no_longer_pending(uow, event, event.data, by_owner=True)


async def _no_longer_pending(
    uow: UnitOfWork, event: Envelope[Any], fact: MembershipFact, *, by_owner: bool
) -> None:
    """Answered or revoked: the offer leaves the prompt (if it was in it)."""
    if not await _newer(uow, event, fact, by_owner=by_owner):
        return
    await store.remove_offer(uow.conn, fact.membership_id, _cause(event))


async def _newer(
    uow: UnitOfWork, event: Envelope[Any], fact: MembershipFact, *, by_owner: bool
) -> bool:
    require_membership_fact(event, fact, by_owner=by_owner)
    return await uow.apply_version(MEMBERSHIP, str(fact.membership_id), event.sequence)


def _cause(event: Envelope[Any]) -> store.Cause:
    return store.Cause(event.correlationid or event.id, event.id, PROMPT_MIN_INTERVAL)


HANDLERS: dict[type[Any], Handler] = {
    ImageReady: on_image_ready,
    CaptureFailed: on_capture_failed,
    CaptureRefused: on_capture_refused,
    ShareOffered: on_share_offered,
    ShareAccepted: on_share_accepted,
    ShareRejected: on_share_rejected,
    ShareRevoked: on_share_revoked,
}
