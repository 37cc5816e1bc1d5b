"""Opaque page cursors for the lists: the last row's sort key and its id.

A cursor is base64url of the JSON array ``[sort key, id]``. One that does not decode is the
caller's mistake: :class:`InvalidCursor`, a refusal answered 400, never a server error.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from uuid import UUID

from services.common.i18n import Text
from services.common.refusals import Refusal

INVALID_CURSOR = Text(
    "分页游标无效，请从第一页重新查询。", "Invalid cursor: start again from the first page."
)


class InvalidCursor(Refusal):
    """A cursor this service did not make."""

    def __init__(self) -> None:
        super().__init__("invalid_cursor", INVALID_CURSOR)


def encode_cursor(key: str | datetime, row_id: UUID) -> str:
    text = key.isoformat() if isinstance(key, datetime) else key
    return base64.urlsafe_b64encode(json.dumps([text, str(row_id)]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, UUID]:
    """The sort key (as text) and the id of a cursor made by :func:`encode_cursor`."""
    try:
        key, row_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(key, str) or not isinstance(row_id, str):
            raise TypeError("not a pair of strings")
        return key, UUID(row_id)
    except (ValueError, TypeError) as exc:  # binascii.Error and JSON errors are ValueErrors
        raise InvalidCursor() from exc


def decode_time_cursor(cursor: str) -> tuple[datetime, UUID]:
    """A cursor whose sort key is a timezone-aware timestamp."""
    key, row_id = decode_cursor(cursor)
    try:
        at = datetime.fromisoformat(key)
    except ValueError as exc:
        raise InvalidCursor() from exc
    if at.tzinfo is None:
        raise InvalidCursor()
    return at, row_id
