"""Notifier handlers, each in one unit of work.

Events: tell an image's owner how its capture ended (N4), also when the catalog refused it
before it started (e.g. over quota); keep each recipient's pending offers for its prompt
是否接受镜像 (N1-N3). Facts about one membership arrive on four topics, in any order: each
applies only if it is newer on the membership's version line, so an answer or a revocation
that overtook its offer leaves the offer out of the prompt for good. A changed prompt is
published by :mod:`services.notifier.jobs`, not here.

Commands and reads of the API: the inbox, marking a notice read, the current prompt.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from schemas.envelope import Envelope, EnvelopeHeader
from schemas.events import (
    MEMBERSHIP,
    NOTICES,
    PROMPT_IMAGES_MAX,
    CaptureFailed,
    CaptureRefused,
    ImageReady,
    MembershipFact,
    OwnerNotified,
    ShareAccepted,
    ShareOffered,
    SharePromptUpdated,
    ShareRejected,
    ShareRevoked,
)
from services.common.handlers import Handlers
from services.common.ports import UnitOfWork
from services.common.tenancy import require_membership_fact, require_tenant
from services.notifier.domain import prompts, wording
from services.notifier.domain.wording import InboxNotice, NoticeText
from services.notifier.ports import Store

# --- capture notices (N4) ----------------------------------------------------------------


async def on_image_ready(uow: UnitOfWork[Store], event: Envelope[ImageReady]) -> None:
    require_tenant(event, event.data.account_id)
    text = wording.capture_succeeded(event.data)
    await _notify(uow, event, event.data.account_id, event.data.image_id, text)


async def on_capture_failed(uow: UnitOfWork[Store], event: Envelope[CaptureFailed]) -> None:
    require_tenant(event, event.data.account_id)
    text = wording.capture_failed(event.data)
    await _notify(uow, event, event.data.account_id, event.data.image_id, text)


async def on_capture_refused(uow: UnitOfWork[Store], event: Envelope[CaptureRefused]) -> None:
    require_tenant(event, event.data.account_id)
    text = wording.capture_refused(event.data)
    await _notify(uow, event, event.data.account_id, event.data.image_id, text)


async def _notify(
    uow: UnitOfWork[Store],
    event: EnvelopeHeader,
    account_id: UUID,
    image_id: UUID,
    text: NoticeText,
) -> None:
    """File the notice once and announce it (a redelivered fact files nothing)."""
    notice = wording.capture_notice(account_id, image_id, text, event.time)
    if not await uow.store.insert_notice(notice):
        return
    await uow.emit(
        OwnerNotified(
            notice_id=notice.notice_id,
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


# --- the prompt's pending offers (N1-N3) -------------------------------------------------


async def on_share_offered(uow: UnitOfWork[Store], event: Envelope[ShareOffered]) -> None:
    offered = event.data
    if not await _newer(uow, event, offered, by_owner=True):
        return
    offer = prompts.Offer(
        membership_id=offered.membership_id,
        image_id=offered.image_id,
        name=offered.image_name,
        owner_account_id=offered.owner_account_id,
        owner_account_name=offered.owner_account_name,
        offered_at=offered.offered_at,
    )
    await uow.store.add_offer(offered.member_account_id, offer, _cause(event))


async def on_share_accepted(uow: UnitOfWork[Store], event: Envelope[ShareAccepted]) -> None:
    await _no_longer_pending(uow, event, event.data, by_owner=False)


async def on_share_rejected(uow: UnitOfWork[Store], event: Envelope[ShareRejected]) -> None:
    await _no_longer_pending(uow, event, event.data, by_owner=False)


async def on_share_revoked(uow: UnitOfWork[Store], event: Envelope[ShareRevoked]) -> None:
    await _no_longer_pending(uow, event, event.data, by_owner=True)


async def _no_longer_pending(
    uow: UnitOfWork[Store], event: EnvelopeHeader, fact: MembershipFact, *, by_owner: bool
) -> None:
    """Answered or revoked: the offer leaves the prompt (if it was in it)."""
    if not await _newer(uow, event, fact, by_owner=by_owner):
        return
    await uow.store.remove_offer(fact.membership_id, _cause(event))


async def _newer(
    uow: UnitOfWork[Store], event: EnvelopeHeader, fact: MembershipFact, *, by_owner: bool
) -> bool:
    require_membership_fact(event, fact, by_owner=by_owner)
    return await uow.apply_version(MEMBERSHIP, str(fact.membership_id), event.sequence)


def _cause(event: EnvelopeHeader) -> prompts.Cause:
    return prompts.Cause(event.correlationid or event.id, event.id)


HANDLERS: Handlers[Store] = Handlers()
HANDLERS.register(ImageReady, on_image_ready)
HANDLERS.register(CaptureFailed, on_capture_failed)
HANDLERS.register(CaptureRefused, on_capture_refused)
HANDLERS.register(ShareOffered, on_share_offered)
HANDLERS.register(ShareAccepted, on_share_accepted)
HANDLERS.register(ShareRejected, on_share_rejected)
HANDLERS.register(ShareRevoked, on_share_revoked)


# --- the API's commands and reads --------------------------------------------------------


async def mark_read(uow: UnitOfWork[Store], account_id: UUID, notice_id: UUID) -> None:
    """The account read its notice; another account's is refused as a missing one."""
    if not await uow.store.mark_read(account_id, notice_id):
        raise wording.notice_not_found(notice_id)


async def list_notices(store: Store, account_id: UUID, limit: int) -> list[InboxNotice]:
    return await store.list_notices(account_id, limit)


async def current_prompt(store: Store, account_id: UUID, at: datetime) -> SharePromptUpdated | None:
    """The account's prompt as of now; None when nothing is pending."""
    pending = (await store.pending([account_id], PROMPT_IMAGES_MAX))[account_id]
    if not pending.count:
        return None
    return prompts.version(account_id, pending, at)
