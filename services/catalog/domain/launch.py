"""The launch check (C8) without I/O: may a tenant create a host (通过镜像创建云主机) from
an image with this system disk and memory?

Yes only if the image is public, the tenant's own, or shared with it **and accepted**
(pending and rejected shares are not usable), in status ``normal``, and the system disk
equals the image's (FAQ 4.1; CPU, memory, bandwidth and data disks may differ, FAQ 4.4).
Windows with less than 2048 MB is allowed, with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from services.catalog.domain.records import ImageRecord
from services.catalog.domain.rules import STATUS_LABELS, ImageStatus, Visibility
from services.common.i18n import Text

WINDOWS_MEMORY_MB = 2048


@dataclass(frozen=True)
class LaunchImage:
    """What the check needs of an image."""

    image_id: UUID
    visibility: Visibility
    owner_account_id: UUID | None
    status: ImageStatus
    os_family: str | None
    system_disk_gb: int | None


def image_of(image: ImageRecord) -> LaunchImage:
    return LaunchImage(
        image_id=image.image_id,
        visibility=image.visibility,
        owner_account_id=image.owner_account_id,
        status=ImageStatus(image.status),
        os_family=(image.os or {}).get("family"),
        system_disk_gb=image.system_disk_gb,
    )


@dataclass(frozen=True)
class Share:
    """The tenant's membership in the image, as sharing's facts told the catalog."""

    status: str  # pending, accepted, rejected, revoked
    revoked_cause: str | None = None


@dataclass(frozen=True)
class Finding:
    code: str
    text: Text


@dataclass(frozen=True)
class Decision:
    reasons: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.reasons


def check(
    tenant: UUID,
    image_id: UUID,
    image: LaunchImage | None,
    share: Share | None,
    system_disk_gb: int,
    memory_mb: int,
) -> Decision:
    refusal = _access(tenant, image_id, image, share)
    if refusal is not None or image is None:
        return Decision(reasons=[refusal or _not_found(image_id)])
    reasons, warnings = [], []
    if image.status is not ImageStatus.NORMAL:
        reasons.append(_not_normal(image.status))
    if image.system_disk_gb is not None and system_disk_gb != image.system_disk_gb:
        reasons.append(_disk_mismatch(image.system_disk_gb, system_disk_gb))
    if image.os_family == "windows" and memory_mb < WINDOWS_MEMORY_MB:
        warnings.append(_WINDOWS_LOW_MEMORY)
    return Decision(reasons, warnings)


def _access(
    tenant: UUID, image_id: UUID, image: LaunchImage | None, share: Share | None
) -> Finding | None:
    """Whether the tenant may use the image at all; None when it may."""
    present = image is not None and image.status is not ImageStatus.DELETED
    mine = image is not None and image.owner_account_id == tenant
    public = image is not None and image.visibility is Visibility.PUBLIC
    if present and (public or mine):
        return None
    if share is None:  # someone else's private image: as if it did not exist
        return _not_found(image_id)
    if share.status == "accepted":
        return None if present else _IMAGE_DELETED
    if share.status == "pending":
        return _NOT_ACCEPTED
    if share.status == "rejected":
        return _REJECTED
    return _REVOKED_BY_CAUSE.get(share.revoked_cause or "", _SHARE_REVOKED)


def _not_found(image_id: UUID) -> Finding:
    return Finding(
        "image_not_found", Text(f"镜像 {image_id} 不存在。", f"Image {image_id} does not exist.")
    )


def _not_normal(status: ImageStatus) -> Finding:
    return Finding(
        "image_not_normal",
        Text(
            f"镜像的状态为“{STATUS_LABELS[status]}”，只能使用状态为“正常”的镜像创建云主机。",
            f"The image is {status}; only images in status normal can be used.",
        ),
    )


def _disk_mismatch(image_gb: int, asked_gb: int) -> Finding:
    return Finding(
        "system_disk_mismatch",
        Text(
            f"系统盘大小必须和镜像的系统盘大小相同（{image_gb} GB），不能为 {asked_gb} GB。",
            f"The system disk must be the image's size ({image_gb} GB), not {asked_gb} GB.",
        ),
    )


_WINDOWS_LOW_MEMORY = Finding(
    "windows_low_memory",
    Text(
        f"Windows 云主机的内存小于 {WINDOWS_MEMORY_MB} MB，可能运行缓慢。",
        f"A Windows host with less than {WINDOWS_MEMORY_MB} MB of memory may run slowly.",
    ),
)
_NOT_ACCEPTED = Finding(
    "share_not_accepted",
    Text(
        "该共享镜像尚未接受，只有接受后的共享镜像才可以使用。",
        "This shared image is not accepted yet; only accepted shared images can be used.",
    ),
)
_REJECTED = Finding(
    "share_rejected",
    Text(
        "您已拒绝该共享镜像；可在“已拒绝镜像”中重新接受后使用。",
        "You rejected this shared image; accept it again from the rejected list to use it.",
    ),
)
_SHARE_REVOKED = Finding(
    "share_revoked",
    Text("镜像的所有者已取消共享该镜像。", "The image's owner no longer shares it with you."),
)
_IMAGE_DELETED = Finding(
    "image_deleted",
    Text("该共享镜像已被所有者删除。", "The image's owner deleted this shared image."),
)
_REVOKED_BY_CAUSE = {
    "image_deleted": _IMAGE_DELETED,
    "image_failed": Finding(
        "image_not_normal",
        Text("该共享镜像已不可用。", "This shared image is no longer usable."),
    ),
    "account_closed": Finding(
        "share_revoked",
        Text("共享该镜像的帐户已注销。", "The account that shared this image was closed."),
    ),
}
