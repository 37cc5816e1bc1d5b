"""Capture event handlers: learn hosts from ECS, queue accepted captures."""

from __future__ import annotations

from typing import Any

from schemas.envelope import Envelope
from schemas.events import HOST, IMAGE, CaptureAccepted, HostChanged
from services.capture import store
from services.common.consumer import Handler
from services.common.tenancy import require_tenant
from services.common.uow import UnitOfWork


async def on_host_changed(uow: UnitOfWork, event: Envelope[Any]) -> None:
    host: HostChanged = event.data
    require_tenant(event, host.account_id)
    if await uow.apply_version(HOST, str(host.host_id), event.sequence):
        await store.upsert_host(uow.conn, host, event.sequence, event.time)


async def on_capture_accepted(uow: UnitOfWork, event: Envelope[Any]) -> None:
    accepted: CaptureAccepted = event.data
    require_tenant(event, accepted.account_id)
    # Capture continues the image's version line where the catalog's acceptance left it.
    await uow.apply_version(IMAGE, str(accepted.image_id), event.sequence)
    # Queued even when the host looks unfit: ECS facts travel on another topic and may lag
    # behind the request, so the worker decides when it takes the job (see worker.py).
    await store.insert_job(uow.conn, accepted, uow.correlation_id)


HANDLERS: dict[type[Any], Handler] = {
    HostChanged: on_host_changed,
    CaptureAccepted: on_capture_accepted,
}
