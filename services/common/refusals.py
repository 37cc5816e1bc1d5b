"""The one way IMS says no: a :class:`Refusal` names a rule by a stable ``code``, says why
in both languages and carries the facts behind it (e.g. the quota that was exceeded).

A service's rules raise (or return, for one pair of a batch) a Refusal; the HTTP side turns
it into a problem document (:mod:`services.common.problems`), the consumer into a dead
letter (:class:`services.common.failures.Rejected` is the refusal of an event).
"""

from __future__ import annotations

from collections.abc import Mapping

from services.common.i18n import Text


class Refusal(Exception):
    """A request, an event or one pair of a batch that a rule refuses."""

    def __init__(self, code: str, message: Text, **facts: object) -> None:
        super().__init__(message.en)
        self.code = code
        self.message = message
        self.facts: Mapping[str, object] = facts

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Refusal):
            return NotImplemented
        return (self.code, self.message, dict(self.facts)) == (
            other.code,
            other.message,
            dict(other.facts),
        )

    def __hash__(self) -> int:
        return hash((self.code, self.message))

    def __repr__(self) -> str:
        return f"Refusal({self.code!r}, {self.message.en!r})"
