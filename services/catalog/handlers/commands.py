"""What tenants and admins ask the catalog to do over HTTP: one function per command,
each inside the caller's unit of work (state and the facts announcing it commit together).

A rule that refuses raises a :class:`~services.common.refusals.Refusal` before anything is
written, or the unit of work rolls back what was. The API runs each through its
``RequestRunner`` (one unit of work, deadlock retry, refusal -> problem document).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from schemas.events import (
    IMAGE,
    PLATFORM_TENANT,
    CaptureRequested,
    ImageDeleted,
    ImageUpdated,
    OperatingSystem,
    PublicImageAdded,
    PublicImageRetired,
)
from services.catalog import domain
from services.catalog.domain import (
    AccountRecord,
    CaptureRequest,
    ImageRecord,
    ImageStatus,
    NewPublicImage,
    PublishStatus,
    Quota,
    Visibility,
    messages,
)
from services.catalog.handlers.usage import restate_stored
from services.catalog.ports import Store
from services.common.ports import UnitOfWork
from services.common.refusals import Refusal

# --- create a private image from a host (the console's create, C6) ----------------------


@dataclass(frozen=True)
class CreateImage:
    account_id: UUID
    host_id: UUID
    name: str
    description: str
    strict_preflight: bool = False
    # A client's key for retrying the same request safely (HTTP Idempotency-Key).
    idempotency_key: str | None = None
    # Fixed when the command is made: derived from the key (a retry names the same image),
    # else a new one.
    image_id: UUID = field(init=False)

    def __post_init__(self) -> None:
        image_id = uuid4()
        if self.idempotency_key is not None:
            key = f"ims:create:{self.account_id}:{self.idempotency_key}"
            image_id = uuid5(NAMESPACE_URL, key)
        object.__setattr__(self, "image_id", image_id)


@dataclass(frozen=True)
class Created:
    image: ImageRecord
    quota: Quota


async def create_image(uow: UnitOfWork[Store], command: CreateImage) -> Created:
    """Take a quota slot and register the image as creating, then send the request out as
    a CaptureRequested, the way any platform service does; the catalog's consumer accepts
    it (the slot is already taken). Whether the host is the tenant's and stopped is
    capture's to decide: the image then fails with the reason."""
    domain.check_name(command.name)
    domain.check_description(command.description)
    image_id = command.image_id
    quota = await quota_of(uow.store, await uow.store.lock_account(command.account_id))
    replayed = None
    if command.idempotency_key is not None:
        replayed = await uow.store.get_image(image_id)
    if replayed is not None:
        if (replayed.source_host_id, replayed.name) != (command.host_id, command.name):
            raise Refusal("idempotency_key_reused", messages.IDEMPOTENCY_KEY_REUSED)
        return Created(replayed, quota)
    after = quota.admit_one()
    request = CaptureRequest(
        image_id, command.account_id, command.host_id, command.name, command.description
    )
    image = await uow.store.register_request(request, uow.now())
    if image is None:  # a fresh uuid4 never collides; a derived one was looked up above
        raise Refusal("image_exists", messages.image_id_taken(image_id))
    await uow.emit(
        CaptureRequested(
            image_id=image_id,
            account_id=command.account_id,
            host_id=command.host_id,
            name=command.name,
            description=command.description,
            strict_preflight=command.strict_preflight,
        ),
        aggregate_type=IMAGE,
        aggregate_id=str(image_id),
        tenant=str(command.account_id),
    )
    return Created(image, after)


# --- modify (C4) and delete (C5): the owner, on its own private images ------------------


async def modify_image(
    uow: UnitOfWork[Store],
    account_id: UUID,
    image_id: UUID,
    *,
    name: str | None,
    description: str | None,
) -> ImageRecord:
    image = await _lock_own(uow, account_id, image_id)
    domain.check_modifiable(image.status)
    if name is None and description is None:
        raise Refusal("nothing_to_update", messages.NOTHING_TO_UPDATE)
    new_name = image.name if name is None else name
    new_description = image.description if description is None else description
    domain.check_name(new_name)
    domain.check_description(new_description)
    if (new_name, new_description) == (image.name, image.description):
        return image  # nothing changed, so no fact
    at = uow.now()
    updated = await uow.store.update_text(image_id, new_name, new_description, at)
    await _announce_update(uow, updated, at)
    return updated


