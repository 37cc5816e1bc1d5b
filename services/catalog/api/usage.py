"""Storage usage (C9): bytes stored and images, per account; billing gets the same figures
as StorageUsageChanged events."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from services.catalog import messages, store
from services.catalog.api.views import UsageView
from services.common.auth import CurrentTenant
from services.common.http import PROBLEMS, ProblemError
from services.common.uow import UnitOfWorkFactory


def usage_router(uow_factory: UnitOfWorkFactory) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["usage"], responses=PROBLEMS)

    @router.get("/usage", response_model=UsageView)
    async def read_usage(tenant: CurrentTenant, account_id: UUID | None = None) -> UsageView:
        """My account's usage; an admin names any account with `account_id`."""
        account_id = account_id or tenant.account_id
        if account_id != tenant.account_id and not tenant.is_admin:
            raise ProblemError(403, "forbidden", messages.OTHER_ACCOUNTS_USAGE)
        async with uow_factory.pool.acquire() as conn:
            account = await store.get_account(conn, account_id)
        return UsageView.of(account)

    return router
