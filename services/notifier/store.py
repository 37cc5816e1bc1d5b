"""Notifier persistence: the per-account inbox of notices."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from services.common.db import Connection
from services.notifier.domain import NoticeText


async def insert_notice(
    conn: Connection,
    notice_id: UUID,
    account_id: UUID,
    image_id: UUID,
    text: NoticeText,
    at: datetime,
) -> bool:
    """Put a notice in the inbox; False if this image already has a notice of this kind."""
    inserted = await conn.fetchval(
        """
        INSERT INTO notices (notice_id, account_id, image_id, kind, text_zh, text_en, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (image_id, kind) DO NOTHING
        RETURNING true
        """,
        notice_id,
        account_id,
        image_id,
        text.kind,
        text.zh,
        text.en,
        at,
    )
    return bool(inserted)


async def list_notices(conn: Connection, account_id: UUID, limit: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT * FROM notices WHERE account_id = $1 ORDER BY created_at DESC LIMIT $2",
        account_id,
        limit,
    )
    return [dict(r) for r in rows]


async def mark_read(conn: Connection, account_id: UUID, notice_id: UUID) -> bool:
    updated = await conn.fetchval(
        """
        UPDATE notices SET read_at = coalesce(read_at, now())
        WHERE notice_id = $1 AND account_id = $2
        RETURNING true
        """,
        notice_id,
        account_id,
    )
    return bool(updated)
