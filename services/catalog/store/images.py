"""The images table: what capture's facts change, what tenants read (lists, detail)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from uuid import UUID

from asyncpg import Record

from schemas.events import CaptureFailed, ImageReady
from services.catalog import memberships
from services.catalog.domain import ImageStatus, PublishStatus, Tab, Visibility
from services.common.db import Connection


@dataclass(frozen=True)
class ImageRecord:
    image_id: UUID
    visibility: Visibility
    owner_account_id: UUID | None
    name: str
    description: str
    status: ImageStatus
    progress: int
    os: dict[str, Any] | None
    system_disk_gb: int | None
    min_memory_mb: int | None
    disk_format: str | None
    size_bytes: int | None
    virtual_size_bytes: int | None
    checksum_sha256: str | None
    source_host_id: UUID | None
    source_host_name: str | None
    publish_status: PublishStatus
    failure_code: str | None
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime
    # None while an image the API registered waits for its own CaptureRequested.
    accepted_at: datetime | None = None
    shared: bool = False  # has share tenants (the lists' 共享 是/否)
    preflight: dict[str, Any] | None = None  # K4, as capture stated it
    keeps_source_password: bool = False  # K5

    @classmethod
    def from_row(cls, row: Record) -> ImageRecord:
        # ``shared`` is only in the queries that compute it (lists, detail).
        values = {name: row[name] for name in _IMAGE_FIELDS if name in row}
        values["visibility"] = Visibility(values["visibility"])
        values["status"] = ImageStatus(values["status"])
        values["publish_status"] = PublishStatus(values["publish_status"])
        return cls(**values)


_IMAGE_FIELDS = tuple(f.name for f in fields(ImageRecord))


async def record_progress(
    conn: Connection, image_id: UUID, owner: UUID, percent: int, at: datetime
) -> bool:
    """Note a creating image's progress; False if ``owner`` has no such creating image."""
    updated = await conn.fetchval(
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


async def mark_ready(conn: Connection, ready: ImageReady) -> bool:
    """The capture finished; False if the named owner has no such creating image."""
    updated = await conn.fetchval(
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
        ready.os.model_dump(mode="json"),
        ready.system_disk_gb,
        ready.min_memory_mb,
        ready.disk_format,
        ready.size_bytes,
        ready.virtual_size_bytes,
        ready.checksum_sha256,
        ready.location,
        ready.source.host_id,
        ready.source.host_name,
        ready.finished_at,
        ready.preflight.model_dump(mode="json") if ready.preflight else None,
        ready.keeps_source_password,
    )
    return bool(updated)


async def mark_failed(conn: Connection, failed: CaptureFailed) -> bool:
    """The capture failed; False if the named owner has no such creating image."""
    updated = await conn.fetchval(
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
        failed.preflight.model_dump(mode="json") if failed.preflight else None,
    )
    return bool(updated)


async def owner_of(conn: Connection, image_id: UUID) -> UUID | None:
    """The account owning a private image (None for a public or an unknown one)."""
    owner: UUID | None = await conn.fetchval(
        "SELECT owner_account_id FROM images WHERE image_id = $1", image_id
    )
    return owner


async def get_image(conn: Connection, image_id: UUID) -> ImageRecord | None:
    """Any image, also a deleted one (for the catalog's own rules, never for a tenant)."""
    row = await conn.fetchrow("SELECT * FROM images WHERE image_id = $1", image_id)
    return ImageRecord.from_row(row) if row else None


async def get_visible_image(
    conn: Connection, image_id: UUID, account_id: UUID
) -> ImageRecord | None:
    """The image if ``account_id`` may see it: public, its own, or offered to it; never a
    deleted one. Someone else's private image is not found, exactly like a missing one."""
    row = await conn.fetchrow(
        f"""
        SELECT *, {memberships.SHARED_COLUMN} FROM images
        WHERE image_id = $1 AND status <> 'deleted'
            AND (visibility = 'public' OR owner_account_id = $2 OR {memberships.member_of("$2")})
        """,
        image_id,
        account_id,
    )
    return ImageRecord.from_row(row) if row else None


@dataclass(frozen=True)
class ListQuery:
    """One page of a list tab (C2): newest first, keyset cursor, optional filters."""

    account_id: UUID
    tab: Tab
    status: ImageStatus | None = None
    os_family: str | None = None
    name_contains: str | None = None
    limit: int = 20
    cursor: str | None = None


async def list_images(conn: Connection, query: ListQuery) -> tuple[list[ImageRecord], str | None]:
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
        conditions.append(f"status = 'normal' AND {memberships.accepted_by(account)}")
    else:
        conditions.append(f"visibility = 'private' AND owner_account_id = {arg(query.account_id)}")
    if query.status is not None:
        conditions.append(f"status = {arg(query.status.value)}")
    if query.os_family is not None:
        conditions.append(f"os->>'family' = {arg(query.os_family)}")
    if query.name_contains:
        conditions.append(f"strpos(lower(name), lower({arg(query.name_contains)})) > 0")
    if query.cursor is not None:
        created_at, image_id = decode_cursor(query.cursor)
        conditions.append(f"(created_at, image_id) < ({arg(created_at)}, {arg(image_id)})")
    sql = (
        f"SELECT *, {memberships.SHARED_COLUMN} FROM images WHERE {' AND '.join(conditions)} "
        f"ORDER BY created_at DESC, image_id DESC LIMIT {arg(query.limit + 1)}"
    )
    rows = [ImageRecord.from_row(r) for r in await conn.fetch(sql, *args)]
    if len(rows) <= query.limit:
        return rows, None
    page = rows[: query.limit]
    return page, encode_cursor(page[-1].created_at, page[-1].image_id)


def encode_cursor(created_at: datetime, image_id: UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(image_id)])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """Raises ValueError on a cursor this service did not make."""
    try:
        created_at, image_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(created_at), UUID(image_id)
    except (ValueError, TypeError) as exc:
        raise ValueError("invalid cursor") from exc
