"""All the notifier's SQL: the per-account inbox of notices (``notices``), the pending
offers each recipient's prompt lists (``prompt_offers``) and each prompt's publication
state (``prompts``).

Marking a prompt changed fires the trigger ``prompt_changed`` (function
``prompts_notify``, migration 0004), which NOTIFYs channel ``notifier_prompts`` and wakes
the prompt publisher (:mod:`services.notifier.jobs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.common.db import Connection
from services.common.values import value_of
from services.notifier.domain.prompts import KIND as PROMPT_KIND
from services.notifier.domain.prompts import Cause, Offer, Pending, PromptChange, PromptNotice
from services.notifier.domain.wording import CaptureNotice, InboxNotice, NoticeText

# NOTIFYed with the accounts (comma-separated) whose prompt has a new version; heard by
# the open prompt streams (services.notifier.push).
PROMPT_STREAM_CHANNEL = "notifier_prompt_versions"

# Marks the prompt of the account the source relation names as changed, due as
# services.notifier.domain.prompts.due_at says: one already waiting keeps its time; else
# now, or the interval after its last version. ${n}..${n+2}: correlation, causation, interval.
_MARK_PROMPT = """
    INSERT INTO prompts (account_id, changed, grew, due_at, correlation_id, causation_id)
    SELECT account_id, true, {grew}, now(), ${n}::uuid, ${n1}::uuid FROM {source}
    ON CONFLICT (account_id) DO UPDATE SET
        due_at = CASE WHEN prompts.changed THEN prompts.due_at
            ELSE greatest(now(), prompts.published_at + ${n2}::interval) END,
        changed = true, grew = prompts.grew OR EXCLUDED.grew,
        correlation_id = EXCLUDED.correlation_id, causation_id = EXCLUDED.causation_id
