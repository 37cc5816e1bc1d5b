"""Capture's HTTP API: the tenant's hosts as ECS last described them, for the console's
"create private image" picker (only stopped hosts can be captured, K1)."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, FastAPI, Query
from pydantic import BaseModel

from services.capture import store
from services.capture.domain import Host
from services.common.auth import CurrentTenant
from services.common.http import PROBLEMS, ProblemError
from services.common.i18n import Text

STATE_LABELS = {"running": "运行中", "stopped": "关机"}
INVALID_CURSOR = Text("分页游标无效。", "The cursor is invalid.")


class HostView(BaseModel):
    host_id: UUID
    name: str
    os: dict[str, str]
    os_label: str
    state: Literal["running", "stopped"]
    state_label: str
    capturable: bool  # stopped: the picker may offer it
    memory_mb: int
    system_disk_gb: int

    @classmethod
    def of(cls, host: Host) -> HostView:
        os = host.os
        return cls(
            host_id=host.host_id,
            name=host.name,
            os=os.model_dump(mode="json"),
            os_label=f"{os.distro} {os.version} 64bit".replace("  ", " "),
            state="stopped" if host.state == "stopped" else "running",
            state_label=STATE_LABELS.get(host.state, host.state),
            capturable=host.state == "stopped",
            memory_mb=host.memory_mb,
            system_disk_gb=host.system_disk.size_gb,
        )


class HostPage(BaseModel):
    items: list[HostView]
    next_cursor: str | None


def install_routes(app: FastAPI, pool: asyncpg.Pool) -> None:
    router = APIRouter(prefix="/v1", tags=["hosts"])

    @router.get("/hosts", response_model=HostPage, responses=PROBLEMS)
    async def list_hosts(
        tenant: CurrentTenant,
        state: Literal["running", "stopped"] | None = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Query(max_length=1024)] = None,
    ) -> HostPage:
        """My hosts (never another account's, never deleted ones), by name: what the
        console's picker lists, with which of them are stopped and so capturable."""
        after = _decode(cursor) if cursor else None
        async with pool.acquire() as conn:
            hosts = await store.list_hosts(
                conn, tenant.account_id, state=state, after=after, limit=limit + 1
            )
        page = hosts[:limit]
        next_cursor = _encode(page[-1]) if len(hosts) > limit else None
        return HostPage(items=[HostView.of(h) for h in page], next_cursor=next_cursor)

    app.include_router(router)


def _encode(host: Host) -> str:
    return base64.urlsafe_b64encode(json.dumps([host.name, str(host.host_id)]).encode()).decode()


def _decode(cursor: str) -> tuple[str, UUID]:
    try:
        name, host_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return str(name), UUID(host_id)
    except (ValueError, TypeError) as exc:
        raise ProblemError(400, "invalid_cursor", INVALID_CURSOR) from exc
