"""Catalog rules without I/O: image states, console labels, what a tenant and an admin may
do with an image (modify, delete, publish), who sees what of it, and the private image quota."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from schemas.events import DESCRIPTION_MAX, NAME_MAX
from services.catalog.domain import messages
from services.common.refusals import Refusal


class ImageStatus(StrEnum):
    CREATING = "creating"
    NORMAL = "normal"
    FAILED = "failed"
    DELETED = "deleted"


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class Tab(StrEnum):
    """The console's lists (C2): public, mine, and shared with me (accepted)."""

    PUBLIC = "public"
    PRIVATE = "private"
    SHARED = "shared"


class PublishStatus(StrEnum):
    UNPUBLISHED = "unpublished"
    PUBLISHED = "published"


# The console's words for each API value (seed: the cloud's user guide).
STATUS_LABELS: dict[ImageStatus, str] = {
    ImageStatus.CREATING: "创建中",
    ImageStatus.NORMAL: "正常",
    ImageStatus.FAILED: "失败",
    ImageStatus.DELETED: "已删除",
}
PUBLISH_LABELS: dict[PublishStatus, str] = {
    PublishStatus.UNPUBLISHED: "未发布",
    PublishStatus.PUBLISHED: "已发布",
}
IMAGE_TYPE_LABEL = "ECS 镜像"


def bytes_to_console_gb(size_bytes: int) -> str:
    """Image size as the console shows it: GB with three decimals, e.g. '1.155 GB'."""
    return f"{size_bytes / 1024**3:.3f} GB"


# --- rules of what a tenant or an admin may do with an image (C4-C7) ---------------------

# The region's default private image quota (seed FAQ 4.3: "在当前阶段，您在一个区域内默认最多
# 可以创建 10 个私有镜像"); an admin sets another per account (C6).
DEFAULT_PRIVATE_IMAGE_QUOTA = 10
# Images whose quota slot is taken: failed and deleted ones hold nothing (C6). The store's
# counts are written from it (``store.base.HELD``), as is the index images_held (0003).
HOLDS_QUOTA = frozenset({ImageStatus.CREATING, ImageStatus.NORMAL})
BATCH_DELETE_MAX = 100

# Names as the console accepts them: Chinese characters, letters, digits, spaces, "_", "-",
# "." (the seed's own names: "TEST-GG", "ftp server", "ecs-76c61"), not starting or ending
# with a space, 1 to NAME_MAX characters.
_NAME_CHARS = r"0-9A-Za-z_.\-\u4e00-\u9fff"
_NAME = re.compile(rf"[{_NAME_CHARS}]([{_NAME_CHARS} ]*[{_NAME_CHARS}])?")
# The same rules for the OpenAPI (JSON Schema patterns), so a client reads what is refused.
NAME_PATTERN = rf"^{_NAME.pattern}$"
DESCRIPTION_PATTERN = r"^[^<>\x00-\x09\x0b-\x1f\x7f]*$"
# Descriptions: anything printable up to DESCRIPTION_MAX, line breaks allowed; no "<" or
# ">" (the console renders it) and no other control characters.
_DESCRIPTION_FORBIDDEN = re.compile(r"[<>\x00-\x09\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Quota:
    """An account's private image quota: how many it may hold, how many it holds."""

    limit: int
    used: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def admit_one(self) -> Quota:
        """The quota after one more image; Refusal when none is left."""
        if self.remaining < 1:
            raise Refusal(
                "quota_exceeded", messages.quota_exceeded(self.limit, self.used), quota=self.view()
            )
        return Quota(self.limit, self.used + 1)

    def view(self) -> dict[str, int]:
        return {"limit": self.limit, "used": self.used, "remaining": self.remaining}


def quota_of(account_limit: int | None, used: int) -> Quota:
    return Quota(DEFAULT_PRIVATE_IMAGE_QUOTA if account_limit is None else account_limit, used)


def check_name(name: str) -> None:
    if len(name) > NAME_MAX or not _NAME.fullmatch(name):
        raise Refusal("invalid_name", messages.INVALID_NAME, max_length=NAME_MAX)


def check_description(description: str) -> None:
    if len(description) > DESCRIPTION_MAX or _DESCRIPTION_FORBIDDEN.search(description):
        raise Refusal(
            "invalid_description", messages.INVALID_DESCRIPTION, max_length=DESCRIPTION_MAX
        )


def check_owned(visibility: Visibility) -> None:
    """Tenants change only their own private images; a public image is the platform's."""
    if visibility is Visibility.PUBLIC:
        raise Refusal("image_not_owned", messages.PUBLIC_IMAGE_NOT_YOURS)


def check_modifiable(status: ImageStatus) -> None:
    """C4: only a `normal` image; a `creating` one still belongs to its capture."""
    if status is not ImageStatus.NORMAL:
        message = messages.modify_needs_normal(STATUS_LABELS[status])
        raise Refusal("invalid_image_status", message, image_status=status.value)


def check_deletable(status: ImageStatus, publish_status: PublishStatus) -> None:
    """C5: `normal` and unpublished, or `failed` (which holds nothing)."""
    if status not in (ImageStatus.NORMAL, ImageStatus.FAILED):
        message = messages.delete_needs_normal(STATUS_LABELS[status])
        raise Refusal("invalid_image_status", message, image_status=status.value)
    if publish_status is PublishStatus.PUBLISHED:
        raise Refusal("image_published", messages.DELETE_NEEDS_UNPUBLISHED)


def check_publishable(visibility: Visibility, status: ImageStatus) -> None:
    """C7: an admin publishes or unpublishes a private `normal` image; a public image is
    always published (it is retired instead)."""
    if visibility is Visibility.PUBLIC:
        raise Refusal("public_image", messages.PUBLIC_ALWAYS_PUBLISHED)
    if status is not ImageStatus.NORMAL:
        message = messages.publish_needs_normal(STATUS_LABELS[status])
        raise Refusal("invalid_image_status", message, image_status=status.value)


def not_found(image_id: UUID) -> Refusal:
    return Refusal("image_not_found", messages.image_not_found(image_id))


# --- who sees what (C3, C9, K4) ------------------------------------------------------------


def may_see_preflight(owner_account_id: UUID | None, account_id: UUID) -> bool:
    """K4: what is in the owner's guest is the owner's business, not a share tenant's."""
    return owner_account_id == account_id


def shows_share_members(owner_account_id: UUID | None, account_id: UUID) -> bool:
    """C3: everyone who sees a private image sees how many share it; only its owner, who."""
    return owner_account_id == account_id


def check_may_read_usage(caller: UUID, account_id: UUID, *, is_admin: bool) -> None:
    """C9: an account's usage is its own; an admin reads any account's."""
    if account_id != caller and not is_admin:
        raise Refusal("forbidden", messages.OTHER_ACCOUNTS_USAGE)


# The console's words for a share tenant's answer (C3).
MEMBER_LABELS = {"pending": "待接受", "accepted": "已接受", "rejected": "已拒绝"}
