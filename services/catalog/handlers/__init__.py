"""The catalog's handlers: of events (``capture``: capture requests and capture's facts;
``sharing``: sharing's facts), of the API's commands (``commands``) and reads
(``queries``), and the storage usage they restate (``usage``). :data:`HANDLERS` is the
registry the consumer runs."""

from __future__ import annotations

from services.catalog.handlers.capture import register_capture
from services.catalog.handlers.sharing import register_sharing
from services.catalog.ports import Store
from services.common.handlers import Handlers


def build_handlers() -> Handlers[Store]:
    handlers: Handlers[Store] = Handlers()
    register_capture(handlers)
    register_sharing(handlers)
    return handlers


HANDLERS = build_handlers()
