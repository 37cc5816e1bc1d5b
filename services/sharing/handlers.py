"""Sharing event handlers: sharing's own copy of the facts its rules need, one small function
per event. Accounts come from IAM; images from the catalog (registered, renamed, deleted,
public ones added and retired) and capture (ready, failed).

Facts of one image arrive on several topics, out of order: each applies only if it is newer
on the image's version line. An image deleted or failed ends its memberships; an account
closed ends the memberships it is part of.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from schemas.envelope import Envelope
from schemas.events import (
    ACCOUNT,
    IMAGE,
    PLATFORM_TENANT,
    AccountChanged,
    CaptureAccepted,
    CaptureFailed,
    ImageDeleted,
    ImageReady,
    ImageUpdated,
    PublicImageAdded,
    PublicImageRetired,
)
from services.common.consumer import Handler
from services.common.failures import Rejected
from services.common.tenancy import require_tenant
from services.common.uow import UnitOfWork
from services.sharing import memberships, store
from services.sharing.domain import Image, ImageStatus


async def on_account_changed(uow: UnitOfWork, event: Envelope[Any]) -> None:
    account: AccountChanged = event.data
    require_tenant(event, account.account_id)
    if not await uow.apply_version(ACCOUNT, str(account.account_id), event.sequence):
        return  # stale
    await store.upsert_account(uow.conn, account, event.time)
    if account.status == "closed":
        await memberships.end_memberships_of_account(uow, account.account_id)


async def on_capture_accepted(uow: UnitOfWork, event: Envelope[Any]) -> None:
    accepted: CaptureAccepted = event.data
    await _private_image(uow, event, accepted.account_id, accepted.image_id, accepted.name,
                         ImageStatus.CREATING)  # fmt: skip


async def on_image_ready(uow: UnitOfWork, event: Envelope[Any]) -> None:
    ready: ImageReady = event.data
    await _private_image(uow, event, ready.account_id, ready.image_id, ready.name,
                         ImageStatus.NORMAL)  # fmt: skip


async def on_capture_failed(uow: UnitOfWork, event: Envelope[Any]) -> None:
    failed: CaptureFailed = event.data
    image = await _private_image(uow, event, failed.account_id, failed.image_id, failed.name,
                                 ImageStatus.FAILED)  # fmt: skip
    if image is not None:
        await memberships.end_memberships_of_image(uow, image, "image_failed")


async def on_image_updated(uow: UnitOfWork, event: Envelope[Any]) -> None:
    updated: ImageUpdated = event.data
    # The catalog changes only images in `normal` (C4, C7): an update that overtakes the
    # late ImageReady also says the image is normal.
    await _private_image(uow, event, updated.account_id, updated.image_id, updated.name,
                         ImageStatus.NORMAL, keep_status=True)  # fmt: skip


async def on_image_deleted(uow: UnitOfWork, event: Envelope[Any]) -> None:
    deleted: ImageDeleted = event.data
    image = await _private_image(uow, event, deleted.account_id, deleted.image_id, None,
                                 ImageStatus.DELETED)  # fmt: skip
    if image is not None:
        await memberships.end_memberships_of_image(uow, image, "image_deleted")


async def on_public_image_added(uow: UnitOfWork, event: Envelope[Any]) -> None:
    added: PublicImageAdded = event.data
    await _public_image(uow, event, added.image_id, added.name, ImageStatus.NORMAL)


async def on_public_image_retired(uow: UnitOfWork, event: Envelope[Any]) -> None:
    retired: PublicImageRetired = event.data
    await _public_image(uow, event, retired.image_id, None, ImageStatus.DELETED)


async def _private_image(
    uow: UnitOfWork,
    event: Envelope[Any],
    owner: UUID,
    image_id: UUID,
    name: str | None,
    status: ImageStatus,
    *,
    keep_status: bool = False,
) -> Image | None:
    """Apply a fact about a private image of ``owner``, stated in its name; the image as it
    is now, or None for a stale fact. A fact about another owner's (or a public) image is
    refused, and the whole unit of work, version included, rolls back."""
    require_tenant(event, owner)
    if not await uow.apply_version(IMAGE, str(image_id), event.sequence):
        return None
    known = (await store.lock_images(uow.conn, [image_id])).get(image_id)
    if known is not None and (known.public or known.owner_account_id != owner):
        raise Rejected(f"account {owner} does not own image {image_id}")
    if keep_status and known is not None and known.status is not ImageStatus.CREATING:
        status = known.status
    image = Image(image_id, owner, name or (known.name if known else ""), status, public=False)
    await store.save_image(uow.conn, image, event.time)
    return image


async def _public_image(
    uow: UnitOfWork, event: Envelope[Any], image_id: UUID, name: str | None, status: ImageStatus
) -> None:
    """Public images are known only to refuse sharing them with their own code (S2)."""
    if event.tenant != PLATFORM_TENANT:
        raise Rejected(f"only {PLATFORM_TENANT!r} states facts about public images")
    if not await uow.apply_version(IMAGE, str(image_id), event.sequence):
        return
    known = (await store.lock_images(uow.conn, [image_id])).get(image_id)
    if known is not None and not known.public:
        raise Rejected(f"image {image_id} is a private image")
    image = Image(image_id, None, name or (known.name if known else ""), status, public=True)
    await store.save_image(uow.conn, image, event.time)


HANDLERS: dict[type[Any], Handler] = {
    AccountChanged: on_account_changed,
    CaptureAccepted: on_capture_accepted,
    ImageReady: on_image_ready,
    CaptureFailed: on_capture_failed,
    ImageUpdated: on_image_updated,
    ImageDeleted: on_image_deleted,
    PublicImageAdded: on_public_image_added,
    PublicImageRetired: on_public_image_retired,
}
