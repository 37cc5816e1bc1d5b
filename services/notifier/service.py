"""The notifier service's composition root."""

from __future__ import annotations

from services.common.runtime import ServiceDefinition
from services.common.settings import ServiceSettings
from services.notifier.api import install_routes
from services.notifier.handlers import HANDLERS
from services.notifier.jobs import publish_prompts
from services.notifier.ports import Store
from services.notifier.store import NotifierStore

NAME = "notifier"


def build(_: ServiceSettings) -> ServiceDefinition[Store]:
    return ServiceDefinition(
        name=NAME,
        store=NotifierStore,
        handlers=HANDLERS,
        install_routes=install_routes,
        background=[publish_prompts],
    )
