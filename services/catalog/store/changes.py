"""Changes tenants and admins make to an image: modify (C4), delete (C5), publish (C7)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.catalog.domain import ImageRecord, PublishStatus
from services.catalog.store.base import StoreBase, image_of


class ChangesSql(StoreBase):
    async def lock_visible_image(self, image_id: UUID, account_id: UUID) -> ImageRecord | None:
        """The image, locked, if ``account_id`` may see it (public, or its own; not deleted)."""
        row = await self.conn.fetchrow(
            """
            SELECT * FROM images
            WHERE image_id = $1 AND status <> 'deleted'
                AND (visibility = 'public' OR owner_account_id = $2)
            FOR UPDATE
            """,
            image_id,
            account_id,
        )
        return image_of(row) if row else None

    async def lock_image(self, image_id: UUID) -> ImageRecord | None:
        """Any image that is not deleted, locked (for an admin)."""
        row = await self.conn.fetchrow(
            "SELECT * FROM images WHERE image_id = $1 AND status <> 'deleted' FOR UPDATE", image_id
        )
        return image_of(row) if row else None

    async def update_text(
        self, image_id: UUID, name: str, description: str, at: datetime
    ) -> ImageRecord:
        row = await self.conn.fetchrow(
            """
            UPDATE images SET name = $2, description = $3, updated_at = $4
            WHERE image_id = $1 RETURNING *
            """,
            image_id,
            name,
            description,
            at,
        )
        assert row is not None, "locked before"
        return image_of(row)

    async def set_publish_status(
        self, image_id: UUID, status: PublishStatus, at: datetime
    ) -> ImageRecord:
        row = await self.conn.fetchrow(
            """
            UPDATE images SET publish_status = $2, updated_at = $3
            WHERE image_id = $1 RETURNING *
            """,
            image_id,
            status.value,
            at,
        )
        assert row is not None, "locked before"
        return image_of(row)

    async def mark_deleted(self, image_id: UUID, at: datetime) -> None:
        """The image leaves every list and detail (C5), or a public image is retired (C1)."""
        await self.conn.execute(
            """
            UPDATE images SET status = 'deleted', deleted_at = $2, updated_at = $2
            WHERE image_id = $1
            """,
            image_id,
            at,
        )
