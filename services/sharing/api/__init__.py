"""The sharing service's tenant-facing HTTP API: owners share and manage tenants (S1, S2,
S7-S9), recipients list and answer offers (S3-S6). Paths are a contract with the console.
HTTP only: each route parses, calls a handler through the request runner and renders."""

from __future__ import annotations

from fastapi import FastAPI

from services.common.requests import RequestRunner
from services.common.uow import UnitOfWorkFactory
from services.sharing.api import owner, recipient
from services.sharing.ports import Store


def install_routes(
    app: FastAPI, uow_factory: UnitOfWorkFactory[Store], *, region: str | None
) -> None:
    runner = RequestRunner(uow_factory)
    app.include_router(owner.router(runner, region=region))
    app.include_router(recipient.router(runner))
