"""Notifier wording: what an owner is told, in zh-CN (the console's language) and English."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.events import CaptureFailed, CaptureRefused, ImageReady


@dataclass(frozen=True)
class NoticeText:
    kind: str
    zh: str
    en: str


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
