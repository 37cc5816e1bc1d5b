"""Capture's event handlers with fakes: hosts learnt from ECS, captures queued, a deleted
image's file removed; stale facts ignored, facts stated for another tenant refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from schemas.events import CaptureAccepted, HostChanged, HostDisk, ImageDeleted, OperatingSystem
from services.capture.adapters.image_store import DirectoryImageStore
from services.capture.domain import CaptureRequest
from services.capture.handlers import build_handlers
from services.capture.handlers.events import (
    on_capture_accepted,
    on_host_changed,
    on_image_deleted,
)
from services.common.failures import Rejected
from tests.fakes import FakeUnitOfWork, envelope_of
from tests.unit.capture.fakes import FakeImageStore, FakeStore

AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
LINUX = OperatingSystem(family="linux", distro="Debian", version="12")


def host_changed(account: UUID, host_id: UUID, state: str = "stopped") -> HostChanged:
    return HostChanged(
        host_id=host_id,
        account_id=account,
        name="ecs-1",
        os=LINUX,
        state=state,
        memory_mb=2048,
        system_disk=HostDisk(disk_id=uuid4(), path="/d/1", format="raw", size_gb=40),
        data_disks=[HostDisk(disk_id=uuid4(), path="/d/2", format="qcow2", size_gb=10)],
    )


def accepted(account: UUID, image_id: UUID) -> CaptureAccepted:
    return CaptureAccepted(
        image_id=image_id,
        account_id=account,
        host_id=uuid4(),
        name="web",
        description="d",
        strict_preflight=True,
        requested_at=AT,
    )


async def test_a_host_change_is_stored_as_the_hosts_version() -> None:
    uow, account, host_id = FakeUnitOfWork(FakeStore()), uuid4(), uuid4()
    fact = host_changed(account, host_id)
    await on_host_changed(uow, envelope_of(fact, tenant=account, subject=host_id, sequence=3))
    host = uow.store.hosts[host_id]
    assert (host.account_id, host.state, host.version, host.memory_mb) == (
        account,
        "stopped",
        3,
        2048,
    )
    assert host.data_disks == tuple(fact.data_disks)


async def test_a_stale_host_change_is_ignored() -> None:
    uow, account, host_id = FakeUnitOfWork(FakeStore()), uuid4(), uuid4()
    newer = host_changed(account, host_id, "running")
    await on_host_changed(uow, envelope_of(newer, tenant=account, subject=host_id, sequence=5))
    older = host_changed(account, host_id, "stopped")
    await on_host_changed(uow, envelope_of(older, tenant=account, subject=host_id, sequence=4))
    assert (uow.store.hosts[host_id].state, uow.store.hosts[host_id].version) == ("running", 5)


async def test_a_host_change_stated_by_another_tenant_is_refused() -> None:
    uow, host_id = FakeUnitOfWork(FakeStore()), uuid4()
    fact = host_changed(uuid4(), host_id)
    with pytest.raises(Rejected):
        await on_host_changed(uow, envelope_of(fact, tenant=uuid4(), subject=host_id))
    assert uow.store.hosts == {}


async def test_an_accepted_capture_is_queued_once_with_its_correlation() -> None:
    correlation = uuid4()
    uow = FakeUnitOfWork(FakeStore(), correlation_id=correlation)
    account, image_id = uuid4(), uuid4()
    event = envelope_of(accepted(account, image_id), tenant=account, subject=image_id, sequence=2)
    await on_capture_accepted(uow, event)
    await on_capture_accepted(uow, event)
    row = uow.store.jobs[image_id]
    assert row.status == "queued"
    assert row.request == CaptureRequest(
        image_id=image_id,
        account_id=account,
        host_id=event.data.host_id,
        name="web",
        description="d",
        strict_preflight=True,
        correlation_id=correlation,
    )
    assert uow.emitted == []


async def test_an_accepted_capture_for_another_tenant_is_refused() -> None:
    uow, image_id = FakeUnitOfWork(FakeStore()), uuid4()
    event = envelope_of(accepted(uuid4(), image_id), tenant=uuid4(), subject=image_id)
    with pytest.raises(Rejected):
        await on_capture_accepted(uow, event)
    assert uow.store.jobs == {}


async def deleted_image(
    store: FakeStore, images: FakeImageStore, account: UUID, image_id: UUID, *, sequence: int
) -> None:
    uow = FakeUnitOfWork(store)
    await uow.apply_version("image", str(image_id), 4)
    deleted = ImageDeleted(image_id=image_id, account_id=account, deleted_at=AT)
    event = envelope_of(deleted, tenant=account, subject=image_id, sequence=sequence)
    await on_image_deleted(uow, event, images)


async def test_a_deleted_image_has_its_file_removed() -> None:
    store, images, account, image_id = FakeStore(), FakeImageStore(), uuid4(), uuid4()
    await store.insert_job(CaptureRequest(image_id, account, uuid4(), "n", "", False, None))
    await deleted_image(store, images, account, image_id, sequence=5)
    assert images.removed == [image_id]


async def test_a_stale_deletion_removes_nothing() -> None:
    store, images, account, image_id = FakeStore(), FakeImageStore(), uuid4(), uuid4()
    await deleted_image(store, images, account, image_id, sequence=4)
    assert images.removed == []


async def test_a_deletion_of_another_accounts_image_is_refused() -> None:
    store, images, image_id = FakeStore(), FakeImageStore(), uuid4()
    await store.insert_job(CaptureRequest(image_id, uuid4(), uuid4(), "n", "", False, None))
    with pytest.raises(Rejected, match="does not own"):
        await deleted_image(store, images, uuid4(), image_id, sequence=5)
    assert images.removed == []


def test_the_registry_handles_the_three_consumed_events() -> None:
    handlers = build_handlers(DirectoryImageStore(Path("/nonexistent")))
    assert set(handlers) == {HostChanged, CaptureAccepted, ImageDeleted}
    assert handlers.handler_for(HostChanged) is on_host_changed
    assert handlers.handler_for(CaptureAccepted) is on_capture_accepted
