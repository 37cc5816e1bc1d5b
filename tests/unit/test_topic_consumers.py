"""The AsyncAPI document names, for every topic, the services that consume it: those names
must be exactly the services whose handlers subscribe to the topic."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from schemas import generate
from services.capture.handlers import build_handlers
from services.capture.image_store import DirectoryImageStore
from services.catalog.handlers import HANDLERS as CATALOG
from services.notifier.handlers import HANDLERS as NOTIFIER
from services.sharing.handlers import HANDLERS as SHARING

CAPTURE = build_handlers(DirectoryImageStore(Path("/nonexistent")))
SUBSCRIPTIONS: dict[str, Iterable[type[Any]]] = {
    "capture": CAPTURE,
    "catalog": CATALOG,
    "sharing": SHARING,
    "notifier": NOTIFIER,
}


def test_documented_consumers_are_the_services_that_subscribe() -> None:
    for topic, readers in generate.CONSUMERS.items():
        subscribed = {
            name
            for name, handlers in SUBSCRIPTIONS.items()
            if any(topic == event.NAME for event in handlers)
        }
        assert subscribed == set(readers) & set(SUBSCRIPTIONS), topic
