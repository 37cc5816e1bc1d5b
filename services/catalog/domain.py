"""Catalog rules without I/O: image states, console labels, what a tenant may see."""

from __future__ import annotations

from enum import StrEnum


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
