"""What every part of the catalog's store shares: its connection, how a row becomes an
image, and the SQL words of the catalog's rules (which images hold a quota slot)."""

from __future__ import annotations

from asyncpg import Record

from services.catalog.domain import HOLDS_QUOTA, ImageRecord, ImageStatus, PublishStatus, Visibility
from services.common.db import Connection
from services.common.values import value_of

# The statuses holding a quota slot, as SQL (``status IN (...)``), from the one rule
# (domain.HOLDS_QUOTA); a literal list, so that the partial index images_held serves it.
HELD = ", ".join(f"'{status.value}'" for status in sorted(HOLDS_QUOTA))

# Columns and conditions on ``images`` from the memberships sharing's facts left.
SHARED_COLUMN = """EXISTS (SELECT 1 FROM memberships m
    WHERE m.image_id = images.image_id AND m.status <> 'revoked') AS shared"""


def accepted_by(param: str) -> str:
    """SQL condition on ``images``: accepted by the account in ``param`` (the shared tab)."""
    return f"""image_id IN (SELECT image_id FROM memberships
        WHERE member_account_id = {param} AND status = 'accepted')"""


def member_of(param: str) -> str:
    """SQL condition on ``images``: offered to the account in ``param`` and not revoked."""
    return f"""image_id IN (SELECT image_id FROM memberships
        WHERE member_account_id = {param} AND status <> 'revoked')"""


def image_of(row: Record) -> ImageRecord:
    # ``shared`` is only in the queries that compute it (lists, detail): else its default.
    return value_of(
        ImageRecord,
        row,
        visibility=Visibility(row["visibility"]),
        status=ImageStatus(row["status"]),
        publish_status=PublishStatus(row["publish_status"]),
    )


class StoreBase:
    """The connection of the unit of work (or of a read) the store's statements run on."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
