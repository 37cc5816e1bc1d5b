"""The catalog's HTTP API: tenants' images (lists, detail, create, modify, delete), storage
usage, the launch check and the admin routes. HTTP only: each route calls a handler through
the one :class:`~services.common.requests.RequestRunner`, and every refusal is a problem
document with a stable code (``services.common.problems``)."""

from __future__ import annotations

from fastapi import FastAPI

from services.catalog.api.admin import admin_router
from services.catalog.api.images import images_router
from services.catalog.api.launch import launch_router
from services.catalog.api.usage import usage_router
from services.catalog.ports import Store
from services.common.requests import RequestRunner
from services.common.uow import UnitOfWorkFactory


def install_routes(app: FastAPI, uow_factory: UnitOfWorkFactory[Store]) -> None:
    runner = RequestRunner(uow_factory)
    app.include_router(images_router(runner))
    app.include_router(usage_router(runner))
    app.include_router(admin_router(runner))
    app.include_router(launch_router(runner))
