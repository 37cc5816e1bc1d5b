"""What the catalog keeps of sharing's facts (asyncpg SQL): one row per membership, for the
shared tab (C2), share tenants (C3) and the launch check (C8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.common.db import Connection

# Columns and conditions the image queries of store.py take in.
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


@dataclass(frozen=True)
class MembershipRecord:
    membership_id: UUID
    image_id: UUID
    owner_account_id: UUID
    member_account_id: UUID
    member_account_name: str
    member_project_id: UUID | None
    member_project_name: str | None
    status: str
    revoked_cause: str | None
    offered_at: datetime | None
    changed_at: datetime


async def save(conn: Connection, record: MembershipRecord) -> None:
    """The membership as its newest fact says (the caller checked the version line)."""
    await conn.execute(
        """
        INSERT INTO memberships (membership_id, image_id, owner_account_id, member_account_id,
            member_account_name, member_project_id, member_project_name, status,
            revoked_cause, offered_at, changed_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (membership_id) DO UPDATE SET
            member_account_name = EXCLUDED.member_account_name,
            member_project_id = EXCLUDED.member_project_id,
            member_project_name = EXCLUDED.member_project_name,
            status = EXCLUDED.status, revoked_cause = EXCLUDED.revoked_cause,
            offered_at = coalesce(EXCLUDED.offered_at, memberships.offered_at),
            changed_at = EXCLUDED.changed_at
        """,
        record.membership_id,
        record.image_id,
        record.owner_account_id,
        record.member_account_id,
        record.member_account_name,
        record.member_project_id,
        record.member_project_name,
        record.status,
        record.revoked_cause,
        record.offered_at,
        record.changed_at,
    )


async def image_owner(conn: Connection, image_id: UUID) -> tuple[str, UUID | None] | None:
    """(visibility, owner) of an image the catalog knows, else None."""
    row = await conn.fetchrow(
        "SELECT visibility, owner_account_id FROM images WHERE image_id = $1", image_id
    )
    return (row["visibility"], row["owner_account_id"]) if row else None


async def tenants_of(conn: Connection, image_id: UUID) -> list[MembershipRecord]:
    """The image's share tenants (not revoked), in the order they were offered."""
    rows = await conn.fetch(
        """
        SELECT * FROM memberships WHERE image_id = $1 AND status <> 'revoked'
        ORDER BY offered_at, membership_id
        """,
        image_id,
    )
    return [MembershipRecord(**dict(row)) for row in rows]


async def membership(
    conn: Connection, image_id: UUID, member_account_id: UUID
) -> MembershipRecord | None:
    row = await conn.fetchrow(
        "SELECT * FROM memberships WHERE image_id = $1 AND member_account_id = $2",
        image_id,
        member_account_id,
    )
    return MembershipRecord(**dict(row)) if row else None
