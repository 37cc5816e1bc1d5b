"""Text for people in the console's language (zh-CN) and in English, and which one a
request asks for (``Accept-Language``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Language = Literal["zh-CN", "en"]
DEFAULT_LANGUAGE: Language = "zh-CN"


@dataclass(frozen=True)
class Text:
    """One message in both languages IMS speaks."""

    zh: str
    en: str

    def render(self, language: Language) -> str:
        return self.en if language == "en" else self.zh


def negotiate(accept_language: str | None) -> Language:
    """The language of a request's ``Accept-Language``: the most preferred of zh and en,
    zh-CN when it names neither (the console's language)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.split("-")[0].lower()))
    for _, _, primary in sorted(ranked):
        if primary == "en":
            return "en"
        if primary == "zh":
            return "zh-CN"
    return DEFAULT_LANGUAGE
