"""What sharing does with memberships, for the HTTP API and the event handlers alike: offer
(S1, S8), answer (S3, S5, S6), end (S7, S9, S10), each inside the caller's unit of work, so
every change commits together with the facts that announce it.

Each membership is an aggregate of its own (``schemas.events.MEMBERSHIP``): its facts carry
its own version line, never the image's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

from schemas.envelope import utc_now
from schemas.events import (
    MEMBERSHIP,
    MembershipFact,
    RevocationCause,
    ShareAccepted,
    ShareOffered,
    ShareRejected,
    ShareRevoked,
    membership_id,
)
from services.common.uow import Emission, UnitOfWork
from services.sharing import domain, store
from services.sharing.domain import (
    MEMBER_LIMIT,
    Answer,
    Image,
    Membership,
    MemberStatus,
    Refusal,
)

T = TypeVar("T")


class Refused(Exception):
    """A request refused as a whole (the image, not one of its pairs)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.code)
        self.refusal = refusal


@dataclass(frozen=True)
class Actor:
    """The account behind a request; ``name`` (from its token) stands in until IAM's is known."""

    account_id: UUID
    name: str


@dataclass(frozen=True)
class Recipient:
    """An account as the owner names it (S1): account name, and project if it has several."""

    name: str
    project: str | None = None


class ShareOutcome(StrEnum):
    OFFERED = "offered"
    ALREADY_MEMBER = "already_member"
    REFUSED = "refused"


@dataclass(frozen=True)
class ShareResult:
    image_id: UUID
    recipient: Recipient
    outcome: ShareOutcome
    account_id: UUID | None = None
    status: MemberStatus | None = None
    refusal: Refusal | None = None


class AnswerOutcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNCHANGED = "unchanged"
    REFUSED = "refused"


@dataclass(frozen=True)
class AnswerResult:
    image_id: UUID
    outcome: AnswerOutcome
    status: MemberStatus | None = None
    refusal: Refusal | None = None


# --- offers --------------------------------------------------------------------------------


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
    recipients = _unique(recipients)
    accounts = await store.accounts_by_name(uow.conn, [r.name for r in recipients])
    offer = _Offering(uow, owner, accounts, region, utc_now())
    results: list[ShareResult] = []
    for image_id in _unique(image_ids):
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
                **_parties(m, image, self.owner.name, names[m.member_account_id]),
                offered_at=self.now,
            )
            for m in offered
        ]
        await _emit(self.uow, facts, tenant=self.owner.account_id)
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


# --- answers -------------------------------------------------------------------------------


async def answer(
    uow: UnitOfWork, member: Actor, decision: Answer, image_ids: Sequence[UUID] | None
) -> list[AnswerResult]:
    """The recipient accepts or rejects chosen images (pending, or accepted/rejected ones
    to move), or every pending offer (``image_ids`` None: 全部接受 / 全部拒绝)."""
    conn, now = uow.conn, utc_now()
    chosen = None if image_ids is None else _unique(image_ids)
    rows = await store.lock_offers_to(
        conn,
        member.account_id,
        image_ids=chosen,
        status=MemberStatus.PENDING if chosen is None else None,
    )
    found = {m.image_id: (m, image) for m, image in rows}
    names = await store.account_names(
        conn, [member.account_id, *(i.owner_account_id for _, i in rows if i.owner_account_id)]
    )
    member_name = names.get(member.account_id, member.name)
    results: list[AnswerResult] = []
    changed: dict[MemberStatus, list[UUID]] = {}
    facts: list[MembershipFact] = []
    for image_id in chosen if chosen is not None else [m.image_id for m, _ in rows]:
        if image_id not in found:  # never offered to this account, or revoked since
            refusal = domain.offer_not_found(image_id)
            results.append(AnswerResult(image_id, AnswerOutcome.REFUSED, refusal=refusal))
            continue
        membership, image = found[image_id]
        status = domain.answered(membership.status, decision)
        if status is None:
            results.append(AnswerResult(image_id, AnswerOutcome.UNCHANGED, membership.status))
            continue
        changed.setdefault(status, []).append(membership.membership_id)
        owner_name = names.get(image.owner_account_id, "") if image.owner_account_id else ""
        parties = _parties(membership, image, owner_name, member_name)
        fact: MembershipFact
        if status is MemberStatus.ACCEPTED:
            fact = ShareAccepted(**parties, accepted_at=now)
            outcome = AnswerOutcome.ACCEPTED
        else:
            previous = membership.status.value
            fact = ShareRejected(**parties, previous_status=previous, rejected_at=now)
            outcome = AnswerOutcome.REJECTED
        facts.append(fact)
        results.append(AnswerResult(image_id, outcome, status))
    for status, ids in changed.items():
        await store.set_status(conn, ids, status, now)
    await _emit(uow, facts, tenant=member.account_id)
    return results


# --- ending memberships --------------------------------------------------------------------


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
            **_parties(membership, image, names.get(owner, ""), member_name),
            cause=cause,
            previous_status=membership.status.value,
            revoked_at=now,
        )
        by_owner.setdefault(owner, []).append(fact)
    for owner, facts in by_owner.items():
        await _emit(uow, facts, tenant=owner)


# --- queries -------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Offer:
    """An image offered to the recipient, as its lists show it."""

    membership: Membership
    image: Image
    owner_name: str


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


# --- helpers -------------------------------------------------------------------------------


def _parties(
    membership: Membership, image: Image, owner_name: str, member_name: str
) -> dict[str, Any]:
    """What every fact about a membership says, so its readers never ask back."""
    project = membership.member_project
    return {
        "membership_id": membership.membership_id,
        "image_id": image.image_id,
        "image_name": image.name,
        "owner_account_id": image.owner_account_id,
        "owner_account_name": owner_name,
        "member_account_id": membership.member_account_id,
        "member_account_name": member_name,
        "member_project_id": project.project_id if project else None,
        "member_project_name": project.name if project else None,
    }


async def _emit(uow: UnitOfWork, facts: Sequence[MembershipFact], *, tenant: UUID) -> None:
    """Each fact on its membership's own line, never the image's; all in two statements."""
    await uow.emit_many([Emission(f, MEMBERSHIP, str(f.membership_id), str(tenant)) for f in facts])


def _unique(items: Iterable[T]) -> list[T]:
    """In their order, each once."""
    return list(dict.fromkeys(items))
