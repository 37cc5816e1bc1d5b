"""The answer commands (S3, S5, S6): the recipient accepts or rejects its own offers,
chosen or all."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from schemas.events import MembershipFact, ShareAccepted, ShareRejected
from services.common.ports import UnitOfWork
from services.sharing import domain
from services.sharing.domain import (
    Actor,
    Answer,
    AnswerOutcome,
    AnswerResult,
    Image,
    Membership,
    MemberStatus,
)
from services.sharing.handlers.facts import emit, parties, unique
from services.sharing.ports import Store


async def answer(
    uow: UnitOfWork[Store], member: Actor, decision: Answer, image_ids: Sequence[UUID] | None
) -> list[AnswerResult]:
    """The recipient accepts or rejects chosen images (pending, or accepted/rejected ones
    to move), or every pending offer (``image_ids`` None: 全部接受 / 全部拒绝). Refused as
    a whole when none of them is the recipient's to answer."""
    store, now = uow.store, uow.now()
    chosen = None if image_ids is None else unique(image_ids)
    rows = await store.lock_offers_to(
        member.account_id,
        image_ids=chosen,
        status=MemberStatus.PENDING if chosen is None else None,
    )
    found = {m.image_id: (m, image) for m, image in rows}
    names = await store.account_names(
        [member.account_id, *(i.owner_account_id for _, i in rows if i.owner_account_id)]
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
        fact, outcome = _fact(membership, image, owner_name, member_name, status, now)
        facts.append(fact)
        results.append(AnswerResult(image_id, outcome, status))
    whole = domain.refusal_of_answers(results)
    if whole is not None:
        raise whole
    for status, ids in changed.items():
        await store.set_status(ids, status, now)
    await emit(uow, facts, tenant=member.account_id)
    return results


def _fact(
    membership: Membership,
    image: Image,
    owner_name: str,
    member_name: str,
    status: MemberStatus,
    now: datetime,
) -> tuple[MembershipFact, AnswerOutcome]:
    """The fact announcing a membership's new status, and the outcome it is."""
    said = parties(membership, image, owner_name, member_name)
    if status is MemberStatus.ACCEPTED:
        return ShareAccepted(**said, accepted_at=now), AnswerOutcome.ACCEPTED
    previous = membership.status.value
    return (
        ShareRejected(**said, previous_status=previous, rejected_at=now),
        AnswerOutcome.REJECTED,
    )
