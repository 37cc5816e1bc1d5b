"""Capture requests: registered by the API before they travel (C6), refused over quota."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.catalog.domain import Admission, CaptureRequest, ImageRecord
from services.catalog.store.base import HELD, StoreBase, image_of


class RequestsSql(StoreBase):
    async def register_request(self, request: CaptureRequest, at: datetime) -> ImageRecord | None:
        """An image the API registered as creating, its quota slot taken, before its
        CaptureRequested comes back to be accepted; None if the id is taken."""
        row = await self.conn.fetchrow(
            """
            INSERT INTO images (image_id, visibility, owner_account_id, name, description, status,
                                source_host_id, created_at, updated_at)
            VALUES ($1, 'private', $2, $3, $4, 'creating', $5, $6, $6)
            ON CONFLICT (image_id) DO NOTHING
            RETURNING *
            """,
            *_columns(request),
            at,
        )
        return image_of(row) if row else None

    async def insert_refused(
        self, request: CaptureRequest, code: str, reason: str, at: datetime
    ) -> bool:
        """Record a refused request as a failed image (it holds nothing); False if the id is
        taken."""
        inserted = await self.conn.fetchval(
            """
            INSERT INTO images (image_id, visibility, owner_account_id, name, description,
                                status, source_host_id, failure_code, failure_reason,
                                created_at, updated_at)
            VALUES ($1, 'private', $2, $3, $4, 'failed', $5, $6, $7, $8, $8)
            ON CONFLICT (image_id) DO NOTHING
            RETURNING true
            """,
            *_columns(request),
            code,
            reason,
            at,
        )
        return bool(inserted)

    async def admit(self, request: CaptureRequest, at: datetime, limit: int) -> Admission:
        """Accept a request the API registered, or register a new one while the account holds
        fewer than ``limit`` images — in one round trip. Run it under the account's lock
        (``lock_account``): the count then sees every image that any other transaction has
        committed for the account, and nobody can add one until this transaction ends."""
        row = await self.conn.fetchrow(
            f"""
            WITH existing AS (
                SELECT owner_account_id FROM images WHERE image_id = $1
            ), registered AS (
                UPDATE images SET accepted_at = $6
                WHERE image_id = $1 AND owner_account_id = $2 AND status = 'creating'
                    AND accepted_at IS NULL
                RETURNING created_at
            ), held AS (
                SELECT count(*) AS used FROM images
                WHERE owner_account_id = $2 AND status IN ({HELD})
            ), admitted AS (
                INSERT INTO images (image_id, visibility, owner_account_id, name, description,
                                    status, source_host_id, created_at, updated_at, accepted_at)
                SELECT $1, 'private', $2, $3, $4, 'creating', $5, $6, $6, $6
                WHERE NOT EXISTS (SELECT 1 FROM existing) AND (SELECT used FROM held) < $7
                ON CONFLICT (image_id) DO NOTHING
                RETURNING created_at
            )
            SELECT EXISTS (SELECT 1 FROM existing) AS taken,
                   (SELECT owner_account_id FROM existing) AS existing_owner,
                   (SELECT created_at FROM registered) AS registered_at,
                   (SELECT created_at FROM admitted) AS admitted_at,
                   (SELECT used FROM held) AS used
            """,
            *_columns(request),
            at,
            limit,
        )
        assert row is not None
        return Admission(
            row["taken"],
            row["existing_owner"],
            row["registered_at"],
            row["admitted_at"],
            int(row["used"]),
        )


def _columns(request: CaptureRequest) -> tuple[UUID, UUID, str, str, UUID]:
    """$1 to $5 of the statements that write a request's image."""
    return (
        request.image_id,
        request.account_id,
        request.name,
        request.description,
        request.host_id,
    )
