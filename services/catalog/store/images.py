"""The images table: what capture's facts change, what tenants read (lists, detail)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from services.catalog.domain import (
    FailedCapture,
    FinishedCapture,
    ImageRecord,
    ListQuery,
    Tab,
)
from services.catalog.store.base import (
    SHARED_COLUMN,
    StoreBase,
    accepted_by,
    image_of,
    member_of,
)
from services.common.cursors import decode_time_cursor, encode_cursor


class ImagesSql(StoreBase):
    async def record_progress(
        self, image_id: UUID, owner: UUID, percent: int, at: datetime
    ) -> bool:
        """Note a creating image's progress; False if ``owner`` has no such creating image."""
        updated = await self.conn.fetchval(
            """
            UPDATE images SET progress = $3, updated_at = $4
            WHERE image_id = $1 AND owner_account_id = $2 AND status = 'creating'
            RETURNING true
            """,
            image_id,
            owner,
            percent,
            at,
        )
        return bool(updated)

    async def mark_ready(self, ready: FinishedCapture) -> bool:
        """The capture finished; False if the named owner has no such creating image."""
        updated = await self.conn.fetchval(
            """
            UPDATE images SET status = 'normal', progress = 100, name = $3, description = $4,
                os = $5, system_disk_gb = $6, min_memory_mb = $7, disk_format = $8, size_bytes = $9,
                virtual_size_bytes = $10, checksum_sha256 = $11, location = $12,
                source_host_id = $13, source_host_name = $14, updated_at = $15, preflight = $16,
                keeps_source_password = $17
            WHERE image_id = $1 AND owner_account_id = $2 AND status = 'creating'
            RETURNING true
            """,
            ready.image_id,
            ready.account_id,
            ready.name,
            ready.description,
            ready.os,
            ready.system_disk_gb,
            ready.min_memory_mb,
            ready.disk_format,
            ready.size_bytes,
            ready.virtual_size_bytes,
            ready.checksum_sha256,
            ready.location,
            ready.source_host_id,
            ready.source_host_name,
            ready.finished_at,
            ready.preflight,
            ready.keeps_source_password,
        )
        return bool(updated)

    async def mark_failed(self, failed: FailedCapture) -> bool:
        """The capture failed; False if the named owner has no such creating image."""
        updated = await self.conn.fetchval(
            """
            UPDATE images SET status = 'failed', failure_code = $3, failure_reason = $4,
                updated_at = $5, preflight = coalesce($6, preflight)
            WHERE image_id = $1 AND owner_account_id = $2 AND status = 'creating'
            RETURNING true
            """,
            failed.image_id,
            failed.account_id,
            failed.code,
            failed.reason,
            failed.failed_at,
            failed.preflight,
        )
        return bool(updated)

    async def owner_of(self, image_id: UUID) -> UUID | None:
        """The account owning a private image (None for a public or an unknown one)."""
        owner: UUID | None = await self.conn.fetchval(
            "SELECT owner_account_id FROM images WHERE image_id = $1", image_id
        )
        return owner

    async def get_image(self, image_id: UUID) -> ImageRecord | None:
        """Any image, also a deleted one (for the catalog's own rules, never for a tenant)."""
        row = await self.conn.fetchrow("SELECT * FROM images WHERE image_id = $1", image_id)
        return image_of(row) if row else None

    async def get_visible_image(self, image_id: UUID, account_id: UUID) -> ImageRecord | None:
        """The image if ``account_id`` may see it: public, its own, or offered to it; never a
        deleted one. Someone else's private image is not found, exactly like a missing one."""
        row = await self.conn.fetchrow(
            f"""
            SELECT *, {SHARED_COLUMN} FROM images
            WHERE image_id = $1 AND status <> 'deleted'
                AND (visibility = 'public' OR owner_account_id = $2 OR {member_of("$2")})
            """,
            image_id,
            account_id,
        )
        return image_of(row) if row else None

    async def list_images(self, query: ListQuery) -> tuple[list[ImageRecord], str | None]:
        """A page of images and the cursor of the next page (None on the last page)."""
        conditions = ["status <> 'deleted'"]
        args: list[Any] = []

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        if query.tab is Tab.PUBLIC:
            conditions.append("visibility = 'public'")
        elif query.tab is Tab.SHARED:  # S4: only accepted, only normal
            account = arg(query.account_id)
            conditions.append(f"status = 'normal' AND {accepted_by(account)}")
        else:
            conditions.append(
                f"visibility = 'private' AND owner_account_id = {arg(query.account_id)}"
            )
        if query.status is not None:
            conditions.append(f"status = {arg(query.status.value)}")
        if query.os_family is not None:
            conditions.append(f"os->>'family' = {arg(query.os_family)}")
        if query.name_contains:
            conditions.append(f"strpos(lower(name), lower({arg(query.name_contains)})) > 0")
        if query.cursor is not None:
            created_at, image_id = decode_time_cursor(query.cursor)
            conditions.append(f"(created_at, image_id) < ({arg(created_at)}, {arg(image_id)})")
        sql = (
            f"SELECT *, {SHARED_COLUMN} FROM images WHERE {' AND '.join(conditions)} "
            f"ORDER BY created_at DESC, image_id DESC LIMIT {arg(query.limit + 1)}"
        )
        rows = [image_of(r) for r in await self.conn.fetch(sql, *args)]
        if len(rows) <= query.limit:
            return rows, None
        page = rows[: query.limit]
        return page, encode_cursor(page[-1].created_at, page[-1].image_id)
