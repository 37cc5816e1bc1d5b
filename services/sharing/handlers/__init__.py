"""Sharing's handlers, each in the caller's unit of work, so every change commits together
with the facts that announce it: of the events it consumes (:mod:`.events`), and of the
API's commands: offer (:mod:`.offers`, S1, S8), answer (:mod:`.answers`, S3, S5, S6), end
(:mod:`.endings`, S7, S9, S10); and its reads (:mod:`.queries`).

Each membership is an aggregate of its own (``schemas.events.MEMBERSHIP``): its facts carry
its own version line, never the image's (:mod:`.facts`).
"""

from __future__ import annotations

from schemas.events import (
    AccountChanged,
    CaptureAccepted,
    CaptureFailed,
    ImageDeleted,
    ImageReady,
    ImageUpdated,
    PublicImageAdded,
    PublicImageRetired,
)
from services.common.handlers import Handlers
from services.sharing.handlers.events import (
    on_account_changed,
    on_capture_accepted,
    on_capture_failed,
    on_image_deleted,
    on_image_ready,
    on_image_updated,
    on_public_image_added,
    on_public_image_retired,
)
from services.sharing.ports import Store


def build_handlers() -> Handlers[Store]:
    """The registry of sharing's event handlers."""
    handlers: Handlers[Store] = Handlers()
    handlers.register(AccountChanged, on_account_changed)
    handlers.register(CaptureAccepted, on_capture_accepted)
    handlers.register(ImageReady, on_image_ready)
    handlers.register(CaptureFailed, on_capture_failed)
    handlers.register(ImageUpdated, on_image_updated)
    handlers.register(ImageDeleted, on_image_deleted)
    handlers.register(PublicImageAdded, on_public_image_added)
    handlers.register(PublicImageRetired, on_public_image_retired)
    return handlers


HANDLERS = build_handlers()
