"""What the catalog tells people, in the console's words (zh-CN, from the cloud's user
guide where it has them) and in English."""

from __future__ import annotations

from uuid import UUID

from services.common.i18n import Text


def quota_left(remaining: int) -> Text:
    """The private tab's line (seed 3.2: "您还可以创建0个私有镜像。")."""
    return Text(
        f"您还可以创建{remaining}个私有镜像。",
        f"You can create {remaining} more private image{'' if remaining == 1 else 's'}.",
    )


def quota_exceeded(limit: int, used: int) -> Text:
    # Seed FAQ 4.3: the default of 10 per region, and the way to more (a ticket).
    return Text(
        f"私有镜像配额已用完：您在当前区域最多可以创建{limit}个私有镜像（“创建中”和“正常”的"
        f"镜像都计入配额），已有{used}个，您还可以创建0个私有镜像。如果您需要创建更多的私有镜像，"
        "可以通过提交工单的方式，申请扩大配额上限。",
        f"Private image quota used up: this account may hold {limit} private images in this "
        f"region (creating and normal ones count) and holds {used}. To create more, submit a "
        "ticket to raise the quota.",
    )


def image_not_found(image_id: UUID) -> Text:
    return Text(f"镜像 {image_id} 不存在。", f"Image {image_id} does not exist.")


PUBLIC_IMAGE_NOT_YOURS = Text(
    "公共镜像由平台提供，不能修改或删除。",
    "Public images belong to the platform: they cannot be modified or deleted.",
)


def modify_needs_normal(status_label: str) -> Text:
    # Seed 3.2.1: "只有私有镜像中状态是“正常”的镜像才可以修改镜像的名称和描述。"
    return Text(
        f"只有私有镜像中状态是“正常”的镜像才可以修改镜像的名称和描述，该镜像的状态是“{status_label}”。",
        f"Only a private image in status normal can have its name and description changed; "
        f"this one is {status_label}.",
    )


def delete_needs_normal(status_label: str) -> Text:
    # Seed 3.2.2, plus failed images, which hold nothing.
    return Text(
        f"只有私有镜像中状态是“正常”或“失败”的镜像才允许删除，该镜像的状态是“{status_label}”。",
        f"Only a private image in status normal or failed can be deleted; this one is "
        f"{status_label}.",
    )


DELETE_NEEDS_UNPUBLISHED = Text(
    "只有发布状态是“未发布”的镜像才允许删除，该镜像已发布。",
    "Only an unpublished image can be deleted; this one is published.",
)


def publish_needs_normal(status_label: str) -> Text:
    return Text(
        f"只有状态是“正常”的私有镜像才可以发布或取消发布，该镜像的状态是“{status_label}”。",
        f"Only a private image in status normal can be published or unpublished; this one "
        f"is {status_label}.",
    )


PUBLIC_ALWAYS_PUBLISHED = Text(
    "公共镜像始终是“已发布”状态；如需下线，请退役该公共镜像。",
    "A public image is always published; retire it instead.",
)
INVALID_NAME = Text(
    "镜像名称长度为1到128个字符，只能包含中文、英文字母、数字、空格、下划线（_）、中划线（-）"
    "和点（.），且不能以空格开头或结尾。",
    "An image name has 1 to 128 characters: Chinese characters, letters, digits, spaces, "
    "underscores (_), hyphens (-) and dots (.), and does not start or end with a space.",
)
INVALID_DESCRIPTION = Text(
    "镜像描述最多1024个字符，不能包含“<”、“>”和换行以外的控制字符。",
    "An image description has at most 1024 characters, without < or > and without control "
    "characters other than line breaks.",
)
NOTHING_TO_UPDATE = Text(
    "请提供要修改的名称或描述。", "Give the new name, the new description, or both."
)
IDEMPOTENCY_KEY_REUSED = Text(
    "该幂等键（Idempotency-Key）已用于另一个创建私有镜像的请求。",
    "This Idempotency-Key was already used for another image creation request.",
)


def image_id_taken(image_id: UUID) -> Text:
    return Text(f"镜像ID {image_id} 已被占用。", f"Image id {image_id} is already taken.")


INVALID_CURSOR = Text(
    "分页游标无效，请从第一页重新查询。", "Invalid cursor: start again from the first page."
)
OTHER_ACCOUNTS_USAGE = Text(
    "只有管理员才可以查询其他帐户的存储用量。",
    "Only an admin can read another account's storage usage.",
)

# K5, seed FAQ 4.7: what the console says about a Windows private image's password.
KEEPS_SOURCE_PASSWORD = Text(
    "当前暂不支持在控制中心修改使用 Windows 私有镜像创建的云主机密码，请您使用原来制作镜像的"
    "源云主机的密码登录云主机后再修改密码。",
    "The console cannot yet change the password of a host created from a Windows private "
    "image: log in with the password of the host the image was made from, then change it.",
)
PREFLIGHT_LABELS = {"passed": "通过", "findings": "发现问题", "not_inspected": "未检查"}
