"""Notifier persistence: the per-account inbox of notices, and the pending offers each
recipient's prompt lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from schemas.events import PromptImage
from services.common.db import Connection
from services.notifier.domain import NoticeText
from services.notifier.prompts import KIND as PROMPT_KIND
from services.notifier.prompts import Pending


async def insert_notice(
    conn: Connection,
    notice_id: UUID,
    account_id: UUID,
    image_id: UUID,
    text: NoticeText,
    at: datetime,
) -> bool:
    """Put a notice in the inbox; False if this image already has a notice of this kind."""
    inserted = await conn.fetchval(
        """
        INSERT INTO notices (notice_id, account_id, image_id, kind, text_zh, text_en, created_at,
            updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
        ON CONFLICT (image_id, kind) DO NOTHING
        RETURNING true
        """,
        notice_id,
        account_id,
        image_id,
        text.kind,
        text.zh,
        text.en,
        at,
    )
    return bool(inserted)


async def list_notices(conn: Connection, account_id: UUID, limit: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """
        SELECT * FROM notices WHERE account_id = $1
        ORDER BY (read_at IS NOT NULL), updated_at DESC LIMIT $2
        """,
        account_id,
        limit,
    )
    return [dict(r) for r in rows]


async def mark_read(conn: Connection, account_id: UUID, notice_id: UUID) -> bool:
    updated = await conn.fetchval(
        """
        UPDATE notices SET read_at = coalesce(read_at, now())
        WHERE notice_id = $1 AND account_id = $2
        RETURNING true
        """,
        notice_id,
        account_id,
    )
    return bool(updated)


# --- the prompt's pending offers ---------------------------------------------------------


# Marks the prompt of the account the source relation names as changed: due now, or
# $(n) after its last version; one already waiting keeps its time however many changes come.
_MARK_PROMPT = """
    INSERT INTO prompts (account_id, changed, grew, due_at, correlation_id, causation_id)
    SELECT account_id, true, {grew}, now(), {correlation}, {causation} FROM {source}
    ON CONFLICT (account_id) DO UPDATE SET
        due_at = CASE WHEN prompts.changed THEN prompts.due_at
            ELSE greatest(now(), prompts.published_at + {interval}::interval) END,
        changed = true, grew = prompts.grew OR EXCLUDED.grew,
        correlation_id = EXCLUDED.correlation_id, causation_id = EXCLUDED.causation_id
"""


@dataclass(frozen=True)
class Cause:
    """The fact that changed a prompt, and how soon its next version may go out."""

    correlation_id: UUID | None
    causation_id: UUID | None
    min_interval: timedelta


async def add_offer(conn: Connection, account_id: UUID, offer: PromptImage, cause: Cause) -> None:
    """A pending offer for the account's prompt, which changes (one statement)."""
    mark = _MARK_PROMPT.format(
        grew="true", correlation="$8::uuid", causation="$9::uuid", interval="$10",
        source="added",
    )  # fmt: skip
    await conn.execute(
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
        {mark}
        """,
        offer.membership_id,
        account_id,
        offer.image_id,
        offer.name,
        offer.owner_account_id,
        offer.owner_account_name,
        offer.offered_at,
        cause.correlation_id,
        cause.causation_id,
        cause.min_interval,
    )


async def remove_offer(conn: Connection, membership_id: UUID, cause: Cause) -> None:
    """The offer is answered or revoked: it leaves its prompt, which changes (if it was
    there at all), in one statement."""
    mark = _MARK_PROMPT.format(
        grew="false", correlation="$2::uuid", causation="$3::uuid", interval="$4",
        source="removed",
    )  # fmt: skip
    await conn.execute(
        f"""
        WITH removed AS (
            DELETE FROM prompt_offers WHERE membership_id = $1 RETURNING account_id
        )
        {mark}
        """,
        membership_id,
        cause.correlation_id,
        cause.causation_id,
        cause.min_interval,
    )


async def pending(conn: Connection, account_ids: Sequence[UUID], limit: int) -> dict[UUID, Pending]:
    """Each account's newest ``limit`` pending offers, and how many it has (one query)."""
    rows = await conn.fetch(
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
    found = {account: Pending([], 0) for account in account_ids}
    for row in rows:
        found[row["account_id"]].images.append(
            PromptImage(
                membership_id=row["membership_id"],
                image_id=row["image_id"],
                name=row["image_name"],
                owner_account_id=row["owner_account_id"],
                owner_account_name=row["owner_account_name"],
                offered_at=row["offered_at"],
            )
        )
        found[row["account_id"]] = Pending(found[row["account_id"]].images, row["total"])
    return found


# --- prompts to publish ------------------------------------------------------------------


@dataclass(frozen=True)
class PromptChange:
    account_id: UUID
    grew: bool
    correlation_id: UUID | None
    causation_id: UUID | None


async def take_due_prompts(conn: Connection, limit: int) -> list[PromptChange]:
    """Changed prompts whose time has come, oldest first, marked published; held until the
    transaction ends (another publisher skips them)."""
    rows = await conn.fetch(
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


async def next_due(conn: Connection) -> datetime | None:
    """When the next changed prompt is due (None: none is waiting)."""
    due: datetime | None = await conn.fetchval("SELECT min(due_at) FROM prompts WHERE changed")
    return due


@dataclass(frozen=True)
class PromptNotice:
    """The account's one prompt notice, as of its newest version; ``unread`` when new
    offers arrived (the recipient has something new to read)."""

    notice_id: UUID
    account_id: UUID
    text: NoticeText
    body: dict[str, Any]
    unread: bool


async def save_prompt_notices(
    conn: Connection, notices: Sequence[PromptNotice], at: datetime
) -> None:
    if not notices:
        return
    await conn.execute(
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


async def delete_prompt_notices(conn: Connection, account_ids: Sequence[UUID]) -> None:
    """Resolved prompts leave the inbox."""
    if account_ids:
        await conn.execute(
            "DELETE FROM notices WHERE account_id = ANY($1::uuid[]) AND kind = $2",
            list(account_ids),
            PROMPT_KIND,
        )


async def has_prompt_notice(conn: Connection, account_ids: Sequence[UUID]) -> set[UUID]:
    rows = await conn.fetch(
        "SELECT account_id FROM notices WHERE account_id = ANY($1::uuid[]) AND kind = $2",
        list(account_ids),
        PROMPT_KIND,
    )
    return {row["account_id"] for row in rows}
