"""What tenants and admins ask the catalog to do over HTTP: one function per command,
each inside the caller's unit of work (state and the facts announcing it commit together).

A rule that refuses raises ``domain.Refusal`` before anything is written, or the unit of
work rolls back what was.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from services.catalog import domain, messages, store
from services.catalog.domain import ImageStatus, PublishStatus, Quota, Refusal, Visibility
from services.catalog.usage import restate_stored
from services.common.db import Connection
from services.common.uow import UnitOfWork

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

    @property
    def image_id(self) -> UUID:
        if self.idempotency_key is None:
            return uuid4()
        return uuid5(NAMESPACE_URL, f"ims:create:{self.account_id}:{self.idempotency_key}")


@dataclass(frozen=True)
class Created:
    image: store.ImageRecord
    quota: Quota


async def create_image(uow: UnitOfWork, command: CreateImage, at: datetime) -> Created:
    """Take a quota slot and register the image as creating, then send the request out as
    a CaptureRequested, the way any platform service does; the catalog's consumer accepts
    it (the slot is already taken). Whether the host is the tenant's and stopped is
    capture's to decide: the image then fails with the reason."""
    domain.check_name(command.name)
    domain.check_description(command.description)
    image_id = command.image_id
    quota = await read_quota(uow.conn, await store.lock_account(uow.conn, command.account_id))
    replayed = None
    if command.idempotency_key is not None:
        replayed = await store.get_image(uow.conn, image_id)
    if replayed is not None:
        if (replayed.source_host_id, replayed.name) != (command.host_id, command.name):
            raise Refusal("idempotency_key_reused", messages.IDEMPOTENCY_KEY_REUSED)
        return Created(replayed, quota)
    after = quota.admit_one()
    image = await store.register_request(
        uow.conn, image_id, command.account_id, command.host_id, command.name,
        command.description, at,
    )  # fmt: skip
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
    uow: UnitOfWork,
    account_id: UUID,
    image_id: UUID,
    *,
    name: str | None,
    description: str | None,
    at: datetime,
) -> store.ImageRecord:
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
    updated = await store.update_text(uow.conn, image_id, new_name, new_description, at)
    await _announce_update(uow, updated, at)
    return updated


async def delete_image(uow: UnitOfWork, account_id: UUID, image_id: UUID, at: datetime) -> None:
    image = await _lock_own(uow, account_id, image_id)
    domain.check_deletable(image.status, image.publish_status)
    await store.mark_deleted(uow.conn, image_id, at)
    # Capture removes the stored file, sharing ends the memberships: both from this fact.
    await uow.emit(
        ImageDeleted(image_id=image_id, account_id=account_id, deleted_at=at),
        aggregate_type=IMAGE,
        aggregate_id=str(image_id),
        tenant=str(account_id),
    )
    if image.status is ImageStatus.NORMAL:  # a failed image stored nothing
        await restate_stored(uow, account_id, image_id, at)


async def _lock_own(uow: UnitOfWork, account_id: UUID, image_id: UUID) -> store.ImageRecord:
    """The tenant's own image, locked; someone else's private image is not found, exactly
    like a missing one, and a public image is not the tenant's to change."""
    image = await store.lock_visible_image(uow.conn, image_id, account_id)
    if image is None:
        raise domain.not_found(image_id)
    domain.check_owned(image.visibility)
    return image


# --- admin: quota (C6), publish status (C7), public images (C1) ---------------------------


async def read_quota(conn: Connection, account: store.AccountRecord) -> Quota:
    """The account's quota as it stands (under its lock, as it will stay until commit)."""
    used = await store.quota_used(conn, account.account_id)
    return domain.quota_of(account.private_image_quota, used)


async def set_quota(uow: UnitOfWork, account_id: UUID, limit: int, at: datetime) -> Quota:
    """Raise or lower an account's quota; images it already holds stay (a lower quota
    only refuses new ones until the account is below it)."""
    await store.lock_account(uow.conn, account_id)
    await store.set_quota(uow.conn, account_id, limit, at)
    return Quota(limit, await store.quota_used(uow.conn, account_id))


async def set_publish_status(
    uow: UnitOfWork, image_id: UUID, status: PublishStatus, at: datetime
) -> store.ImageRecord:
    image = await store.lock_image(uow.conn, image_id)
    if image is None:
        raise domain.not_found(image_id)
    domain.check_publishable(image.visibility, image.status)
    if image.publish_status is status:
        return image  # already so: no fact
    updated = await store.set_publish_status(uow.conn, image_id, status, at)
    await _announce_update(uow, updated, at)
    return updated


async def add_public_image(
    uow: UnitOfWork, image: store.NewPublicImage, at: datetime
) -> store.ImageRecord:
    domain.check_name(image.name)
    domain.check_description(image.description)
    added = await store.insert_public_image(uow.conn, image, at)
    if added is None:
        raise Refusal("image_exists", messages.image_id_taken(image.image_id))
    await announce_public_image(uow, added, at)
    return added


async def retire_public_image(uow: UnitOfWork, image_id: UUID, at: datetime) -> None:
    """The image leaves the public tab and can no longer be used (C1); hosts already
    created from it are ECS's and stay."""
    if await store.lock_public_image(uow.conn, image_id) is None:
        raise domain.not_found(image_id)
    await store.mark_deleted(uow.conn, image_id, at)
    await uow.emit(
        PublicImageRetired(image_id=image_id, retired_at=at),
        aggregate_type=IMAGE,
        aggregate_id=str(image_id),
        tenant=PLATFORM_TENANT,
    )


async def announce_public_image(uow: UnitOfWork, image: store.ImageRecord, at: datetime) -> None:
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


async def _announce_update(uow: UnitOfWork, image: store.ImageRecord, at: datetime) -> None:
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
