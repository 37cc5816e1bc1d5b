"""The catalog's handlers of sharing's facts: one membership each, on its own version line.

A fact must be stated by the account that made the change (the owner offers and revokes,
the member answers), be keyed by its membership, and name the image's real owner; anything
else is refused (dead-lettered) and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from schemas.envelope import Envelope
from schemas.events import (
    MEMBERSHIP,
    MembershipFact,
    ShareAccepted,
    ShareOffered,
    ShareRejected,
    ShareRevoked,
)
from services.catalog import memberships
from services.catalog.memberships import MembershipRecord
from services.common.consumer import Handler
from services.common.failures import Rejected
from services.common.tenancy import require_membership_fact
from services.common.uow import UnitOfWork


async def on_share_offered(uow: UnitOfWork, event: Envelope[Any]) -> None:
    offered: ShareOffered = event.data
    await _apply(uow, event, offered, "pending", by_owner=True, offered_at=offered.offered_at)


async def on_share_accepted(uow: UnitOfWork, event: Envelope[Any]) -> None:
    accepted: ShareAccepted = event.data
    await _apply(uow, event, accepted, "accepted", by_owner=False)


async def on_share_rejected(uow: UnitOfWork, event: Envelope[Any]) -> None:
    rejected: ShareRejected = event.data
    await _apply(uow, event, rejected, "rejected", by_owner=False)


async def on_share_revoked(uow: UnitOfWork, event: Envelope[Any]) -> None:
    revoked: ShareRevoked = event.data
    await _apply(uow, event, revoked, "revoked", by_owner=True, cause=revoked.cause)


async def _apply(
    uow: UnitOfWork,
    event: Envelope[Any],
    fact: MembershipFact,
    status: str,
    *,
    by_owner: bool,
    cause: str | None = None,
    offered_at: datetime | None = None,
) -> None:
    require_membership_fact(event, fact, by_owner=by_owner)
    if not await uow.apply_version(MEMBERSHIP, str(fact.membership_id), event.sequence):
        return  # stale: a newer fact about this membership was applied
    known = await memberships.image_owner(uow.conn, fact.image_id)
    if known is not None and known != ("private", fact.owner_account_id):
        raise Rejected(f"account {fact.owner_account_id} does not own image {fact.image_id}")
    await memberships.save(
        uow.conn,
        MembershipRecord(
            membership_id=fact.membership_id,
            image_id=fact.image_id,
            owner_account_id=fact.owner_account_id,
            member_account_id=fact.member_account_id,
            member_account_name=fact.member_account_name,
            member_project_id=fact.member_project_id,
            member_project_name=fact.member_project_name,
            status=status,
            revoked_cause=cause,
            offered_at=offered_at,
            changed_at=event.time,
        ),
    )


MEMBERSHIP_HANDLERS: dict[type[Any], Handler] = {
    ShareOffered: on_share_offered,
    ShareAccepted: on_share_accepted,
    ShareRejected: on_share_rejected,
    ShareRevoked: on_share_revoked,
}
