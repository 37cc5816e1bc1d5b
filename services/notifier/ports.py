"""What the notifier's handlers and jobs need of its store (:class:`NotifierStore` is the
PostgreSQL one; ``tests/unit/notifier/fakes.py`` holds one in memory)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from services.notifier.domain.prompts import Cause, Offer, Pending, PromptChange, PromptNotice
from services.notifier.domain.wording import CaptureNotice, InboxNotice


class Store(Protocol):
    # --- the inbox ---
    async def insert_notice(self, notice: CaptureNotice) -> bool:
        """Put a notice in the inbox; False if its image already has one of its kind."""
        ...

    async def list_notices(self, account_id: UUID, limit: int) -> list[InboxNotice]:
        """The account's notices, unread first, newest first."""
        ...

    async def mark_read(self, account_id: UUID, notice_id: UUID) -> bool:
        """False when the account has no such notice."""
        ...

    # --- the prompts' pending offers ---
    async def add_offer(self, account_id: UUID, offer: Offer, cause: Cause) -> None:
        """A pending offer for the account's prompt, which changes."""
        ...

    async def remove_offer(self, membership_id: UUID, cause: Cause) -> None:
        """The offer leaves its prompt, which changes (if the offer was there at all)."""
        ...

    async def pending(self, account_ids: Sequence[UUID], limit: int) -> dict[UUID, Pending]:
        """Each account's newest ``limit`` pending offers, and how many it has."""
        ...

    # --- prompts to publish ---
    async def take_due_prompts(self, limit: int) -> list[PromptChange]:
        """Changed prompts whose time has come, oldest first, marked published."""
        ...

    async def next_due(self) -> datetime | None:
        """When the next changed prompt is due (None: none is waiting)."""
        ...

    async def has_prompt_notice(self, account_ids: Sequence[UUID]) -> set[UUID]:
        """The accounts whose prompt is in their inbox."""
        ...

    async def save_prompt_notices(self, notices: Sequence[PromptNotice], at: datetime) -> None:
        """Each account's prompt notice as of its newest version."""
        ...

    async def delete_prompt_notices(self, account_ids: Sequence[UUID]) -> None:
        """Resolved prompts leave the inbox."""
        ...

    async def announce_prompts(self, account_ids: Sequence[UUID]) -> None:
        """Tell open prompt streams (any notifier process) that these accounts' prompts
        have a new version, once the transaction commits."""
        ...
