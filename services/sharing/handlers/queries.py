"""What the owner and the recipient read (outside a transaction): tenants, offers."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.sharing import domain
from services.sharing.domain import Actor, Membership, MemberStatus, Offer
from services.sharing.ports import Store


async def members(store: Store, owner: Actor, image_id: UUID) -> list[tuple[Membership, str]]:
    """The tenants of the owner's image with their account names (seed 3.3.7)."""
    image = await store.get_image(image_id)
    refusal = domain.manageable(image, image_id, owner.account_id)
    if refusal is not None:
        raise refusal
    found = await store.members_of(image_id)
    names = await store.account_names([m.member_account_id for m in found])
    return [(m, names.get(m.member_account_id, "")) for m in found]


async def offers(
    store: Store,
    member: UUID,
    status: MemberStatus | None,
    limit: int,
    after: tuple[datetime, UUID] | None,
) -> list[Offer]:
    """A page of the offers made to ``member``, newest first, with their owners' names."""
    rows = await store.offers_to(member, status, limit, after)
    names = await store.account_names([i.owner_account_id for _, i in rows if i.owner_account_id])
    return [
        Offer(m, image, names.get(image.owner_account_id, "") if image.owner_account_id else "")
        for m, image in rows
    ]
