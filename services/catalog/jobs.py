"""The catalog's background job, the public image announcer (C1): every public image is
announced once as PublicImageAdded, including the ones a migration seeded at install
(nothing announced those when they were written).

An admin's add announces its image in its own transaction; this job finds the others.
Each image is claimed with ``FOR UPDATE SKIP LOCKED`` and marked in the transaction that
queues its event, so several catalog processes announce each image exactly once.
"""

from __future__ import annotations

import asyncio

import structlog

from services.catalog.handlers import commands
from services.catalog.ports import Store
from services.common.retry import retry_forever
from services.common.uow import UnitOfWorkFactory

_log = structlog.get_logger(__name__)

BATCH = 50
# Seeded images exist from the first start; a later look costs one indexed query.
INTERVAL_SECONDS = 300.0


async def announce_public_images(
    uow_factory: UnitOfWorkFactory[Store], *, interval: float = INTERVAL_SECONDS
) -> None:
    """Announce what is not announced yet, then look again every ``interval``, forever."""
    while True:
        announced = await retry_forever(
            lambda: announce_pending(uow_factory), component="public-image-announcer"
        )
        if announced:
            _log.info("catalog.public_images_announced", count=announced)
        await asyncio.sleep(interval)


async def announce_pending(uow_factory: UnitOfWorkFactory[Store]) -> int:
    total = 0
    while True:
        async with uow_factory.unit_of_work() as uow:
            images = await uow.store.claim_unannounced_public_images(BATCH)
            at = uow.now()
            for image in images:
                await commands.announce_public_image(uow, image, at)
                await uow.store.mark_announced(image.image_id, at)
        total += len(images)
        if len(images) < BATCH:
            return total
