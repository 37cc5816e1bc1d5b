"""The catalog service's composition: its handlers and HTTP routes."""

from __future__ import annotations

from services.catalog.api import install_routes
from services.catalog.handlers import HANDLERS
from services.common.runtime import ServiceDefinition
from services.common.settings import ServiceSettings

NAME = "catalog"


def build(_: ServiceSettings) -> ServiceDefinition:
    return ServiceDefinition(name=NAME, handlers=HANDLERS, install_routes=install_routes)
