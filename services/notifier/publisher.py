"""Publishing prompts (N1-N3): each changed prompt's new version goes out on the topic
SharePromptUpdated (through the outbox) and into the account's inbox, in one transaction.

The handlers only mark a prompt as changed (``prompt_changes``, one row per account), and
this job publishes what is pending when it gets there: a burst of 128 offers to one account
makes a few versions of one prompt, not 128 messages to push. A trigger's NOTIFY wakes it at
once; it also polls, so a lost notification only delays a prompt. Several notifier
processes share the work (``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

import asyncio
import contextlib

from schemas.envelope import utc_now
from schemas.events import NOTICES, PROMPT_IMAGES_MAX
from services.common.retry import retry_forever
from services.common.uow import UnitOfWork, UnitOfWorkFactory
from services.notifier import prompts, store
from services.notifier.domain import NoticeText

BATCH = 100
CHANNEL = "notifier_prompts"  # notified by the prompt_changes trigger (migration 0003)


async def publish_prompts(uow_factory: UnitOfWorkFactory, poll_interval: float = 1.0) -> None:
    """Publish changed prompts until cancelled; every failure is retried with backoff."""
    wake = asyncio.Event()

    async def listen_and_publish() -> None:
        listener = await uow_factory.pool.acquire()
        try:
            await listener.add_listener(CHANNEL, lambda *_: wake.set())
            while True:
                wake.clear()  # before the batch: a NOTIFY during it wakes the next one
                if await publish_once(uow_factory) == BATCH:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), poll_interval)
        finally:
            await uow_factory.pool.release(listener)

    await retry_forever(listen_and_publish, component="prompt-publisher")


async def publish_once(uow_factory: UnitOfWorkFactory) -> int:
    """Publish one batch of changed prompts; returns how many changes it took."""
    async with uow_factory.unit_of_work() as uow:
        changes = await store.take_prompt_changes(uow.conn, BATCH)
        shown = await store.has_prompt_notice(uow.conn, [c.account_id for c in changes])
        now = utc_now()
        for change in changes:
            account = change.account_id
            pending = await store.pending(uow.conn, account, PROMPT_IMAGES_MAX)
            if not pending.count and account not in shown:
                continue  # offered and gone before it was ever shown: nothing to resolve
            version = prompts.version(account, pending, now)
            # Traced to the last fact that changed the prompt.
            traced = UnitOfWork(
                uow.conn,
                uow_factory.source,
                topic_prefix=uow_factory.topic_prefix,
                correlation_id=change.correlation_id,
                causation_id=change.causation_id,
            )
            await traced.emit(
                version, aggregate_type=NOTICES, aggregate_id=str(account), tenant=str(account)
            )
            if not pending.count:
                await store.delete_prompt_notice(uow.conn, account)  # resolved itself
                continue
            await store.save_prompt_notice(
                uow.conn,
                version.prompt_id,
                account,
                NoticeText(prompts.KIND, version.text_zh, version.text_en),
                version.model_dump(mode="json", include={"pending_count", "images", "actions"}),
                unread=change.grew,
                at=now,
            )
    return len(changes)
