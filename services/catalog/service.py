"""The catalog's composition root: its store, handlers, HTTP routes and background job."""

from __future__ import annotations

from services.catalog.api import install_routes
from services.catalog.handlers import build_handlers
from services.catalog.jobs import announce_public_images
from services.catalog.ports import Store
from services.catalog.store import CatalogStore
from services.common.runtime import ServiceDefinition
from services.common.settings import ServiceSettings

NAME = "catalog"


def build(settings: ServiceSettings) -> ServiceDefinition[Store]:
    return ServiceDefinition(
        name=NAME,
        store=CatalogStore,
        handlers=build_handlers(),
        install_routes=install_routes,
        background=(announce_public_images,),
    )
