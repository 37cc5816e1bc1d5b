"""Offers (S1, S8): each image to each account, answered per pair, under the images' row
locks so the member limit holds however many requests race, in however many processes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from schemas.envelope import utc_now
from schemas.events import ShareOffered, membership_id
from services.common.uow import UnitOfWork
from services.sharing import domain, store
from services.sharing.domain import MEMBER_LIMIT, Image, Membership, MemberStatus, Refusal
from services.sharing.memberships.facts import emit, parties, unique
from services.sharing.memberships.model import Actor, Recipient, ShareOutcome, ShareResult


async def share(
    uow: UnitOfWork,
    owner: Actor,
    image_ids: Sequence[UUID],
    recipients: Sequence[Recipient],
    *,
    region: str | None,
) -> list[ShareResult]:
    """Offer each image to each recipient, answered per pair. Images are locked, so the
    member limit holds however many requests race, in however many processes."""
    images = await store.lock_images(uow.conn, image_ids)
    owner_account = await store.lock_account(uow.conn, owner.account_id)
    owner = Actor(owner.account_id, owner_account.name if owner_account else owner.name)
    recipients = unique(recipients)
    accounts = await store.accounts_by_name(uow.conn, [r.name for r in recipients])
    offer = _Offering(uow, owner, accounts, region, utc_now())
    results: list[ShareResult] = []
    for image_id in unique(image_ids):
        image = images.get(image_id)
        refusal = domain.shareable(image, image_id, owner.account_id)
        if refusal is not None or image is None:
            results += [
                ShareResult(image_id, r, ShareOutcome.REFUSED, refusal=refusal) for r in recipients
            ]
            continue
        results += await offer.image(image, recipients)
    return results


@dataclass(frozen=True)
class _Offering:
    """One share request: its owner, the accounts it names, its time."""

    uow: UnitOfWork
    owner: Actor
    accounts: dict[str, domain.Account]
    region: str | None
    now: datetime

    async def image(self, image: Image, recipients: Sequence[Recipient]) -> list[ShareResult]:
        """Offer one image (locked by the caller) to each recipient it does not have yet."""
        members = await store.members_of(self.uow.conn, image.image_id)
        known = {m.member_account_id: m for m in members}
        results, offered = [], []
        for recipient in recipients:
            result = self._decide(image.image_id, recipient, known)
            if result.outcome is ShareOutcome.OFFERED:
                assert result.account_id is not None
                membership = known[result.account_id]
                offered.append(membership)
            results.append(result)
        await store.insert_memberships(self.uow.conn, offered)
        names = {a.account_id: a.name for a in self.accounts.values()}
        facts = [
            ShareOffered(
                **parties(m, image, self.owner.name, names[m.member_account_id]),
                offered_at=self.now,
            )
            for m in offered
        ]
        await emit(self.uow, facts, tenant=self.owner.account_id)
        return results

    def _decide(
        self, image_id: UUID, recipient: Recipient, known: dict[UUID, Membership]
    ) -> ShareResult:
        """One pair (S2); an offer is added to ``known``, so the limit counts it."""
        account = self.accounts.get(recipient.name)
        target = domain.recipient(
            self.owner.account_id, recipient.name, account, recipient.project, self.region
        )
        if isinstance(target, Refusal):
            return ShareResult(image_id, recipient, ShareOutcome.REFUSED, refusal=target)
        assert account is not None, "recipient() refuses an unknown account"
        member = account.account_id
        if member in known:  # sharing again is harmless (S2)
            return ShareResult(
                image_id, recipient, ShareOutcome.ALREADY_MEMBER, member, known[member].status
            )
        if len(known) >= MEMBER_LIMIT:
            limit = domain.MEMBER_LIMIT_REACHED
            return ShareResult(image_id, recipient, ShareOutcome.REFUSED, member, refusal=limit)
        known[member] = Membership(
            membership_id(image_id, member), image_id, member, target,
            MemberStatus.PENDING, self.now, None,
        )  # fmt: skip
        return ShareResult(image_id, recipient, ShareOutcome.OFFERED, member, MemberStatus.PENDING)
