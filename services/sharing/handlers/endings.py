"""Ending memberships (S7, S9, S10): the owner removes tenants (a command), an image is
deleted or fails, an account is closed (the event handlers' part). Nobody asks the
recipient."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from schemas.events import MembershipFact, RevocationCause, ShareRevoked
from services.common.ports import UnitOfWork
from services.sharing import domain
from services.sharing.domain import Actor, Image, Membership
from services.sharing.handlers.facts import emit, parties
from services.sharing.ports import Store


async def remove_members(
    uow: UnitOfWork[Store], owner: Actor, image_id: UUID, member: UUID | None
) -> list[Membership]:
    """The owner deletes one tenant (S9) or all of them (S7 取消共享, S9 全部删除), at
    any time and without asking the recipients (S10)."""
    image = (await uow.store.lock_images([image_id])).get(image_id)
    refusal = domain.manageable(image, image_id, owner.account_id)
    if refusal is not None:
        raise refusal
    assert image is not None, "manageable() refuses a missing image"
    ended = await uow.store.delete_members(image_id, member)
    if member is not None and not ended:
        raise domain.member_not_found(member)
    cause: RevocationCause = "tenant_removed" if member is not None else "sharing_cancelled"
    await _announce_ended(uow, [(m, image) for m in ended], cause)
    return ended


async def end_memberships_of_image(
    uow: UnitOfWork[Store], image: Image, cause: RevocationCause
) -> None:
    """The image was deleted or failed: its memberships end (the caller holds its lock)."""
    ended = await uow.store.delete_members(image.image_id)
    await _announce_ended(uow, [(m, image) for m in ended], cause)


async def end_memberships_of_account(uow: UnitOfWork[Store], account_id: UUID) -> None:
    """The account was closed: what was offered to it and what it offered end."""
    ended = await uow.store.delete_memberships_of_account(account_id)
    await _announce_ended(uow, ended, "account_closed")


async def _announce_ended(
    uow: UnitOfWork[Store], ended: Sequence[tuple[Membership, Image]], cause: RevocationCause
) -> None:
    if not ended:
        return
    now = uow.now()
    names = await uow.store.account_names(
        [m.member_account_id for m, _ in ended]
        + [i.owner_account_id for _, i in ended if i.owner_account_id]
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
