"""Why sharing refuses a request, or one pair of a batch: a stable code and the words a
person reads. Each call makes a new :class:`~services.common.refusals.Refusal`, so one can
be raised (a whole request) or kept in a result (one pair)."""

from __future__ import annotations

from uuid import UUID

from services.common.i18n import Text
from services.common.refusals import Refusal
from services.sharing.domain.model import MEMBER_LIMIT, ImageStatus


def image_not_found(image_id: UUID) -> Refusal:
    # Missing, deleted, or another account's private image: all answered alike (404).
    return Refusal(
        "image_not_found",
        Text(f"镜像 {image_id} 不存在。", f"Image {image_id} does not exist."),
    )


def public_image() -> Refusal:
    return Refusal(
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


def sharing_with_self() -> Refusal:
    return Refusal(
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


def member_limit_reached() -> Refusal:
    return Refusal(
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
