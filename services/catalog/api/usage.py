"""Storage usage (C9): bytes stored and images, per account; billing gets the same figures
as StorageUsageChanged events."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from services.catalog.api.views import UsageView
from services.catalog.handlers import queries
from services.catalog.ports import Store
from services.common.auth import CurrentTenant
from services.common.http import problem_responses
from services.common.requests import RequestRunner


def usage_router(runner: RequestRunner[Store]) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["usage"])

    # Another account's usage is for an admin only: 403 to anyone else.
    @router.get("/usage", response_model=UsageView, responses=problem_responses(403))
    async def read_usage(tenant: CurrentTenant, account_id: UUID | None = None) -> UsageView:
        """My account's usage; an admin names any account with `account_id`."""
        account = await runner.read(
            lambda store: queries.usage(
                store,
                tenant.account_id,
                account_id or tenant.account_id,
                is_admin=tenant.is_admin,
            )
        )
        return UsageView.of(account)

    return router
