"""Accounts as the catalog knows them: their private image quota (C6) and stored bytes (C9)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.catalog.domain import AccountRecord
from services.catalog.store.base import HELD, StoreBase


class AccountsSql(StoreBase):
    async def lock_account(self, account_id: UUID) -> AccountRecord:
        """The account's row, locked until the transaction ends: whatever counts against its
        quota or changes its stored bytes happens one transaction at a time, in any process."""
        # One round trip: the upsert creates a new account's row or locks the existing one
        # (ON CONFLICT DO UPDATE locks the row it updates, like FOR UPDATE).
        row = await self.conn.fetchrow(
            """
            INSERT INTO accounts (account_id) VALUES ($1)
            ON CONFLICT (account_id) DO UPDATE SET account_id = EXCLUDED.account_id
            RETURNING *
            """,
            account_id,
        )
        assert row is not None
        return AccountRecord(**dict(row))

    async def get_account(self, account_id: UUID) -> AccountRecord:
        """The account's row as it is (a new account's defaults if the catalog has none)."""
        row = await self.conn.fetchrow("SELECT * FROM accounts WHERE account_id = $1", account_id)
        if row is None:
            return AccountRecord(account_id, None, 0, 0, None)
        return AccountRecord(**dict(row))

    async def quota_used(self, account_id: UUID) -> int:
        """Private images holding a quota slot: creating and normal ones (C6)."""
        used: int = await self.conn.fetchval(
            f"""
            SELECT count(*) FROM images
            WHERE owner_account_id = $1 AND status IN ({HELD})
            """,
            account_id,
        )
        return used

    async def set_quota(self, account_id: UUID, limit: int, at: datetime) -> None:
        await self.conn.execute(
            "UPDATE accounts SET private_image_quota = $2, updated_at = $3 WHERE account_id = $1",
            account_id,
            limit,
            at,
        )

    async def stored(self, account_id: UUID) -> tuple[int, int]:
        """(bytes, images) the account stores now: the files of its normal images (C9)."""
        row = await self.conn.fetchrow(
            """
            SELECT coalesce(sum(size_bytes), 0) AS bytes, count(*) AS images FROM images
            WHERE owner_account_id = $1 AND status = 'normal'
            """,
            account_id,
        )
        assert row is not None
        return int(row["bytes"]), int(row["images"])

    async def record_stored(
        self, account_id: UUID, stored_bytes: int, stored_images: int, at: datetime
    ) -> None:
        await self.conn.execute(
            """
            UPDATE accounts SET stored_bytes = $2, stored_images = $3, updated_at = $4
            WHERE account_id = $1
            """,
            account_id,
            stored_bytes,
            stored_images,
            at,
        )

    async def quota_standing(self, account_id: UUID) -> tuple[int | None, int]:
        """(the account's own quota or None for the default, slots held) in one round trip,
        for the private tab, which shows it on every page."""
        row = await self.conn.fetchrow(
            f"""
            SELECT (SELECT private_image_quota FROM accounts WHERE account_id = $1) AS quota,
                (SELECT count(*) FROM images
                 WHERE owner_account_id = $1 AND status IN ({HELD})) AS used
            """,
            account_id,
        )
        assert row is not None
        return row["quota"], int(row["used"])
