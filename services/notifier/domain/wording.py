"""Notices: what an owner is told, in zh-CN (the console's language) and English, and the
account's inbox they are kept in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from schemas.events import CaptureFailed, CaptureRefused, ImageReady
from services.common.i18n import Text
from services.common.refusals import Refusal


@dataclass(frozen=True)
class NoticeText:
    kind: str
    zh: str
    en: str


@dataclass(frozen=True)
class CaptureNotice:
    """A notice about how one image's capture ended; one per image and kind."""

    notice_id: UUID
    account_id: UUID
    image_id: UUID
    text: NoticeText
    at: datetime


@dataclass(frozen=True)
class InboxNotice:
    """A notice as the account's inbox lists it; ``body`` holds a prompt's images and
    actions (a capture notice has none)."""

    notice_id: UUID
    image_id: UUID | None  # None for the prompt, which lists its images
    text: NoticeText
    created_at: datetime
    updated_at: datetime
    read: bool
    body: dict[str, Any] | None


def capture_notice(
    account_id: UUID, image_id: UUID, text: NoticeText, at: datetime
) -> CaptureNotice:
    """The image's notice of this kind: its id is the same however often the fact comes."""
    notice_id = uuid5(NAMESPACE_URL, f"ims:notice:{image_id}:{text.kind}")
    return CaptureNotice(notice_id, account_id, image_id, text, at)


def notice_not_found(notice_id: UUID) -> Refusal:
    """Missing, or another account's: answered alike."""
    return Refusal(
        "not_found", Text(f"通知 {notice_id} 不存在。", f"Notice {notice_id} does not exist.")
    )


def capture_succeeded(ready: ImageReady) -> NoticeText:
    return NoticeText(
        "capture_succeeded",
        f"私有镜像“{ready.name}”创建成功，状态为“正常”。",
        f'Private image "{ready.name}" was created and is ready to use.',
    )


def capture_failed(failed: CaptureFailed) -> NoticeText:
    return NoticeText(
        "capture_failed",
        f"私有镜像“{failed.name}”创建失败：{failed.reason}",
        f'Private image "{failed.name}" could not be created ({failed.code}).',
    )


def capture_refused(refused: CaptureRefused) -> NoticeText:
    """The catalog refused the request (e.g. over quota): to the owner it failed too."""
    return NoticeText(
        "capture_failed",
        f"私有镜像“{refused.name}”创建失败：{refused.reason}",
        f'Private image "{refused.name}" could not be created: {refused.reason_en or refused.code}',
    )