"""


def _mark_prompt(source: str, *, grew: bool, first: int) -> str:
    """The statement marking the prompt changed, its cause from parameter ``first`` on."""
    return _MARK_PROMPT.format(
        grew=str(grew).lower(), source=source, n=first, n1=first + 1, n2=first + 2
    )


def _cause(cause: Cause) -> tuple[UUID | None, UUID | None, Any]:
    return cause.correlation_id, cause.causation_id, cause.min_interval


class NotifierStore:
    """The notifier's tables on one connection (a unit of work's, or a read's)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # --- the inbox -----------------------------------------------------------------------

    async def insert_notice(self, notice: CaptureNotice) -> bool:
        """Put a notice in the inbox; False if this image already has a notice of this kind."""
        inserted = await self._conn.fetchval(
            """
            INSERT INTO notices (notice_id, account_id, image_id, kind, text_zh, text_en,
                created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
            ON CONFLICT (image_id, kind) DO NOTHING
            RETURNING true
            """,
            notice.notice_id,
            notice.account_id,
            notice.image_id,
            notice.text.kind,
            notice.text.zh,
            notice.text.en,
            notice.at,
        )
        return bool(inserted)

    async def list_notices(self, account_id: UUID, limit: int) -> list[InboxNotice]:
        rows = await self._conn.fetch(
            """
            SELECT * FROM notices WHERE account_id = $1
            ORDER BY (read_at IS NOT NULL), updated_at DESC LIMIT $2
            """,
            account_id,
            limit,
        )
        return [_inbox_notice(row) for row in rows]

    async def mark_read(self, account_id: UUID, notice_id: UUID) -> bool:
        updated = await self._conn.fetchval(
            """
            UPDATE notices SET read_at = coalesce(read_at, now())
            WHERE notice_id = $1 AND account_id = $2
            RETURNING true
            """,
            notice_id,
            account_id,
        )
        return bool(updated)

    # --- the prompt's pending offers -----------------------------------------------------

    async def add_offer(self, account_id: UUID, offer: Offer, cause: Cause) -> None:
        """A pending offer for the account's prompt, which changes (one statement)."""
        await self._conn.execute(
            f"""
            WITH added AS (
                INSERT INTO prompt_offers (membership_id, account_id, image_id, image_name,
                    owner_account_id, owner_account_name, offered_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (membership_id) DO UPDATE SET image_name = EXCLUDED.image_name,
                    owner_account_name = EXCLUDED.owner_account_name,
                    offered_at = EXCLUDED.offered_at
                RETURNING account_id
            )
            {_mark_prompt("added", grew=True, first=8)}
            """,
            offer.membership_id,
            account_id,
            offer.image_id,
            offer.name,
            offer.owner_account_id,
            offer.owner_account_name,
            offer.offered_at,
            *_cause(cause),
        )

    async def remove_offer(self, membership_id: UUID, cause: Cause) -> None:
        """The offer is answered or revoked: it leaves its prompt, which changes (if it was
        there at all), in one statement."""
        await self._conn.execute(
            f"""
            WITH removed AS (
                DELETE FROM prompt_offers WHERE membership_id = $1 RETURNING account_id
            )
            {_mark_prompt("removed", grew=False, first=2)}
            """,
            membership_id,
            *_cause(cause),
        )

    async def pending(self, account_ids: Sequence[UUID], limit: int) -> dict[UUID, Pending]:
        """Each account's newest ``limit`` pending offers, and how many it has (one query)."""
        rows = await self._conn.fetch(
            """
            SELECT * FROM (
                SELECT *, count(*) OVER (PARTITION BY account_id) AS total,
                    row_number() OVER (PARTITION BY account_id
                                       ORDER BY offered_at DESC, membership_id DESC) AS n
                FROM prompt_offers WHERE account_id = ANY($1::uuid[])
            ) listed WHERE n <= $2 ORDER BY account_id, n
            """,
            list(account_ids),
            limit,
        )
        offers: dict[UUID, list[Offer]] = {account: [] for account in account_ids}
        totals: dict[UUID, int] = dict.fromkeys(account_ids, 0)
        for row in rows:
            offers[row["account_id"]].append(_offer(row))
            totals[row["account_id"]] = row["total"]
        return {account: Pending(offers[account], totals[account]) for account in account_ids}

    # --- prompts to publish --------------------------------------------------------------

    async def take_due_prompts(self, limit: int) -> list[PromptChange]:
        """Changed prompts whose time has come, oldest first, marked published; held until
        the transaction ends (another publisher skips them: ``FOR UPDATE SKIP LOCKED``)."""
        rows = await self._conn.fetch(
            """
            UPDATE prompts SET changed = false, grew = false, published_at = now()
            WHERE account_id IN (
                SELECT account_id FROM prompts WHERE changed AND due_at <= now()
                ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING account_id, grew, correlation_id, causation_id
            """,
            limit,
        )
        return [PromptChange(**dict(row)) for row in rows]

    async def next_due(self) -> datetime | None:
        """When the next changed prompt is due (None: none is waiting)."""
        due: datetime | None = await self._conn.fetchval(
            "SELECT min(due_at) FROM prompts WHERE changed"
        )
        return due

    async def has_prompt_notice(self, account_ids: Sequence[UUID]) -> set[UUID]:
        rows = await self._conn.fetch(
            "SELECT account_id FROM notices WHERE account_id = ANY($1::uuid[]) AND kind = $2",
            list(account_ids),
            PROMPT_KIND,
        )
        return {row["account_id"] for row in rows}

    async def save_prompt_notices(self, notices: Sequence[PromptNotice], at: datetime) -> None:
        if not notices:
            return
        await self._conn.execute(
            """
            INSERT INTO notices (notice_id, account_id, image_id, kind, text_zh, text_en, body,
                created_at, updated_at)
            SELECT n.notice_id, n.account_id, NULL, $6, n.text_zh, n.text_en, n.body, $7, $7
            FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[])
                AS n(notice_id, account_id, text_zh, text_en, body)
            ON CONFLICT (account_id) WHERE kind = 'share_prompt' DO UPDATE SET
                text_zh = EXCLUDED.text_zh, text_en = EXCLUDED.text_en, body = EXCLUDED.body,
                updated_at = EXCLUDED.updated_at,
                read_at = CASE WHEN EXCLUDED.account_id = ANY($8::uuid[]) THEN NULL
                    ELSE notices.read_at END
            """,
            [n.notice_id for n in notices],
            [n.account_id for n in notices],
            [n.text.zh for n in notices],
            [n.text.en for n in notices],
            [n.body for n in notices],
            PROMPT_KIND,
            at,
            [n.account_id for n in notices if n.unread],
        )

    async def delete_prompt_notices(self, account_ids: Sequence[UUID]) -> None:
        """Resolved prompts leave the inbox."""
        if account_ids:
            await self._conn.execute(
                "DELETE FROM notices WHERE account_id = ANY($1::uuid[]) AND kind = $2",
                list(account_ids),
                PROMPT_KIND,
            )

    async def announce_prompts(self, account_ids: Sequence[UUID]) -> None:
        """NOTIFY is transactional: the streams hear of a version only once it is committed."""
        if account_ids:
            await self._conn.execute(
                "SELECT pg_notify($1, $2)", PROMPT_STREAM_CHANNEL, ",".join(map(str, account_ids))
            )


def _inbox_notice(row: asyncpg.Record) -> InboxNotice:
    return InboxNotice(
        notice_id=row["notice_id"],
        image_id=row["image_id"],
        text=NoticeText(row["kind"], row["text_zh"], row["text_en"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        read=row["read_at"] is not None,
        body=row["body"],
    )


def _offer(row: asyncpg.Record) -> Offer:
    return value_of(Offer, row, name=row["image_name"])
