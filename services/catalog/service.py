"""The catalog service's composition: its handlers, HTTP routes and background jobs."""

from __future__ import annotations

from typing import Any

from services.catalog.announcer import announce_public_images
from services.catalog.api import install_routes
from services.catalog.handlers import HANDLERS
from services.common.handlers import Handlers
from services.common.runtime import ServiceDefinition
from services.common.settings import ServiceSettings
from services.common.uow import connection_store

NAME = "catalog"


def build(settings: ServiceSettings) -> ServiceDefinition[Any]:
    return ServiceDefinition(
        name=NAME,
        store=connection_store,
        handlers=Handlers.from_mapping(HANDLERS),
        install_routes=install_routes,
        background=(announce_public_images,),
    )
