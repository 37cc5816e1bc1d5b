"""Capture's handlers: of the events it consumes (:mod:`.events`), of a capture attempt's
results (:mod:`.outcomes`) and of the hosts API's queries (:mod:`.hosts`)."""

from __future__ import annotations

from schemas.envelope import Envelope
from schemas.events import CaptureAccepted, HostChanged, ImageDeleted
from services.capture.adapters.image_store import ImageStore
from services.capture.handlers.events import (
    on_capture_accepted,
    on_host_changed,
    on_image_deleted,
)
from services.capture.ports import Store
from services.common.handlers import Handlers
from services.common.ports import UnitOfWork


def build_handlers(images: ImageStore) -> Handlers[Store]:
    """The registry of capture's event handlers; a deleted image's file is in ``images``."""

    async def image_deleted(uow: UnitOfWork[Store], event: Envelope[ImageDeleted]) -> None:
        await on_image_deleted(uow, event, images)

    handlers: Handlers[Store] = Handlers()
    handlers.register(HostChanged, on_host_changed)
    handlers.register(CaptureAccepted, on_capture_accepted)
    handlers.register(ImageDeleted, image_deleted)
    return handlers