async def delete_image(uow: UnitOfWork[Store], account_id: UUID, image_id: UUID) -> None:
    image = await _lock_own(uow, account_id, image_id)
    domain.check_deletable(image.status, image.publish_status)
    at = uow.now()
    await uow.store.mark_deleted(image_id, at)
    # Capture removes the stored file, sharing ends the memberships: both from this fact.
    await uow.emit(
        ImageDeleted(image_id=image_id, account_id=account_id, deleted_at=at),
        aggregate_type=IMAGE,
        aggregate_id=str(image_id),
        tenant=str(account_id),
    )
    if image.status is ImageStatus.NORMAL:  # a failed image stored nothing
        await restate_stored(uow, account_id, image_id, at)


async def _lock_own(uow: UnitOfWork[Store], account_id: UUID, image_id: UUID) -> ImageRecord:
    """The tenant's own image, locked; someone else's private image is not found, exactly
    like a missing one, and a public image is not the tenant's to change."""
    image = await uow.store.lock_visible_image(image_id, account_id)
    if image is None:
        raise domain.not_found(image_id)
    domain.check_owned(image.visibility)
    return image


# --- admin: quota (C6), publish status (C7), public images (C1) ---------------------------


async def quota_of(store: Store, account: AccountRecord) -> Quota:
    """The account's quota as it stands (under its lock, as it will stay until commit)."""
    used = await store.quota_used(account.account_id)
    return domain.quota_of(account.private_image_quota, used)


async def set_quota(uow: UnitOfWork[Store], account_id: UUID, limit: int) -> Quota:
    """Raise or lower an account's quota; images it already holds stay (a lower quota
    only refuses new ones until the account is below it)."""
    await uow.store.lock_account(account_id)
    await uow.store.set_quota(account_id, limit, uow.now())
    return Quota(limit, await uow.store.quota_used(account_id))


async def set_publish_status(
    uow: UnitOfWork[Store], image_id: UUID, status: PublishStatus
) -> ImageRecord:
    image = await uow.store.lock_image(image_id)
    if image is None:
        raise domain.not_found(image_id)
    domain.check_publishable(image.visibility, image.status)
    if image.publish_status is status:
        return image  # already so: no fact
    at = uow.now()
    updated = await uow.store.set_publish_status(image_id, status, at)
    await _announce_update(uow, updated, at)
    return updated


async def add_public_image(uow: UnitOfWork[Store], image: NewPublicImage) -> ImageRecord:
    domain.check_name(image.name)
    domain.check_description(image.description)
    at = uow.now()
    added = await uow.store.insert_public_image(image, at)
    if added is None:
        raise Refusal("image_exists", messages.image_id_taken(image.image_id))
    await announce_public_image(uow, added, at)
    return added


async def retire_public_image(uow: UnitOfWork[Store], image_id: UUID) -> None:
    """The image leaves the public tab and can no longer be used (C1); hosts already
    created from it are ECS's and stay."""
    if await uow.store.lock_public_image(image_id) is None:
        raise domain.not_found(image_id)
    at = uow.now()
    await uow.store.mark_deleted(image_id, at)
    await uow.emit(
        PublicImageRetired(image_id=image_id, retired_at=at),
        aggregate_type=IMAGE,
        aggregate_id=str(image_id),
        tenant=PLATFORM_TENANT,
    )


async def announce_public_image(uow: UnitOfWork[Store], image: ImageRecord, at: datetime) -> None:
    """PublicImageAdded for a public image: on an admin's add, or once for a seeded one."""
    assert image.visibility is Visibility.PUBLIC
    assert image.os is not None
    assert image.system_disk_gb is not None
    assert image.min_memory_mb is not None
    await uow.emit(
        PublicImageAdded(
            image_id=image.image_id,
            name=image.name,
            os=OperatingSystem.model_validate(image.os),
            system_disk_gb=image.system_disk_gb,
            min_memory_mb=image.min_memory_mb,
            added_at=at,
        ),
        aggregate_type=IMAGE,
        aggregate_id=str(image.image_id),
        tenant=PLATFORM_TENANT,
    )


async def _announce_update(uow: UnitOfWork[Store], image: ImageRecord, at: datetime) -> None:
    assert image.owner_account_id is not None, "only private images change this way"
    await uow.emit(
        ImageUpdated(
            image_id=image.image_id,
            account_id=image.owner_account_id,
            name=image.name,
            description=image.description,
            publish_status=image.publish_status.value,
            updated_at=at,
        ),
        aggregate_type=IMAGE,
        aggregate_id=str(image.image_id),
        tenant=str(image.owner_account_id),
    )
