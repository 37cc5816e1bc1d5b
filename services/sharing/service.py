"""The sharing service's composition: its handlers and HTTP routes."""

from __future__ import annotations

from functools import partial

from services.common.runtime import ServiceDefinition
from services.sharing.api import install_routes
from services.sharing.config import SharingSettings
from services.sharing.handlers import HANDLERS

NAME = "sharing"


def build(settings: SharingSettings) -> ServiceDefinition:
    routes = partial(
        install_routes, source=f"/ims/{NAME}", topic_prefix=settings.topic_prefix,
        region=settings.region,
    )  # fmt: skip
    return ServiceDefinition(name=NAME, handlers=HANDLERS, install_routes=routes)
