"""Sharing's store, all of its SQL: what sharing keeps of other services' facts (accounts,
images) and the memberships it decides. :class:`SharingStore` is the real
:class:`services.sharing.ports.Store`, on the connection of a unit of work (or of a read)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from asyncpg import Record

from services.common.db import Connection
from services.sharing.domain import Account, Image, ImageStatus, Membership, MemberStatus, Project

_MEMBERSHIP_COLUMNS = """
    m.membership_id, m.image_id, m.member_account_id, m.member_project_id,
    m.member_project_name, m.member_project_region, m.status, m.offered_at, m.answered_at
"""
# A membership with its image (the image's status is renamed: memberships have one too).
_WITH_IMAGE = "i.owner_account_id, i.name, i.status AS image_status, i.visibility"


class SharingStore:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # --- accounts (IAM) ------------------------------------------------------------------

    async def upsert_account(self, account: Account, at: datetime) -> None:
        await self._conn.execute(
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
            [_project_json(p) for p in account.projects],
            "active" if account.active else "closed",
            at,
        )

    async def accounts_by_name(self, names: Iterable[str]) -> dict[str, Account]:
        """The active account of each name, held (FOR SHARE) until the transaction ends, so
        an account being closed meanwhile waits and then revokes what this transaction
        offers."""
        rows = await self._conn.fetch(
            """
            SELECT * FROM accounts WHERE name = ANY($1::text[]) AND status = 'active'
            ORDER BY account_id FOR SHARE
            """,
            sorted(set(names)),
        )
        # Two active accounts may briefly share a name (a rename and a new account arrive on
        # different partitions): the one IAM changed last is the name's owner.
        latest: dict[str, Record] = {}
        for row in rows:
            if row["name"] not in latest or row["updated_at"] > latest[row["name"]]["updated_at"]:
                latest[row["name"]] = row
        return {name: _account(row) for name, row in latest.items()}

    async def lock_account(self, account_id: UUID) -> Account | None:
        row = await self._conn.fetchrow(
            "SELECT * FROM accounts WHERE account_id = $1 FOR SHARE", account_id
        )
        return _account(row) if row else None

    async def account_names(self, account_ids: Iterable[UUID]) -> dict[UUID, str]:
        rows = await self._conn.fetch(
            "SELECT account_id, name FROM accounts WHERE account_id = ANY($1::uuid[])",
            list(set(account_ids)),
        )
        return {row["account_id"]: row["name"] for row in rows}

    # --- images (capture's and the catalog's facts) --------------------------------------

    async def lock_images(self, image_ids: Iterable[UUID]) -> dict[UUID, Image]:
        """The images, locked in id order (FOR UPDATE): adds to one image, its deletion and
        the facts about it take turns, so the member limit holds across processes."""
        rows = await self._conn.fetch(
            "SELECT * FROM images WHERE image_id = ANY($1::uuid[]) ORDER BY image_id FOR UPDATE",
            sorted(set(image_ids)),
        )
        return {row["image_id"]: _image(row) for row in rows}

    async def get_image(self, image_id: UUID) -> Image | None:
        row = await self._conn.fetchrow("SELECT * FROM images WHERE image_id = $1", image_id)
        return _image(row) if row else None

    async def save_image(self, image: Image, at: datetime) -> None:
        await self._conn.execute(
            """
            INSERT INTO images (image_id, owner_account_id, name, status, visibility, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (image_id) DO UPDATE SET owner_account_id = EXCLUDED.owner_account_id,
                name = EXCLUDED.name, status = EXCLUDED.status, visibility = EXCLUDED.visibility,
                updated_at = EXCLUDED.updated_at
            """,
            image.image_id,
            image.owner_account_id,
            image.name,
            image.status.value,
            "public" if image.public else "private",
            at,
        )

    # --- memberships ---------------------------------------------------------------------

    async def members_of(self, image_id: UUID) -> list[Membership]:
        rows = await self._conn.fetch(
            f"""
            SELECT {_MEMBERSHIP_COLUMNS} FROM memberships m WHERE m.image_id = $1
            ORDER BY m.offered_at, m.membership_id
            """,
            image_id,
        )
        return [_membership(row) for row in rows]

    async def count_members(self, image_id: UUID) -> int:
        count = await self._conn.fetchval(
            "SELECT count(*) FROM memberships WHERE image_id = $1", image_id
        )
        return int(count)

    async def insert_memberships(self, memberships: Sequence[Membership]) -> None:
        if not memberships:
            return
        projects = [m.member_project for m in memberships]
        await self._conn.execute(
            """
            INSERT INTO memberships (membership_id, image_id, member_account_id,
                member_project_id, member_project_name, member_project_region, status,
                offered_at)
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[],
                $6::text[], $7::text[], $8::timestamptz[])
            """,
            [m.membership_id for m in memberships],
            [m.image_id for m in memberships],
            [m.member_account_id for m in memberships],
            [p.project_id if p else None for p in projects],
            [p.name if p else None for p in projects],
            [p.region if p else None for p in projects],
            [m.status.value for m in memberships],
            [m.offered_at for m in memberships],
        )

    async def lock_offers_to(
        self,
        member: UUID,
        *,
        image_ids: Sequence[UUID] | None = None,
        status: MemberStatus | None = None,
    ) -> list[tuple[Membership, Image]]:
        """A recipient's memberships (chosen images, or all of one status) with their
        images, locked in id order (FOR UPDATE) for an answer."""
        rows = await self._conn.fetch(
            f"""
            SELECT {_MEMBERSHIP_COLUMNS}, {_WITH_IMAGE}
            FROM memberships m JOIN images i USING (image_id)
            WHERE m.member_account_id = $1
                AND ($2::uuid[] IS NULL OR m.image_id = ANY($2::uuid[]))
                AND ($3::text IS NULL OR m.status = $3::text)
            ORDER BY m.membership_id
            FOR UPDATE OF m
            """,
            member,
            None if image_ids is None else list(image_ids),
            None if status is None else status.value,
        )
        return [(_membership(row), _image(row, status="image_status")) for row in rows]

    async def set_status(
        self, membership_ids: Sequence[UUID], status: MemberStatus, at: datetime
    ) -> None:
        await self._conn.execute(
            """
            UPDATE memberships SET status = $2, answered_at = $3
            WHERE membership_id = ANY($1::uuid[])
            """,
            list(membership_ids),
            status.value,
            at,
        )

    async def delete_members(self, image_id: UUID, member: UUID | None = None) -> list[Membership]:
        """End the memberships of an image (one member, or all); returns what they were."""
        rows = await self._conn.fetch(
            f"""
            DELETE FROM memberships m WHERE m.image_id = $1
                AND ($2::uuid IS NULL OR m.member_account_id = $2::uuid)
            RETURNING {_MEMBERSHIP_COLUMNS}
            """,
            image_id,
            member,
        )
        return sorted((_membership(row) for row in rows), key=lambda m: m.membership_id)

    async def delete_memberships_of_account(
        self, account_id: UUID
    ) -> list[tuple[Membership, Image]]:
        """End every membership an account is part of, as member or as the image's owner."""
        rows = await self._conn.fetch(
            f"""
            WITH ended AS (
                DELETE FROM memberships m
                WHERE m.member_account_id = $1
                    OR m.image_id IN (SELECT image_id FROM images WHERE owner_account_id = $1)
                RETURNING {_MEMBERSHIP_COLUMNS}
            )
            SELECT m.*, {_WITH_IMAGE}
            FROM ended m JOIN images i USING (image_id)
            ORDER BY m.membership_id
            """,
            account_id,
        )
        return [(_membership(row), _image(row, status="image_status")) for row in rows]

    async def offers_to(
        self,
        member: UUID,
        status: MemberStatus | None,
        limit: int,
        after: tuple[datetime, UUID] | None,
    ) -> list[tuple[Membership, Image]]:
        """A page of a recipient's memberships, newest offer first."""
        rows = await self._conn.fetch(
            f"""
            SELECT {_MEMBERSHIP_COLUMNS}, {_WITH_IMAGE}
            FROM memberships m JOIN images i USING (image_id)
            WHERE m.member_account_id = $1 AND ($2::text IS NULL OR m.status = $2::text)
                AND ($3::timestamptz IS NULL OR (m.offered_at, m.membership_id) < ($3, $4))
            ORDER BY m.offered_at DESC, m.membership_id DESC
            LIMIT $5
            """,
            member,
            None if status is None else status.value,
            after[0] if after else None,
            after[1] if after else None,
            limit,
        )
        return [(_membership(row), _image(row, status="image_status")) for row in rows]


def _project_json(project: Project) -> dict[str, Any]:
    # As IAM's Project in JSON (AccountChanged.projects): what _account reads back.
    return {"project_id": str(project.project_id), "name": project.name, "region": project.region}


def _account(row: Record) -> Account:
    projects = tuple(
        Project(UUID(p["project_id"]), p["name"], p.get("region")) for p in row["projects"]
    )
    return Account(row["account_id"], row["name"], row["kind"], projects, row["status"] == "active")


def _image(row: Record, *, status: str = "status") -> Image:
    """An image row, or the image columns of a membership row (its status as ``status``)."""
    return Image(
        row["image_id"],
        row["owner_account_id"],
        row["name"],
        ImageStatus(row[status]),
        row["visibility"] == "public",
    )


def _membership(row: Record | dict[str, Any]) -> Membership:
    project = (
        Project(row["member_project_id"], row["member_project_name"], row["member_project_region"])
        if row["member_project_id"] is not None
        else None
    )
    return Membership(
        row["membership_id"],
        row["image_id"],
        row["member_account_id"],
        project,
        MemberStatus(row["status"]),
        row["offered_at"],
        row["answered_at"],
    )
