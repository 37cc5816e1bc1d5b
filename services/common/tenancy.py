"""Whose fact is it: a fact about an account's resources is stated in that account's name.

The envelope's ``tenant`` is the account a fact concerns. A fact whose body names another
account (a producer acting for someone else, or a bug) is refused, never applied.
"""

from __future__ import annotations

from uuid import UUID

from schemas.envelope import EnvelopeHeader
from schemas.events import MembershipFact, membership_id
from services.common.failures import Rejected


def require_tenant(event: EnvelopeHeader, account_id: UUID) -> None:
    """Raise Rejected unless ``event`` is stated in the name of ``account_id``."""
    if event.tenant != str(account_id):
        raise Rejected(
            f"tenant {event.tenant} may not state {event.type} facts for account {account_id}"
        )


def require_membership_fact(event: EnvelopeHeader, fact: MembershipFact, *, by_owner: bool) -> None:
    """Raise Rejected unless a fact about a membership is stated by the account that made
    the change (the owner offers and revokes, the member answers), is keyed by the
    membership it names, and does not make an owner a member of its own image."""
    require_tenant(event, fact.owner_account_id if by_owner else fact.member_account_id)
    expected = membership_id(fact.image_id, fact.member_account_id)
    if fact.membership_id != expected or event.subject != str(expected):
        raise Rejected(f"{event.type} {event.subject} is not keyed by its membership {expected}")
    if fact.member_account_id == fact.owner_account_id:
        raise Rejected(f"account {fact.owner_account_id} cannot be a member of its own image")
