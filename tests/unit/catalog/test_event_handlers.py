"""The catalog's event handlers on fakes: capture requests (C6), capture's facts, sharing's
facts. Each test is one unit of work on a FakeStore."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from schemas.events import (
    CaptureAccepted,
    CaptureFailed,
    CaptureProgressed,
    CaptureRefused,
    CaptureRequested,
    ImageReady,
    ImageSource,
    OperatingSystem,
    ShareAccepted,
    ShareOffered,
    ShareRevoked,
    StorageUsageChanged,
    membership_id,
)
from services.catalog.domain import AccountRecord, CaptureRequest, ImageStatus
from services.catalog.handlers import HANDLERS
from services.catalog.handlers.capture import (
    on_capture_failed,
    on_capture_progressed,
    on_capture_requested,
    on_image_ready,
)
from services.catalog.handlers.sharing import on_share_accepted, on_share_offered, on_share_revoked
from services.catalog.ports import Store
from services.common.failures import Rejected
from tests.fakes import FakeUnitOfWork, envelope_of
from tests.unit.catalog.fakes import FakeStore, new_image

AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
OWNER, OTHER = uuid4(), uuid4()


def uow_of(store: FakeStore) -> FakeUnitOfWork[Store]:
    return FakeUnitOfWork(store)


def requested(account: UUID = OWNER, image_id: UUID | None = None) -> CaptureRequested:
    return CaptureRequested(
        image_id=image_id or uuid4(), account_id=account, host_id=uuid4(), name="web-01"
    )


def creating(store: FakeStore, account: UUID = OWNER) -> UUID:
    image_id = uuid4()
    request = CaptureRequest(image_id, account, uuid4(), "web-01", "")
    store.images[image_id] = new_image(request, ImageStatus.CREATING, AT, accepted_at=AT)
    return image_id


def ready(image_id: UUID, account: UUID = OWNER, size: int = 1000) -> ImageReady:
    return ImageReady(
        image_id=image_id,
        account_id=account,
        name="web-01",
        source=ImageSource(host_id=uuid4(), host_name="host"),
        os=OperatingSystem(family="linux", distro="CentOS", version="7.6"),
        system_disk_gb=40,
        min_memory_mb=1024,
        disk_format="qcow2",
        size_bytes=size,
        virtual_size_bytes=size * 4,
        checksum_sha256="a" * 64,
        location="images/x.qcow2",
        finished_at=AT,
    )


def test_every_consumed_event_has_its_handler() -> None:
    assert {t.__name__ for t in HANDLERS} == {
        "CaptureRequested",
        "CaptureProgressed",
        "ImageReady",
        "CaptureFailed",
        "ShareOffered",
        "ShareAccepted",
        "ShareRejected",
        "ShareRevoked",
    }


# --- capture requests (C6) ----------------------------------------------------------------


async def test_a_request_within_the_quota_is_admitted_and_accepted() -> None:
    store, request = FakeStore(), requested()
    uow = uow_of(store)
    await on_capture_requested(uow, envelope_of(request, tenant=OWNER, subject=request.image_id))
    assert store.images[request.image_id].status is ImageStatus.CREATING
    [accepted] = uow.emitted
    assert isinstance(accepted, CaptureAccepted)
    assert accepted.image_id == request.image_id


async def test_a_request_over_the_quota_fails_the_image_and_says_why() -> None:
    store, request = FakeStore(), requested()
    store.accounts[OWNER] = AccountRecord(OWNER, 1, 0, 0, None)
    creating(store)
    uow = uow_of(store)
    await on_capture_requested(uow, envelope_of(request, tenant=OWNER, subject=request.image_id))
    image = store.images[request.image_id]
    assert (image.status, image.failure_code) == (ImageStatus.FAILED, "quota_exceeded")
    [refused] = uow.emitted
    assert isinstance(refused, CaptureRefused)
    assert (refused.code, refused.quota_limit, refused.quota_used) == ("quota_exceeded", 1, 1)


async def test_a_request_the_api_registered_is_only_accepted() -> None:
    store, request = FakeStore(), requested()
    registered = CaptureRequest(request.image_id, OWNER, request.host_id, request.name, "")
    await store.register_request(registered, AT)
    uow = uow_of(store)
    await on_capture_requested(uow, envelope_of(request, tenant=OWNER, subject=request.image_id))
    assert store.images[request.image_id].accepted_at is not None
    assert [type(e) for e in uow.emitted] == [CaptureAccepted]
    again = uow_of(store)  # the same request redelivered: one effect
    await on_capture_requested(again, envelope_of(request, tenant=OWNER, subject=request.image_id))
    assert again.emitted == []


async def test_a_request_in_another_tenants_name_is_refused() -> None:
    store, request = FakeStore(), requested()
    with pytest.raises(Rejected):
        await on_capture_requested(
            uow_of(store), envelope_of(request, tenant=OTHER, subject=request.image_id)
        )
    assert store.images == {}


async def test_a_request_for_an_id_another_account_holds_is_refused() -> None:
    store = FakeStore()
    taken = creating(store, OTHER)
    request = requested(image_id=taken)
    with pytest.raises(Rejected, match="taken by another image"):
        await on_capture_requested(uow_of(store), envelope_of(request, tenant=OWNER, subject=taken))


# --- capture's facts ------------------------------------------------------------------------


async def test_progress_is_recorded_and_a_stale_fact_ignored() -> None:
    store = FakeStore()
    image_id = creating(store)
    uow = uow_of(store)
    fact = CaptureProgressed(image_id=image_id, account_id=OWNER, percent=40)
    await on_capture_progressed(uow, envelope_of(fact, tenant=OWNER, subject=image_id, sequence=3))
    older = CaptureProgressed(image_id=image_id, account_id=OWNER, percent=20)
    await on_capture_progressed(uow, envelope_of(older, tenant=OWNER, subject=image_id, sequence=2))
    assert store.images[image_id].progress == 40


async def test_a_fact_naming_the_wrong_owner_is_refused() -> None:
    store = FakeStore()
    image_id = creating(store)
    fact = CaptureProgressed(image_id=image_id, account_id=OTHER, percent=40)
    with pytest.raises(Rejected, match="does not own"):
        await on_capture_progressed(
            uow_of(store), envelope_of(fact, tenant=OTHER, subject=image_id, sequence=2)
        )
    assert store.images[image_id].progress == 0


async def test_a_ready_image_is_normal_and_its_bytes_are_announced() -> None:
    store = FakeStore()
    image_id = creating(store)
    store.accounts[OWNER] = AccountRecord(OWNER, None, 0, 0, None)
    uow = uow_of(store)
    await on_image_ready(uow, envelope_of(ready(image_id), tenant=OWNER, subject=image_id))
    image = store.images[image_id]
    assert (image.status, image.progress, image.size_bytes) == (ImageStatus.NORMAL, 100, 1000)
    [usage] = uow.emitted
    assert isinstance(usage, StorageUsageChanged)
    assert (usage.stored_bytes, usage.stored_images, usage.delta_bytes) == (1000, 1, 1000)
    assert store.accounts[OWNER].stored_bytes == 1000


async def test_a_ready_fact_for_an_image_past_creating_changes_nothing() -> None:
    store = FakeStore()
    image_id = creating(store)
    await on_image_ready(
        uow_of(store), envelope_of(ready(image_id), tenant=OWNER, subject=image_id)
    )
    uow = uow_of(store)
    again = envelope_of(ready(image_id, size=5), tenant=OWNER, subject=image_id, sequence=2)
    await on_image_ready(uow, again)
    assert (store.images[image_id].size_bytes, uow.emitted) == (1000, [])


async def test_a_failed_capture_fails_the_image() -> None:
    store = FakeStore()
    image_id = creating(store)
    fact = CaptureFailed(
        image_id=image_id,
        account_id=OWNER,
        host_id=uuid4(),
        name="web-01",
        code="host_running",
        reason="云主机正在运行",
        failed_at=AT,
    )
    uow = uow_of(store)
    await on_capture_failed(uow, envelope_of(fact, tenant=OWNER, subject=image_id))
    image = store.images[image_id]
    assert (image.status, image.failure_code) == (ImageStatus.FAILED, "host_running")
    assert uow.emitted == []  # a failed image stored nothing


# --- sharing's facts --------------------------------------------------------------------------


def offered(image_id: UUID, member: UUID = OTHER, owner: UUID = OWNER) -> ShareOffered:
    return ShareOffered(
        membership_id=membership_id(image_id, member),
        image_id=image_id,
        image_name="web-01",
        owner_account_id=owner,
        owner_account_name="owner",
        member_account_id=member,
        member_account_name="member",
        offered_at=AT,
    )


async def test_an_offer_then_its_answer_are_kept() -> None:
    store = FakeStore()
    image_id = creating(store)
    offer = offered(image_id)
    uow = uow_of(store)
    await on_share_offered(uow, envelope_of(offer, tenant=OWNER, subject=offer.membership_id))
    answer = ShareAccepted(**offer.model_dump(exclude={"offered_at"}), accepted_at=AT)
    await on_share_accepted(
        uow, envelope_of(answer, tenant=OTHER, subject=offer.membership_id, sequence=2)
    )
    kept = store.memberships[offer.membership_id]
    assert (kept.status, kept.offered_at) == ("accepted", AT)


async def test_a_stale_membership_fact_is_ignored() -> None:
    store = FakeStore()
    image_id = creating(store)
    offer = offered(image_id)
    uow = uow_of(store)
    revoked = ShareRevoked(
        **offer.model_dump(exclude={"offered_at"}),
        cause="tenant_removed",
        previous_status="pending",
        revoked_at=AT,
    )
    await on_share_revoked(
        uow, envelope_of(revoked, tenant=OWNER, subject=offer.membership_id, sequence=2)
    )
    await on_share_offered(
        uow, envelope_of(offer, tenant=OWNER, subject=offer.membership_id, sequence=1)
    )
    kept = store.memberships[offer.membership_id]
    assert (kept.status, kept.revoked_cause) == ("revoked", "tenant_removed")


async def test_an_offer_stated_by_the_member_is_refused() -> None:
    store = FakeStore()
    offer = offered(creating(store))
    with pytest.raises(Rejected):
        await on_share_offered(
            uow_of(store), envelope_of(offer, tenant=OTHER, subject=offer.membership_id)
        )
    assert store.memberships == {}


async def test_an_offer_naming_the_wrong_owner_is_refused() -> None:
    store = FakeStore()
    someone = uuid4()
    offer = offered(creating(store), owner=someone)
    with pytest.raises(Rejected, match="does not own"):
        await on_share_offered(
            uow_of(store), envelope_of(offer, tenant=someone, subject=offer.membership_id)
        )
    assert store.memberships == {}
