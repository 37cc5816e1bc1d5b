"""The catalog's HTTP API: tenants' images (lists, detail, create, modify, delete), storage
usage, and the admin routes; every refusal is a problem document with a stable code."""

from __future__ import annotations

from fastapi import FastAPI

from services.catalog.api.admin import admin_router
from services.catalog.api.images import images_router
from services.catalog.api.problems import install_refusal_handler
from services.catalog.api.usage import usage_router
from services.catalog.sharing_api import launch_router
from services.common.uow import UnitOfWorkFactory


def install_routes(app: FastAPI, uow_factory: UnitOfWorkFactory) -> None:
    install_refusal_handler(app)
    app.include_router(images_router(uow_factory))
    app.include_router(usage_router(uow_factory))
    app.include_router(admin_router(uow_factory))
    app.include_router(launch_router(uow_factory.pool))
