"""The prompt 是否接受镜像 without I/O (N1-N3): one per recipient, listing every pending offer
(name, owner) with accept-all / reject-all / details, in zh-CN and English."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from schemas.events import PROMPT_IMAGES_MAX, PromptAction, PromptImage, SharePromptUpdated
from services.common.i18n import Language, Text

KIND = "share_prompt"  # its kind among the account's notices
# A recipient's prompt goes out at most this often: the first change at once, a burst of
# offers or answers after it as one version (a push gateway pushes once, not 128 times).
PROMPT_MIN_INTERVAL = timedelta(seconds=1)
TITLE = Text("是否接受镜像", "Accept shared images?")
# Names quoted in the prompt's one-line text; the whole list is in ``images``.
NAMES_IN_TEXT = 3

# The buttons, as calls of the sharing API the console makes (seed 3.3.2: 全部拒绝, 查看详情).
ACTIONS = (
    PromptAction(
        action="accept_all",
        label_zh="全部接受",
        label_en="Accept all",
        method="POST",
        path="/v1/shared-images/accept",
        body={"all": True},
    ),
    PromptAction(
        action="reject_all",
        label_zh="全部拒绝",
        label_en="Reject all",
        method="POST",
        path="/v1/shared-images/reject",
        body={"all": True},
    ),
    PromptAction(
        action="details",
        label_zh="查看详情",
        label_en="View details",
        method="GET",
        path="/v1/shared-images?status=pending",
    ),
)


def prompt_id(account_id: UUID) -> UUID:
    """The account's one prompt, also its notice id: the same in every version."""
    return uuid5(NAMESPACE_URL, f"ims:share-prompt:{account_id}")


@dataclass(frozen=True)
class Pending:
    """The recipient's pending offers: the newest ``PROMPT_IMAGES_MAX``, and how many."""

    images: list[PromptImage]
    count: int


def text(pending: Pending) -> Text:
    """One line, e.g. alice向您共享了5个镜像：“web”、“db”、“cache”等，是否接受镜像？"""
    if not pending.count:
        return Text("没有待接受的共享镜像。", "No shared images are waiting for your answer.")
    owners = list(dict.fromkeys(image.owner_account_name for image in pending.images))
    names = [image.name for image in pending.images[:NAMES_IN_TEXT]]
    more_owners, more_images = len(owners) > NAMES_IN_TEXT, pending.count - len(names)
    who_zh = "、".join(owners[:NAMES_IN_TEXT]) + ("等" if more_owners else "")
    who_en = ", ".join(owners[:NAMES_IN_TEXT]) + (" and others" if more_owners else "")
    what_zh = "、".join(f"“{name}”" for name in names) + ("等" if more_images else "")
    what_en = ", ".join(f'"{name}"' for name in names) + (
        f" and {more_images} more" if more_images else ""
    )
    count = pending.count
    return Text(
        f"{who_zh}向您共享了{count}个镜像：{what_zh}，是否接受镜像？",
        f"{who_en} shared {count} image{'s' if count > 1 else ''} with you: {what_en}. "
        f"Accept {'them' if count > 1 else 'it'}?",
    )


def version(account_id: UUID, pending: Pending, at: datetime) -> SharePromptUpdated:
    """The prompt as published: open while anything is pending, else resolved."""
    words = text(pending)
    return SharePromptUpdated(
        prompt_id=prompt_id(account_id),
        account_id=account_id,
        status="open" if pending.count else "resolved",
        pending_count=pending.count,
        images=pending.images[:PROMPT_IMAGES_MAX],
        title_zh=TITLE.zh,
        title_en=TITLE.en,
        text_zh=words.zh,
        text_en=words.en,
        actions=list(ACTIONS) if pending.count else [],
        updated_at=at,
    )


def label(action: PromptAction, language: Language) -> str:
    return action.label_en if language == "en" else action.label_zh
