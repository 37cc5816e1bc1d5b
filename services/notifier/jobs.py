"""The prompt publisher (N1-N3): each changed prompt's new version goes out on the topic
SharePromptUpdated (through the outbox) and into the account's inbox, in one transaction.

The handlers only mark a prompt as changed (table ``prompts``, one row per account) and
when its next version is due (:func:`services.notifier.domain.prompts.due_at`). So the
first offer shows at once, and a burst of 128 offers to one account makes one or two
versions of one prompt, not 128 messages to push; the version lists what is pending when
it goes out. Marking a prompt changed fires the trigger ``prompt_changed`` (function
``prompts_notify``, migration 0004), whose NOTIFY on channel ``notifier_prompts`` wakes
this job (:func:`services.common.wake.run_woken`); it also sleeps only until the next due
prompt, and polls, so a lost notification only delays a prompt. Several notifier
processes share the work (``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

from uuid import UUID

from schemas.events import NOTICES, PROMPT_IMAGES_MAX
from services.common.db import Connection
from services.common.ports import Emission, UnitOfWork
from services.common.retry import retry_forever
from services.common.uow import UnitOfWorkFactory
from services.common.wake import run_woken
from services.notifier.domain import prompts
from services.notifier.ports import Store

BATCH = 100
CHANNEL = "notifier_prompts"  # NOTIFYed by the trigger prompt_changed (migration 0004)
POLL_INTERVAL = 1.0  # seconds, at most, between two looks for due prompts


async def publish_prompts(
    uow_factory: UnitOfWorkFactory[Store], poll_interval: float = POLL_INTERVAL
) -> None:
    """Publish changed prompts until cancelled; every failure is retried with backoff."""

    async def step(_: Connection) -> bool:
        return await publish_once(uow_factory) == BATCH

    async def pause() -> float:
        return await until_due(uow_factory, poll_interval)

    async def loop() -> None:
        await run_woken(uow_factory.pool, CHANNEL, step, pause)

    await retry_forever(loop, component="prompt-publisher")


async def until_due(uow_factory: UnitOfWorkFactory[Store], poll_interval: float) -> float:
    """Seconds until the next changed prompt is due, at most ``poll_interval``."""
    async with uow_factory.reading() as store:
        due = await store.next_due()
    if due is None:
        return poll_interval
    return min(poll_interval, max(0.0, (due - uow_factory.clock()).total_seconds()) + 0.001)


async def publish_once(uow_factory: UnitOfWorkFactory[Store]) -> int:
    """Publish one batch of due prompts in one transaction; returns how many it took."""
    async with uow_factory.unit_of_work() as uow:
        return await publish_due(uow)


async def publish_due(uow: UnitOfWork[Store]) -> int:
    """Publish up to ``BATCH`` due prompts (a handful of statements for all of them);
    returns how many it took."""
    changes = await uow.store.take_due_prompts(BATCH)
    accounts = [change.account_id for change in changes]
    shown = await uow.store.has_prompt_notice(accounts)
    pending = await uow.store.pending(accounts, PROMPT_IMAGES_MAX)
    now = uow.now()
    emissions, notices, resolved = [], [], []
    for change in changes:
        account = change.account_id
        published = prompts.publication(change, pending[account], account in shown, now)
        if published is None:
            continue
        # Traced to the last fact that changed the prompt.
        emissions.append(
            Emission(published.version, NOTICES, str(account), str(account),
                     change.correlation_id, change.causation_id)
        )  # fmt: skip
        if published.notice is None:
            resolved.append(account)  # it resolved itself: it leaves the inbox
        else:
            notices.append(published.notice)
    await uow.emit_many(emissions)
    await uow.store.save_prompt_notices(notices, now)
    await uow.store.delete_prompt_notices(resolved)
    # Open streams (services.notifier.push) show the new version, as the topic carries it.
    await uow.store.announce_prompts([UUID(e.aggregate_id) for e in emissions])
    return len(changes)
