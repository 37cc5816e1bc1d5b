"""The sharing service's composition."""

from __future__ import annotations

from services.common.runtime import ServiceDefinition
from services.common.settings import ServiceSettings
from services.sharing.handlers import HANDLERS

NAME = "sharing"


def build(_: ServiceSettings) -> ServiceDefinition:
    return ServiceDefinition(name=NAME, handlers=HANDLERS)
