"""The catalog's handlers of sharing's facts: one membership each, on its own version line.

A share offer's way through the catalog: sharing's ``POST /v1/images/{id}/members`` queues
a ShareOffered in sharing's outbox, whose trigger ``outbox_inserted`` (messaging step 1,
``services.common.messaging_migrations``, run by every service's migration 0001) notifies
``<schema>_outbox`` to wake sharing's relay; the catalog consumes it here and keeps the
membership (``Store.save_membership``) for the shared tab (C2), share tenants (C3) and the
launch check (C8). The recipient's prompt is the notifier's: its trigger ``prompt_changed``
(notifier migration 0004) notifies ``<schema>_prompts`` to wake the prompt publisher. The
catalog's own migrations hold no trigger.

A fact must be stated by the account that made the change (the owner offers and revokes,
the member answers), be keyed by its membership, and name the image's real owner; anything
else is refused (dead-lettered) and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from schemas.envelope import Envelope, EnvelopeHeader
from schemas.events import (
    MEMBERSHIP,
    MembershipFact,
    ShareAccepted,
    ShareOffered,
    ShareRejected,
    ShareRevoked,
)
from services.catalog.domain import MembershipRecord
from services.catalog.ports import Store
from services.common.failures import Rejected
from services.common.handlers import Handlers
from services.common.ports import UnitOfWork
from services.common.tenancy import require_membership_fact


async def on_share_offered(uow: UnitOfWork[Store], event: Envelope[ShareOffered]) -> None:
    offered = event.data
    await _apply(uow, event, offered, "pending", by_owner=True, offered_at=offered.offered_at)


async def on_share_accepted(uow: UnitOfWork[Store], event: Envelope[ShareAccepted]) -> None:
    await _apply(uow, event, event.data, "accepted", by_owner=False)


async def on_share_rejected(uow: UnitOfWork[Store], event: Envelope[ShareRejected]) -> None:
    await _apply(uow, event, event.data, "rejected", by_owner=False)


async def on_share_revoked(uow: UnitOfWork[Store], event: Envelope[ShareRevoked]) -> None:
    revoked = event.data
    await _apply(uow, event, revoked, "revoked", by_owner=True, cause=revoked.cause)


async def _apply(
    uow: UnitOfWork[Store],
    event: EnvelopeHeader,
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
    known = await uow.store.image_owner(fact.image_id)
    if known is not None and known != ("private", fact.owner_account_id):
        raise Rejected(f"account {fact.owner_account_id} does not own image {fact.image_id}")
    await uow.store.save_membership(_record_of(event, fact, status, cause, offered_at))


def _record_of(
    event: EnvelopeHeader,
    fact: MembershipFact,
    status: str,
    cause: str | None,
    offered_at: datetime | None,
) -> MembershipRecord:
    return MembershipRecord(
        **fact.model_dump(include=_KEPT),
        status=status,
        revoked_cause=cause,
        offered_at=offered_at,
        changed_at=event.time,
    )


# What the catalog keeps of a fact, under the same names.
_KEPT = {
    "membership_id",
    "image_id",
    "owner_account_id",
    "member_account_id",
    "member_account_name",
    "member_project_id",
    "member_project_name",
}


def register_sharing(handlers: Handlers[Store]) -> None:
    handlers.register(ShareOffered, on_share_offered)
    handlers.register(ShareAccepted, on_share_accepted)
    handlers.register(ShareRejected, on_share_rejected)
    handlers.register(ShareRevoked, on_share_revoked)
