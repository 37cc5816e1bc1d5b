"""Public images (C1): added and retired by an admin, announced once each."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.catalog.domain import ImageRecord, NewPublicImage
from services.catalog.store.base import StoreBase, image_of


class PublicSql(StoreBase):
    async def insert_public_image(self, image: NewPublicImage, at: datetime) -> ImageRecord | None:
        """Add a public image, announced at ``at``; None if the id is taken."""
        row = await self.conn.fetchrow(
            """
            INSERT INTO images (image_id, visibility, name, description, status, progress, os,
                system_disk_gb, min_memory_mb, disk_format, size_bytes, checksum_sha256,
                publish_status, created_at, updated_at, announced_at)
            VALUES ($1, 'public', $2, $3, 'normal', 100, $4, $5, $6, $7, $8, $9, 'published',
                $10, $10, $10)
            ON CONFLICT (image_id) DO NOTHING
            RETURNING *
            """,
            image.image_id,
            image.name,
            image.description,
            image.os,
            image.system_disk_gb,
            image.min_memory_mb,
            image.disk_format,
            image.size_bytes,
            image.checksum_sha256,
            at,
        )
        return image_of(row) if row else None

    async def lock_public_image(self, image_id: UUID) -> ImageRecord | None:
        row = await self.conn.fetchrow(
            """
            SELECT * FROM images
            WHERE image_id = $1 AND visibility = 'public' AND status <> 'deleted'
            FOR UPDATE
            """,
            image_id,
        )
        return image_of(row) if row else None

    async def claim_unannounced_public_images(self, limit: int) -> list[ImageRecord]:
        """Public images not announced yet (e.g. seeded by a migration), locked so that one
        catalog process announces each (the others skip them)."""
        rows = await self.conn.fetch(
            """
            SELECT * FROM images
            WHERE visibility = 'public' AND announced_at IS NULL AND status <> 'deleted'
            ORDER BY created_at
            LIMIT $1
            FOR UPDATE SKIP LOCKED
            """,
            limit,
        )
        return [image_of(r) for r in rows]

    async def mark_announced(self, image_id: UUID, at: datetime) -> None:
        await self.conn.execute(
            "UPDATE images SET announced_at = $2 WHERE image_id = $1", image_id, at
        )
