"""The share commands (S1, S8): each image to each account, answered per pair, under the
images' row locks so the member limit holds however many requests race, in however many
processes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from schemas.events import ShareOffered
from services.common.ports import UnitOfWork
from services.sharing import domain
from services.sharing.domain import Account, Actor, Image, Membership, Recipient, ShareResult
from services.sharing.handlers.facts import emit, parties, unique
from services.sharing.ports import Store


async def share(
    uow: UnitOfWork[Store],
    owner: Actor,
    image_ids: Sequence[UUID],
    recipients: Sequence[Recipient],
    *,
    region: str | None,
) -> list[ShareResult]:
    """Offer each image to each recipient (S1 batch), answered per pair."""
    store = uow.store
    images = await store.lock_images(image_ids)
    owner_account = await store.lock_account(owner.account_id)
    owner = Actor(owner.account_id, owner_account.name if owner_account else owner.name)
    recipients = unique(recipients)
    accounts = await store.accounts_by_name([r.name for r in recipients])
    results: list[ShareResult] = []
    for image_id in unique(image_ids):
        image = images.get(image_id)
        refusal = domain.shareable(image, image_id, owner.account_id)
        if refusal is not None or image is None:
            results += [
                ShareResult(image_id, r, domain.ShareOutcome.REFUSED, refusal=refusal)
                for r in recipients
            ]
            continue
        results += await _offer_image(uow, owner, image, recipients, accounts, region)
    return results


async def share_image(
    uow: UnitOfWork[Store],
    owner: Actor,
    image_id: UUID,
    recipients: Sequence[Recipient],
    *,
    region: str | None,
) -> tuple[list[ShareResult], int]:
    """Offer one image to accounts (S1, S8), answered per account, and how many tenants it
    has now; refused as a whole when the image itself is."""
    results = await share(uow, owner, [image_id], recipients, region=region)
    refusal = domain.refusal_of_image(results)
    if refusal is not None:
        raise refusal
    return results, await uow.store.count_members(image_id)


async def _offer_image(
    uow: UnitOfWork[Store],
    owner: Actor,
    image: Image,
    recipients: Sequence[Recipient],
    accounts: dict[str, Account],
    region: str | None,
) -> list[ShareResult]:
    """Offer one image (locked by the caller) to each recipient it does not have yet."""
    now = uow.now()
    members = {m.member_account_id: m for m in await uow.store.members_of(image.image_id)}
    results: list[ShareResult] = []
    offers: list[Membership] = []
    for recipient in recipients:
        account = accounts.get(recipient.name)
        result, offered = domain.offer_to(
            owner, image.image_id, recipient, account, members, region=region, now=now
        )
        if offered is not None:
            members[offered.member_account_id] = offered
            offers.append(offered)
        results.append(result)
    await uow.store.insert_memberships(offers)
    await emit(uow, _announcements(offers, image, owner, accounts, now), tenant=owner.account_id)
    return results


def _announcements(
    offers: Sequence[Membership],
    image: Image,
    owner: Actor,
    accounts: dict[str, Account],
    now: datetime,
) -> list[ShareOffered]:
    names = {a.account_id: a.name for a in accounts.values()}
    return [
        ShareOffered(**parties(m, image, owner.name, names[m.member_account_id]), offered_at=now)
        for m in offers
    ]
