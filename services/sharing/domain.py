"""Sharing rules without I/O: who may share what with whom (S2), how answers move a
membership (S3, S5, S6), and the words a person reads when something is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from services.common.i18n import Text

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
class Refusal:
    """Why a request, or one pair of a batch, is refused: a stable code and the words."""

    code: str
    text: Text


def image_not_found(image_id: UUID) -> Refusal:
    # Missing, deleted, or another account's private image: all answered alike (404).
    return Refusal(
        "image_not_found",
        Text(f"镜像 {image_id} 不存在。", f"Image {image_id} does not exist."),
    )


PUBLIC_IMAGE = Refusal(
    "public_image",
    Text(
        "公共镜像对所有租户可见，不能共享；只能共享私有镜像。",
        "Public images are visible to every tenant and cannot be shared; share private images.",
    ),
)


def image_not_normal(status: ImageStatus) -> Refusal:
    label = {ImageStatus.CREATING: "创建中", ImageStatus.FAILED: "失败"}.get(status, status)
    return Refusal(
        "image_not_normal",
        Text(
            f"只能共享状态为“正常”的私有镜像，该镜像的状态为“{label}”。",
            f"Only private images in status normal can be shared; this one is {status}.",
        ),
    )


def account_not_found(name: str) -> Refusal:
    # A closed account is answered like an unknown one: a sharer learns nothing about it.
    return Refusal(
        "account_not_found",
        Text(
            f"帐户“{name}”不存在或已注销，请确认帐户名。",
            f'Account "{name}" does not exist or is closed; check the account name.',
        ),
    )


SELF = Refusal(
    "cannot_share_with_self",
    Text("不能将镜像共享给自己的帐户。", "An image cannot be shared with its own account."),
)


def project_required(name: str) -> Refusal:
    return Refusal(
        "project_required",
        Text(
            f"帐户“{name}”是专属云或多项目用户，请同时输入项目名称。",
            f'Account "{name}" has projects (dedicated cloud or multi-project): name one.',
        ),
    )


def project_not_found(name: str, project: str) -> Refusal:
    return Refusal(
        "project_not_found",
        Text(
            f"帐户“{name}”没有名为“{project}”的项目。",
            f'Account "{name}" has no project named "{project}".',
        ),
    )


def project_in_other_region(project: str, region: str) -> Refusal:
    return Refusal(
        "project_in_other_region",
        Text(
            f"项目“{project}”属于区域 {region}，镜像共享的范围只能在区域内。",
            f'Project "{project}" is in region {region}; images are shared within a region.',
        ),
    )


MEMBER_LIMIT_REACHED = Refusal(
    "member_limit_reached",
    Text(
        f"每个镜像最多共享给 {MEMBER_LIMIT} 个租户，已达到上限。",
        f"An image can be shared with at most {MEMBER_LIMIT} accounts; the limit is reached.",
    ),
)


def offer_not_found(image_id: UUID) -> Refusal:
    # Never offered to this account, or revoked since: answered alike, whoever asks.
    return Refusal(
        "offer_not_found",
        Text(
            f"没有向您共享镜像 {image_id}，或共享已被取消。",
            f"Image {image_id} is not shared with you, or its sharing was cancelled.",
        ),
    )


def member_not_found(account_id: UUID) -> Refusal:
    return Refusal(
        "member_not_found",
        Text(
            f"该镜像没有共享给帐户 {account_id}。",
            f"The image is not shared with account {account_id}.",
        ),
    )


def members_summary(count: int) -> Text:
    """What the owner reads under the tenant list (seed 3.3.6)."""
    remaining = max(0, MEMBER_LIMIT - count)
    return Text(
        f"已有租户{count}个，还可以添加{remaining}个",
        f"{count} tenants, {remaining} more can be added",
    )


def shareable(image: Image | None, image_id: UUID, owner: UUID) -> Refusal | None:
    """Whether ``owner`` may share the image at all (S2): only its own private images in
    ``normal``. None when it may."""
    if image is None or image.status is ImageStatus.DELETED:
        return image_not_found(image_id)
    if image.public:
        return PUBLIC_IMAGE
    if image.owner_account_id != owner:
        return image_not_found(image_id)
    if image.status is not ImageStatus.NORMAL:
        return image_not_normal(image.status)
    return None


def manageable(image: Image | None, image_id: UUID, owner: UUID) -> Refusal | None:
    """Whether ``owner`` may see and change the tenants of the image (S7, S9), whatever
    its status: only its own private images."""
    if image is None or image.status is ImageStatus.DELETED:
        return image_not_found(image_id)
    if image.public:
        return PUBLIC_IMAGE
    if image.owner_account_id != owner:
        return image_not_found(image_id)
    return None


def recipient(
    owner: UUID,
    name: str,
    account: Account | None,
    project_name: str | None,
    region: str | None,
) -> Refusal | Project | None:
    """Who an offer goes to (S1, S2): a Refusal, the project offered to, or None for a
    standard account (shared as a whole)."""
    if account is None or not account.active:
        return account_not_found(name)
    if account.account_id == owner:
        return SELF
    if project_name is None:
        return project_required(name) if account.projects else None
    project = next((p for p in account.projects if p.name == project_name), None)
    if project is None:
        return project_not_found(name, project_name)
    if region is not None and project.region is not None and project.region != region:
        return project_in_other_region(project.name, project.region)
    return project


def answered(status: MemberStatus, answer: Answer) -> MemberStatus | None:
    """The status an answer moves a membership to; None when it is there already.

    Accepting takes a pending offer or a rejected one (S3, S6); rejecting takes a pending
    offer or an accepted image the recipient removes from its list (S3, S5)."""
    target = MemberStatus.ACCEPTED if answer is Answer.ACCEPT else MemberStatus.REJECTED
    return None if status is target else target
