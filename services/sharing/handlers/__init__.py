"""Sharing's handlers, each in the caller's unit of work, so every change commits together
with the facts that announce it: of the events it consumes (:mod:`.events`), and of the
API's commands: offer (:mod:`.offers`, S1, S8), answer (:mod:`.answers`, S3, S5, S6), end
(:mod:`.endings`, S7, S9, S10); and its reads (:mod:`.queries`).

Each membership is an aggregate of its own (``schemas.events.MEMBERSHIP``): its facts carry
its own version line, never the image's (:mod:`.facts`).
"""

from __future__ import annotations

from services.sharing.handlers.events import build_handlers

__all__ = ["HANDLERS", "build_handlers"]

# The registry the service runs (built by :func:`.events.build_handlers`).
HANDLERS = build_handlers()
