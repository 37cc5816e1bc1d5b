"""The catalog service's composition: its handlers, HTTP routes and background jobs."""

from __future__ import annotations

import asyncpg
from fastapi import FastAPI

from services.catalog.announcer import announce_public_images
from services.catalog.api import install_routes
from services.catalog.handlers import HANDLERS
from services.common.runtime import ServiceDefinition
from services.common.settings import ServiceSettings
from services.common.uow import UnitOfWorkFactory

NAME = "catalog"


def build(settings: ServiceSettings) -> ServiceDefinition:
    def routes(app: FastAPI, pool: asyncpg.Pool) -> None:
        # The API changes state and announces it through the outbox, like the handlers.
        uow_factory = UnitOfWorkFactory(pool, f"/ims/{NAME}", settings.topic_prefix)
        install_routes(app, uow_factory)

    return ServiceDefinition(
        name=NAME, handlers=HANDLERS, install_routes=routes, background=(announce_public_images,)
    )
