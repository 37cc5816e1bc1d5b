"""What the owner and the recipient read: tenants, counts, offers."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.common.uow import UnitOfWork
from services.sharing import domain, store
from services.sharing.domain import Membership, MemberStatus
from services.sharing.memberships.model import Actor, Offer, Refused


async def members(uow: UnitOfWork, owner: Actor, image_id: UUID) -> list[tuple[Membership, str]]:
    """The tenants of the owner's image with their account names (seed 3.3.7)."""
    image = await store.get_image(uow.conn, image_id)
    refusal = domain.manageable(image, image_id, owner.account_id)
    if refusal is not None:
        raise Refused(refusal)
    found = await store.members_of(uow.conn, image_id)
    names = await store.account_names(uow.conn, [m.member_account_id for m in found])
    return [(m, names.get(m.member_account_id, "")) for m in found]


async def member_count(uow: UnitOfWork, image_id: UUID) -> int:
    return await store.count_members(uow.conn, image_id)


async def offers(
    uow: UnitOfWork,
    member: UUID,
    status: MemberStatus | None,
    limit: int,
    after: tuple[datetime, UUID] | None,
) -> list[Offer]:
    rows = await store.offers_to(uow.conn, member, status, limit, after)
    names = await store.account_names(
        uow.conn, [i.owner_account_id for _, i in rows if i.owner_account_id]
    )
    return [
        Offer(m, image, names.get(image.owner_account_id, "") if image.owner_account_id else "")
        for m, image in rows
    ]
