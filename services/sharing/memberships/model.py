"""What the membership operations take and answer."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from services.sharing.domain import Image, Membership, MemberStatus, Refusal


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


@dataclass(frozen=True)
class Offer:
    """An image offered to the recipient, as its lists show it."""

    membership: Membership
    image: Image
    owner_name: str
