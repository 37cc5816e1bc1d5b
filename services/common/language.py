"""The language a person reads an answer in: zh-CN (the console's) unless English is asked for.

APIs take ``Accept-Language`` (RFC 9110); ``en`` or ``en-*`` ranked above Chinese gives
English, anything else the console's zh-CN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request

Language = Literal["zh-CN", "en"]
DEFAULT_LANGUAGE: Language = "zh-CN"


@dataclass(frozen=True)
class Text:
    """A message in both languages IMS speaks."""

    zh: str
    en: str

    def in_(self, language: Language) -> str:
        return self.en if language == "en" else self.zh


def negotiate(accept_language: str | None) -> Language:
    """The best of zh-CN and en for an ``Accept-Language`` header (zh-CN when unsure)."""
    best: tuple[float, Language] = (0.0, DEFAULT_LANGUAGE)
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip().lower()
        quality = _quality(params)
        # Earlier ranges win ties, as a person lists what they prefer first.
        score = quality - position * 1e-6
        if tag in ("en",) or tag.startswith("en-"):
            language: Language = "en"
        elif tag == "zh" or tag.startswith("zh-") or tag == "*":
            language = "zh-CN"
        else:
            continue
        if score > best[0]:
            best = (score, language)
    return best[1]


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


async def request_language(request: Request) -> Language:
    """FastAPI dependency: the language of the request's ``Accept-Language`` (a coroutine,
    so FastAPI does not hand it to a worker thread)."""
    return negotiate(request.headers.get("accept-language"))


# For route signatures: ``language: RequestLanguage``.
RequestLanguage = Annotated[Language, Depends(request_language)]
