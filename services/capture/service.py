"""Capture's composition root: its store, its event handlers, the capture workers, the
hosts API."""

from __future__ import annotations

from services.capture.adapters.disks import BlockStorage
from services.capture.adapters.image_store import DirectoryImageStore, ImageStore
from services.capture.api import install_routes
from services.capture.config import CaptureSettings
from services.capture.handlers import build_handlers
from services.capture.jobs.worker import CaptureWorker
from services.capture.ports import Store
from services.capture.store import CaptureStore
from services.common.runtime import BackgroundJob, ServiceDefinition
from services.common.uow import UnitOfWorkFactory

NAME = "capture"


def build(settings: CaptureSettings) -> ServiceDefinition[Store]:
    images = DirectoryImageStore(settings.image_store)
    workers = (_worker(settings, images),) * settings.capture_jobs_per_process
    return ServiceDefinition(
        name=NAME,
        store=CaptureStore,
        handlers=build_handlers(images),
        install_routes=install_routes,
        background=workers,
    )


def _worker(settings: CaptureSettings, images: ImageStore) -> BackgroundJob[Store]:
    disks = BlockStorage(
        settings.block_storage,
        read_bytes_per_second=settings.capture_read_mib_per_second * 1024 * 1024,
    )

    async def run_worker(uow_factory: UnitOfWorkFactory[Store]) -> None:
        worker = CaptureWorker(
            uow_factory,
            images,
            disks,
            lease_seconds=settings.job_lease_seconds,
            host_facts_grace=settings.host_facts_grace_seconds,
        )
        await worker.run()

    return run_worker
