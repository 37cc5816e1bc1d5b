"""What sharing does with memberships, for the HTTP API and the event handlers alike: offer
(S1, S8), answer (S3, S5, S6), end (S7, S9, S10), each inside the caller's unit of work, so
every change commits together with the facts that announce it.

Each membership is an aggregate of its own (``schemas.events.MEMBERSHIP``): its facts carry
its own version line, never the image's.
"""

from __future__ import annotations

from services.sharing.memberships.answers import answer
from services.sharing.memberships.endings import (
    end_memberships_of_account,
    end_memberships_of_image,
    remove_members,
)
from services.sharing.memberships.model import (
    Actor,
    AnswerOutcome,
    AnswerResult,
    Offer,
    Recipient,
    Refused,
    ShareOutcome,
    ShareResult,
)
from services.sharing.memberships.offers import share
from services.sharing.memberships.queries import member_count, members, offers

__all__ = [
    "Actor",
    "AnswerOutcome",
    "AnswerResult",
    "Offer",
    "Recipient",
    "Refused",
    "ShareOutcome",
    "ShareResult",
    "answer",
    "end_memberships_of_account",
    "end_memberships_of_image",
    "member_count",
    "members",
    "offers",
    "remove_members",
    "share",
]
