"""Sharing's composition root: its store, its event handlers, its HTTP routes."""

from __future__ import annotations

from fastapi import FastAPI

from services.common.runtime import ServiceDefinition
from services.common.uow import UnitOfWorkFactory
from services.sharing.api import install_routes
from services.sharing.config import SharingSettings
from services.sharing.handlers import build_handlers
from services.sharing.ports import Store
from services.sharing.store import SharingStore

NAME = "sharing"


def build(settings: SharingSettings) -> ServiceDefinition[Store]:
    def routes(app: FastAPI, uow_factory: UnitOfWorkFactory[Store]) -> None:
        install_routes(app, uow_factory, region=settings.region)

    return ServiceDefinition(
        name=NAME, store=SharingStore, handlers=build_handlers(), install_routes=routes
    )
