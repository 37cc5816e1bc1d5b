"""Capture's HTTP API: the tenant's hosts as ECS last described them, for the console's
"create private image" picker (only stopped hosts can be captured, K1)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, FastAPI, Query
from pydantic import BaseModel

from services.capture.domain import Host
from services.capture.handlers import hosts
from services.capture.ports import Store
from services.common.auth import CurrentTenant
from services.common.requests import RequestRunner
from services.common.uow import UnitOfWorkFactory

STATE_LABELS = {"running": "运行中", "stopped": "关机"}


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


def install_routes(app: FastAPI, uow_factory: UnitOfWorkFactory[Store]) -> None:
    runner = RequestRunner(uow_factory)
    router = APIRouter(prefix="/v1", tags=["hosts"])

    @router.get("/hosts", response_model=HostPage)
    async def list_hosts(
        tenant: CurrentTenant,
        state: Literal["running", "stopped"] | None = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Query(max_length=1024)] = None,
    ) -> HostPage:
        """My hosts (never another account's, never deleted ones), by name: what the
        console's picker lists, with which of them are stopped and so capturable."""
        page = await runner.read(
            lambda store: hosts.list_hosts(
                store, tenant.account_id, state=state, cursor=cursor, limit=limit
            )
        )
        return HostPage(items=[HostView.of(h) for h in page.hosts], next_cursor=page.next_cursor)

    app.include_router(router)
