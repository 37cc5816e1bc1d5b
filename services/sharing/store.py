"""Sharing persistence: what sharing keeps of other services' facts (accounts, images)."""

from __future__ import annotations

from datetime import datetime

from schemas.events import AccountChanged, ImageReady
from services.common.db import Connection


async def upsert_account(conn: Connection, account: AccountChanged, at: datetime) -> None:
    await conn.execute(
        """
        INSERT INTO accounts (account_id, name, kind, projects, status, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (account_id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind,
            projects = EXCLUDED.projects, status = EXCLUDED.status,
            updated_at = EXCLUDED.updated_at
        """,
        account.account_id,
        account.name,
        account.kind,
        [p.model_dump(mode="json") for p in account.projects],
        account.status,
        at,
    )


async def upsert_ready_image(conn: Connection, ready: ImageReady, at: datetime) -> None:
    await conn.execute(
        """
        INSERT INTO images (image_id, owner_account_id, name, status, updated_at)
        VALUES ($1, $2, $3, 'normal', $4)
        ON CONFLICT (image_id) DO UPDATE SET name = EXCLUDED.name, status = EXCLUDED.status,
            updated_at = EXCLUDED.updated_at
        """,
        ready.image_id,
        ready.account_id,
        ready.name,
        at,
    )
