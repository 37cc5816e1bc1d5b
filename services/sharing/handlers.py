"""Sharing event handlers: keep the accounts (IAM) and shareable images (capture) it needs.

Offers, answers and their rules (S1-S10) build on these facts.
"""

from __future__ import annotations

from typing import Any

from schemas.envelope import Envelope
from schemas.events import ACCOUNT, IMAGE, AccountChanged, ImageReady
from services.common.consumer import Handler
from services.common.tenancy import require_tenant
from services.common.uow import UnitOfWork
from services.sharing import store


async def on_account_changed(uow: UnitOfWork, event: Envelope[Any]) -> None:
    account: AccountChanged = event.data
    require_tenant(event, account.account_id)
    if await uow.apply_version(ACCOUNT, str(account.account_id), event.sequence):
        await store.upsert_account(uow.conn, account, event.time)


async def on_image_ready(uow: UnitOfWork, event: Envelope[Any]) -> None:
    ready: ImageReady = event.data
    require_tenant(event, ready.account_id)
    if await uow.apply_version(IMAGE, str(ready.image_id), event.sequence):
        await store.upsert_ready_image(uow.conn, ready, event.time)


HANDLERS: dict[type[Any], Handler] = {
    AccountChanged: on_account_changed,
    ImageReady: on_image_ready,
}
