"""What sharing knows and answers: images and accounts (from other services' facts), the
memberships it decides, and the per-pair results of a share or an answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from services.common.i18n import Text
from services.common.refusals import Refusal

# Seed 3.3: 每个镜像可以共享的租户数额为 128 个.
MEMBER_LIMIT = 128


class ImageStatus(StrEnum):
    CREATING = "creating"
    NORMAL = "normal"
    FAILED = "failed"
    DELETED = "deleted"


class MemberStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Answer(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"


# The console's words for each member status (seed 3.3).
STATUS_LABELS: dict[MemberStatus, Text] = {
    MemberStatus.PENDING: Text("待接受", "pending"),
    MemberStatus.ACCEPTED: Text("已接受", "accepted"),
    MemberStatus.REJECTED: Text("已拒绝", "rejected"),
}


@dataclass(frozen=True)
class Image:
    """What sharing knows of an image from the catalog's and capture's facts."""

    image_id: UUID
    owner_account_id: UUID | None  # None for a public image
    name: str
    status: ImageStatus
    public: bool


@dataclass(frozen=True)
class Project:
    project_id: UUID
    name: str
    region: str | None


@dataclass(frozen=True)
class Account:
    """What sharing knows of an account from IAM."""

    account_id: UUID
    name: str
    kind: str  # standard, dedicated_cloud, multi_project
    projects: tuple[Project, ...]
    active: bool


@dataclass(frozen=True)
class Membership:
    """An image offered to one account, with its answer."""

    membership_id: UUID
    image_id: UUID
    member_account_id: UUID
    member_project: Project | None
    status: MemberStatus
    offered_at: datetime
    answered_at: datetime | None


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
    """One pair (image, recipient) of a share request."""

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
    """One image of a recipient's answer."""

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
