"""The notifier's tenant-facing HTTP API: the account's inbox (N3)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, FastAPI, HTTPException, Query, Response
from pydantic import BaseModel

from services.common.auth import CurrentTenant
from services.notifier import store


class NoticeView(BaseModel):
    id: UUID
    image_id: UUID
    kind: str
    text: str
    created_at: datetime
    read: bool


def install_routes(app: FastAPI, pool: asyncpg.Pool) -> None:
    router = APIRouter(prefix="/v1")

    @router.get("/notices", response_model=list[NoticeView])
    async def list_notices(
        tenant: CurrentTenant,
        lang: Literal["zh-CN", "en"] = "zh-CN",
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> list[NoticeView]:
        async with pool.acquire() as conn:
            rows = await store.list_notices(conn, tenant.account_id, limit)
        return [
            NoticeView(
                id=r["notice_id"],
                image_id=r["image_id"],
                kind=r["kind"],
                text=r["text_zh"] if lang == "zh-CN" else r["text_en"],
                created_at=r["created_at"],
                read=r["read_at"] is not None,
            )
            for r in rows
        ]

    @router.post("/notices/{notice_id}/read", status_code=204)
    async def mark_read(tenant: CurrentTenant, notice_id: UUID) -> Response:
        async with pool.acquire() as conn:
            if not await store.mark_read(conn, tenant.account_id, notice_id):
                raise HTTPException(404, f"Notice {notice_id} does not exist.")
        return Response(status_code=204)

    app.include_router(router)
