"""The prompt 是否接受镜像 without I/O (N1-N3): one per recipient, listing every pending offer
(name, owner) with accept-all / reject-all / details, in zh-CN and English.

When a version is due: the first change of a prompt at once, any change after it no sooner
than ``PROMPT_MIN_INTERVAL`` after the last version (:func:`due_at`), so a burst of offers
or answers goes out as one version (a push gateway pushes once, not 128 times). Each
version lists what is pending when it goes out (:func:`publication`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from schemas.events import PROMPT_IMAGES_MAX, PromptAction, PromptImage, SharePromptUpdated
from services.common.i18n import Language, Text
from services.notifier.domain.wording import NoticeText

KIND = "share_prompt"  # its kind among the account's notices
# A recipient's prompt goes out at most this often (see the module's docstring).
PROMPT_MIN_INTERVAL = timedelta(seconds=1)
TITLE = Text("是否接受镜像", "Accept shared images?")
# Names quoted in the prompt's one-line text; the whole list is in ``images``.
NAMES_IN_TEXT = 3


def _action(action: Any, zh: str, en: str, method: Any, path: str, **body: bool) -> PromptAction:
    return PromptAction(
        action=action, label_zh=zh, label_en=en, method=method, path=path, body=body or None
    )


# The buttons, as calls of the sharing API the console makes (seed 3.3.2: 全部拒绝, 查看详情).
ACTIONS = (
    _action("accept_all", "全部接受", "Accept all", "POST", "/v1/shared-images/accept", all=True),
    _action("reject_all", "全部拒绝", "Reject all", "POST", "/v1/shared-images/reject", all=True),
    _action("details", "查看详情", "View details", "GET", "/v1/shared-images?status=pending"),
)


def prompt_id(account_id: UUID) -> UUID:
    """The account's one prompt, also its notice id: the same in every version."""
    return uuid5(NAMESPACE_URL, f"ims:share-prompt:{account_id}")


@dataclass(frozen=True)
class Offer:
    """One pending offer of an image to the recipient, as its prompt lists it."""

    membership_id: UUID
    image_id: UUID
    name: str
    owner_account_id: UUID
    owner_account_name: str
    offered_at: datetime


@dataclass(frozen=True)
class Pending:
    """The recipient's pending offers: the newest ``PROMPT_IMAGES_MAX``, and how many."""

    images: list[Offer]
    count: int


@dataclass(frozen=True)
class Cause:
    """The fact that changed a prompt, and how soon its next version may go out."""

    correlation_id: UUID | None
    causation_id: UUID | None
    min_interval: timedelta = PROMPT_MIN_INTERVAL


@dataclass(frozen=True)
class PromptChange:
    """A prompt whose version is due: whether offers arrived (it is unread again), and the
    last fact that changed it (the version is traced to it)."""

    account_id: UUID
    grew: bool
    correlation_id: UUID | None
    causation_id: UUID | None


@dataclass(frozen=True)
class PromptNotice:
    """The account's one prompt notice, as of its newest version; ``unread`` when new
    offers arrived (the recipient has something new to read)."""

    notice_id: UUID
    account_id: UUID
    text: NoticeText
    body: dict[str, Any]
    unread: bool


@dataclass(frozen=True)
class Publication:
    """A prompt's new version, and its notice in the inbox (None: resolved, it leaves)."""

    version: SharePromptUpdated
    notice: PromptNotice | None


def due_at(
    now: datetime, waiting_since: datetime | None, published_at: datetime | None, cause: Cause
) -> datetime:
    """When a changed prompt's next version may go out: one already waiting keeps its time
    however many changes come; else at once, or ``min_interval`` after the last version."""
    if waiting_since is not None:
        return waiting_since
    if published_at is None:
        return now
    return max(now, published_at + cause.min_interval)


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
        images=[PromptImage(**asdict(offer)) for offer in pending.images[:PROMPT_IMAGES_MAX]],
        title_zh=TITLE.zh,
        title_en=TITLE.en,
        text_zh=words.zh,
        text_en=words.en,
        actions=list(ACTIONS) if pending.count else [],
        updated_at=at,
    )


def publication(
    change: PromptChange, pending: Pending, shown: bool, at: datetime
) -> Publication | None:
    """The version a due prompt publishes, and its notice; None when its offers came and
    went before it was ever shown (nothing to resolve)."""
    if not pending.count and not shown:
        return None
    published = version(change.account_id, pending, at)
    if not pending.count:
        return Publication(published, None)
    notice = PromptNotice(
        published.prompt_id,
        change.account_id,
        NoticeText(KIND, published.text_zh, published.text_en),
        published.model_dump(mode="json", include={"pending_count", "images", "actions"}),
        unread=change.grew,
    )
    return Publication(published, notice)


def label(action: PromptAction, language: Language) -> str:
    return action.label_en if language == "en" else action.label_zh
