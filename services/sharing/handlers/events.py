"""Sharing's event handlers: sharing's own copy of the facts its rules need, one small
function per event. Accounts come from IAM; images from the catalog (registered, renamed,
deleted, public ones added and retired) and capture (ready, failed).

Facts of one image arrive on several topics, out of order: each applies only if it is newer
on the image's version line. An image deleted or failed ends its memberships; an account
closed ends the memberships it is part of (:mod:`.endings`).
"""

from __future__ import annotations

from uuid import UUID

from schemas.envelope import Envelope, EnvelopeHeader
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
from services.common.failures import Rejected
from services.common.handlers import Handlers
from services.common.ports import UnitOfWork
from services.common.tenancy import require_tenant
from services.sharing.domain import Account, Image, ImageStatus, Project
from services.sharing.handlers.endings import (
    end_memberships_of_account,
    end_memberships_of_image,
)
from services.sharing.ports import Store


async def on_account_changed(uow: UnitOfWork[Store], event: Envelope[AccountChanged]) -> None:
    fact = event.data
    require_tenant(event, fact.account_id)
    if not await uow.apply_version(ACCOUNT, str(fact.account_id), event.sequence):
        return  # stale
    await uow.store.upsert_account(_account(fact), event.time)
    if fact.status == "closed":
        await end_memberships_of_account(uow, fact.account_id)


def _account(fact: AccountChanged) -> Account:
    projects = tuple(Project(p.project_id, p.name, p.region) for p in fact.projects)
    return Account(fact.account_id, fact.name, fact.kind, projects, fact.status == "active")


async def on_capture_accepted(uow: UnitOfWork[Store], event: Envelope[CaptureAccepted]) -> None:
    fact = event.data
    await _private_image(uow, event, fact.account_id, fact.image_id, fact.name,
                         ImageStatus.CREATING)  # fmt: skip


async def on_image_ready(uow: UnitOfWork[Store], event: Envelope[ImageReady]) -> None:
    fact = event.data
    await _private_image(uow, event, fact.account_id, fact.image_id, fact.name,
                         ImageStatus.NORMAL)  # fmt: skip


async def on_capture_failed(uow: UnitOfWork[Store], event: Envelope[CaptureFailed]) -> None:
    fact = event.data
    image = await _private_image(uow, event, fact.account_id, fact.image_id, fact.name,
                                 ImageStatus.FAILED)  # fmt: skip
    if image is not None:
        await end_memberships_of_image(uow, image, "image_failed")


async def on_image_updated(uow: UnitOfWork[Store], event: Envelope[ImageUpdated]) -> None:
    fact = event.data
    # The catalog changes only images in `normal` (C4, C7): an update that overtakes the
    # late ImageReady also says the image is normal.
    await _private_image(uow, event, fact.account_id, fact.image_id, fact.name,
                         ImageStatus.NORMAL, keep_status=True)  # fmt: skip


async def on_image_deleted(uow: UnitOfWork[Store], event: Envelope[ImageDeleted]) -> None:
    fact = event.data
    image = await _private_image(uow, event, fact.account_id, fact.image_id, None,
                                 ImageStatus.DELETED)  # fmt: skip
    if image is not None:
        await end_memberships_of_image(uow, image, "image_deleted")


async def on_public_image_added(uow: UnitOfWork[Store], event: Envelope[PublicImageAdded]) -> None:
    await _public_image(uow, event, event.data.image_id, event.data.name, ImageStatus.NORMAL)


async def on_public_image_retired(
    uow: UnitOfWork[Store], event: Envelope[PublicImageRetired]
) -> None:
    await _public_image(uow, event, event.data.image_id, None, ImageStatus.DELETED)


async def _private_image(
    uow: UnitOfWork[Store],
    event: EnvelopeHeader,
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
    known = (await uow.store.lock_images([image_id])).get(image_id)
    if known is not None and (known.public or known.owner_account_id != owner):
        raise Rejected(f"account {owner} does not own image {image_id}")
    if keep_status and known is not None and known.status is not ImageStatus.CREATING:
        status = known.status
    image = Image(image_id, owner, name or (known.name if known else ""), status, public=False)
    await uow.store.save_image(image, event.time)
    return image


async def _public_image(
    uow: UnitOfWork[Store],
    event: EnvelopeHeader,
    image_id: UUID,
    name: str | None,
    status: ImageStatus,
) -> None:
    """Public images are known only to refuse sharing them with their own code (S2)."""
    if event.tenant != PLATFORM_TENANT:
        raise Rejected(f"only {PLATFORM_TENANT!r} states facts about public images")
    if not await uow.apply_version(IMAGE, str(image_id), event.sequence):
        return
    known = (await uow.store.lock_images([image_id])).get(image_id)
    if known is not None and not known.public:
        raise Rejected(f"image {image_id} is a private image")
    image = Image(image_id, None, name or (known.name if known else ""), status, public=True)
    await uow.store.save_image(image, event.time)


def build_handlers() -> Handlers[Store]:
    """The registry of sharing's event handlers, one per event type it consumes."""
    handlers: Handlers[Store] = Handlers()
    handlers.register(AccountChanged, on_account_changed)
    handlers.register(CaptureAccepted, on_capture_accepted)
    handlers.register(ImageReady, on_image_ready)
    handlers.register(CaptureFailed, on_capture_failed)
    handlers.register(ImageUpdated, on_image_updated)
    handlers.register(ImageDeleted, on_image_deleted)
    handlers.register(PublicImageAdded, on_public_image_added)
    handlers.register(PublicImageRetired, on_public_image_retired)
    return handlers
