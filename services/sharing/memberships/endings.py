"""Ending memberships (S7, S9, S10): the owner removes tenants, an image is deleted or
fails, an account is closed. Nobody asks the recipient."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from schemas.envelope import utc_now
from schemas.events import MembershipFact, RevocationCause, ShareRevoked
from services.common.uow import UnitOfWork
from services.sharing import domain, store
from services.sharing.domain import Image, Membership
from services.sharing.memberships.facts import emit, parties
from services.sharing.memberships.model import Actor, Refused


async def remove_members(
    uow: UnitOfWork, owner: Actor, image_id: UUID, member: UUID | None
) -> list[Membership]:
    """The owner deletes one tenant (S9) or all of them (S7 取消共享, S9 全部删除), at
    any time and without asking the recipients (S10)."""
    images = await store.lock_images(uow.conn, [image_id])
    image = images.get(image_id)
    refusal = domain.manageable(image, image_id, owner.account_id)
    if refusal is not None or image is None:
        raise Refused(refusal or domain.image_not_found(image_id))
    ended = await store.delete_members(uow.conn, image_id, member)
    if member is not None and not ended:
        raise Refused(domain.member_not_found(member))
    cause: RevocationCause = "tenant_removed" if member is not None else "sharing_cancelled"
    await _announce_ended(uow, [(m, image) for m in ended], cause)
    return ended


async def end_memberships_of_image(uow: UnitOfWork, image: Image, cause: RevocationCause) -> None:
    """The image was deleted or failed: its memberships end (the caller holds its lock)."""
    ended = await store.delete_members(uow.conn, image.image_id)
    await _announce_ended(uow, [(m, image) for m in ended], cause)


async def end_memberships_of_account(uow: UnitOfWork, account_id: UUID) -> None:
    """The account was closed: what was offered to it and what it offered end."""
    ended = await store.delete_memberships_of_account(uow.conn, account_id)
    await _announce_ended(uow, ended, "account_closed")


async def _announce_ended(
    uow: UnitOfWork, ended: Sequence[tuple[Membership, Image]], cause: RevocationCause
) -> None:
    if not ended:
        return
    now = utc_now()
    names = await store.account_names(
        uow.conn,
        [m.member_account_id for m, _ in ended]
        + [i.owner_account_id for _, i in ended if i.owner_account_id],
    )
    by_owner: dict[UUID, list[MembershipFact]] = {}
    for membership, image in ended:
        owner = image.owner_account_id
        assert owner is not None, "only private images have members"
        member_name = names.get(membership.member_account_id, "")
        fact = ShareRevoked(
            **parties(membership, image, names.get(owner, ""), member_name),
            cause=cause,
            previous_status=membership.status.value,
            revoked_at=now,
        )
        by_owner.setdefault(owner, []).append(fact)
    for owner, facts in by_owner.items():
        await emit(uow, facts, tenant=owner)
