"""What the catalog keeps of sharing's facts: one row per membership, for the shared tab
(C2), share tenants (C3) and the launch check (C8)."""

from __future__ import annotations

from uuid import UUID

from services.catalog.domain import MembershipRecord
from services.catalog.store.base import StoreBase


class MembershipsSql(StoreBase):
    async def save_membership(self, record: MembershipRecord) -> None:
        """The membership as its newest fact says (the caller checked the version line)."""
        await self.conn.execute(
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

    async def image_owner(self, image_id: UUID) -> tuple[str, UUID | None] | None:
        """(visibility, owner) of an image the catalog knows, else None."""
        row = await self.conn.fetchrow(
            "SELECT visibility, owner_account_id FROM images WHERE image_id = $1", image_id
        )
        return (row["visibility"], row["owner_account_id"]) if row else None

    async def tenants_of(self, image_id: UUID) -> list[MembershipRecord]:
        """The image's share tenants (not revoked), in the order they were offered."""
        rows = await self.conn.fetch(
            """
            SELECT * FROM memberships WHERE image_id = $1 AND status <> 'revoked'
            ORDER BY offered_at, membership_id
            """,
            image_id,
        )
        return [MembershipRecord(**dict(row)) for row in rows]

    async def membership(self, image_id: UUID, member_account_id: UUID) -> MembershipRecord | None:
        row = await self.conn.fetchrow(
            "SELECT * FROM memberships WHERE image_id = $1 AND member_account_id = $2",
            image_id,
            member_account_id,
        )
        return MembershipRecord(**dict(row)) if row else None
