"""The sharing service's composition: its handlers and HTTP routes."""

from __future__ import annotations

from functools import partial
from typing import Any

from services.common.handlers import Handlers
from services.common.runtime import ServiceDefinition
from services.common.uow import connection_store
from services.sharing.api import install_routes
from services.sharing.config import SharingSettings
from services.sharing.handlers import HANDLERS

NAME = "sharing"


def build(settings: SharingSettings) -> ServiceDefinition[Any]:
    routes = partial(
        install_routes, source=f"/ims/{NAME}", topic_prefix=settings.topic_prefix,
        region=settings.region,
    )  # fmt: skip
    return ServiceDefinition(
        name=NAME,
        store=connection_store,
        handlers=Handlers.from_mapping(HANDLERS),
        install_routes=lambda app, uow_factory: routes(app, uow_factory.pool),
    )
