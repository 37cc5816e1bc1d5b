"""The notifier service's composition."""

from __future__ import annotations

from services.common.runtime import ServiceDefinition
from services.common.settings import ServiceSettings
from services.notifier.api import install_routes
from services.notifier.handlers import HANDLERS
from services.notifier.publisher import publish_prompts

NAME = "notifier"


def build(_: ServiceSettings) -> ServiceDefinition:
    return ServiceDefinition(
        name=NAME, handlers=HANDLERS, install_routes=install_routes, background=[publish_prompts]
    )
