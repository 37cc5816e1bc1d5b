"""The notifier service's composition."""

from __future__ import annotations

from typing import Any

from services.common.handlers import Handlers
from services.common.runtime import ServiceDefinition
from services.common.settings import ServiceSettings
from services.common.uow import connection_store
from services.notifier.api import install_routes
from services.notifier.handlers import HANDLERS
from services.notifier.publisher import publish_prompts

NAME = "notifier"


def build(_: ServiceSettings) -> ServiceDefinition[Any]:
    return ServiceDefinition(
        name=NAME,
        store=connection_store,
        handlers=Handlers.from_mapping(HANDLERS),
        install_routes=lambda app, uow_factory: install_routes(app, uow_factory.pool),
        background=[publish_prompts],
    )
