"""Publishing prompts (N1-N3): each changed prompt's new version goes out on the topic
SharePromptUpdated (through the outbox) and into the account's inbox, in one transaction.

The handlers only mark a prompt as changed (``prompts``, one row per account) and when its
next version is due: at once, or ``PROMPT_MIN_INTERVAL`` after the last one. So the first
offer shows at once, and a burst of 128 offers to one account makes one or two versions of
one prompt, not 128 messages to push; the version lists what is pending when it goes out.
A trigger's NOTIFY wakes the job; it also sleeps until the next due prompt, and polls, so a
lost notification only delays a prompt. Several notifier processes share the work
(``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

import asyncio
import contextlib

from schemas.envelope import utc_now
from schemas.events import NOTICES, PROMPT_IMAGES_MAX
from services.common.retry import retry_forever
from services.common.uow import Emission, UnitOfWorkFactory
from services.notifier import prompts, store
from services.notifier.domain import NoticeText

BATCH = 100
CHANNEL = "notifier_prompts"  # notified by the prompts trigger (migration 0003)


async def publish_prompts(uow_factory: UnitOfWorkFactory, poll_interval: float = 1.0) -> None:
    """Publish changed prompts until cancelled; every failure is retried with backoff."""
    wake = asyncio.Event()

    def on_notify(*_: object) -> None:
        wake.set()

    async def listen_and_publish() -> None:
        listener = await uow_factory.pool.acquire()
        try:
            await listener.add_listener(CHANNEL, on_notify)
            while True:
                wake.clear()  # before the batch: a NOTIFY during it wakes the next one
                if await publish_once(uow_factory) == BATCH:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        wake.wait(), await _until_due(uow_factory, poll_interval)
                    )
        finally:
            await listener.remove_listener(CHANNEL, on_notify)
            await uow_factory.pool.release(listener)

    await retry_forever(listen_and_publish, component="prompt-publisher")


async def _until_due(uow_factory: UnitOfWorkFactory, poll_interval: float) -> float:
    """Seconds until the next changed prompt is due, at most ``poll_interval``."""
    async with uow_factory.pool.acquire() as conn:
        due = await store.next_due(conn)
    if due is None:
        return poll_interval
    return min(poll_interval, max(0.0, (due - utc_now()).total_seconds()) + 0.001)


async def publish_once(uow_factory: UnitOfWorkFactory) -> int:
    """Publish one batch of due prompts (a handful of statements for up to ``BATCH``);
    returns how many it took."""
    async with uow_factory.unit_of_work() as uow:
        changes = await store.take_due_prompts(uow.conn, BATCH)
        accounts = [c.account_id for c in changes]
        shown = await store.has_prompt_notice(uow.conn, accounts)
        pending = await store.pending(uow.conn, accounts, PROMPT_IMAGES_MAX)
        now = utc_now()
        emissions, notices, resolved = [], [], []
        for change in changes:
            account, listed = change.account_id, pending[change.account_id]
            if not listed.count and account not in shown:
                continue  # offered and gone before it was ever shown: nothing to resolve
            version = prompts.version(account, listed, now)
            # Traced to the last fact that changed the prompt.
            emissions.append(
                Emission(version, NOTICES, str(account), str(account),
                         change.correlation_id, change.causation_id)
            )  # fmt: skip
            if not listed.count:
                resolved.append(account)  # it resolved itself: it leaves the inbox
                continue
            notices.append(
                store.PromptNotice(
                    version.prompt_id,
                    account,
                    NoticeText(prompts.KIND, version.text_zh, version.text_en),
                    version.model_dump(mode="json", include={"pending_count", "images", "actions"}),
                    unread=change.grew,
                )
            )
        await uow.emit_many(emissions)
        await store.save_prompt_notices(uow.conn, notices, now)
        await store.delete_prompt_notices(uow.conn, resolved)
    return len(changes)
