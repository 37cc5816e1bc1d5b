"""The capture service's composition: its handlers, the capture workers, the hosts API."""

from __future__ import annotations

from typing import Any

from services.capture.api import install_routes
from services.capture.config import CaptureSettings
from services.capture.disks import BlockStorage
from services.capture.handlers import build_handlers
from services.capture.image_store import DirectoryImageStore
from services.capture.worker import CaptureWorker
from services.common.handlers import Handlers
from services.common.runtime import ServiceDefinition
from services.common.uow import UnitOfWorkFactory, connection_store

NAME = "capture"


def build(settings: CaptureSettings) -> ServiceDefinition[Any]:
    images = DirectoryImageStore(settings.image_store)
    disks = BlockStorage(
        settings.block_storage,
        read_bytes_per_second=settings.capture_read_mib_per_second * 1024 * 1024,
    )

    async def run_worker(uow_factory: UnitOfWorkFactory[Any]) -> None:
        worker = CaptureWorker(
            uow_factory,
            images,
            disks,
            lease_seconds=settings.job_lease_seconds,
            host_facts_grace=settings.host_facts_grace_seconds,
        )
        await worker.run()

    workers = (run_worker,) * settings.capture_jobs_per_process
    return ServiceDefinition(
        name=NAME,
        store=connection_store,
        handlers=Handlers.from_mapping(build_handlers(images)),
        install_routes=lambda app, uow_factory: install_routes(app, uow_factory.pool),
        background=workers,
    )
