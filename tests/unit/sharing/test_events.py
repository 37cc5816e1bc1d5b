"""Sharing's event handlers with fakes: accounts and images learnt from IAM, the catalog
and capture; stale facts ignored, facts stated for another tenant refused; a deleted or
failed image and a closed account end their memberships."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from schemas.events import (
    PLATFORM_TENANT,
    CaptureFailed,
    ImageDeleted,
    ImageUpdated,
    Project,
    PublicImageAdded,
    PublicImageRetired,
    ShareRevoked,
)
from services.common.failures import Rejected
from services.sharing.domain import Image, ImageStatus, Membership, MemberStatus
from services.sharing.domain import Project as KnownProject
from services.sharing.handlers import HANDLERS
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
from tests.fakes import FakeUnitOfWork, envelope_of
from tests.unit.sharing.fakes import (
    AT,
    UBUNTU,
    FakeStore,
    account_changed,
    capture_accepted,
    image_ready,
)

OWNER, BOB = uuid4(), uuid4()


def uow_with(store: FakeStore | None = None) -> FakeUnitOfWork[FakeStore]:
    return FakeUnitOfWork(store or FakeStore())


async def ready_image(uow: FakeUnitOfWork[FakeStore], image_id: UUID, sequence: int = 2) -> None:
    fact = envelope_of(
        image_ready(image_id, OWNER), tenant=OWNER, subject=image_id, sequence=sequence
    )
    await on_image_ready(uow, fact)


def membership_of(image_id: UUID, member: UUID) -> Membership:
    return Membership(uuid4(), image_id, member, None, MemberStatus.ACCEPTED, AT, AT)


def test_every_consumed_event_has_a_handler() -> None:
    names = {event.NAME for event in HANDLERS}
    assert names == {
        "AccountChanged",
        "CaptureAccepted",
        "ImageReady",
        "CaptureFailed",
        "ImageUpdated",
        "ImageDeleted",
        "PublicImageAdded",
        "PublicImageRetired",
    }


async def test_an_account_is_kept_as_iam_states_it_and_a_stale_state_is_ignored() -> None:
    uow = uow_with()
    prod = Project(project_id=uuid4(), name="prod", region="cn-east-1")
    await on_account_changed(
        uow,
        envelope_of(
            account_changed(BOB, "bob", projects=[prod]), tenant=BOB, subject=BOB, sequence=2
        ),
    )
    stale = account_changed(BOB, "robert")
    await on_account_changed(uow, envelope_of(stale, tenant=BOB, subject=BOB, sequence=1))
    account = uow.store.accounts[BOB]
    assert (account.name, account.kind, account.active) == ("bob", "dedicated_cloud", True)
    assert account.projects == (KnownProject(prod.project_id, "prod", "cn-east-1"),)


async def test_an_account_is_stated_only_in_its_own_name() -> None:
    uow = uow_with()
    fact = envelope_of(account_changed(BOB, "bob"), tenant=OWNER, subject=BOB)
    with pytest.raises(Rejected):
        await on_account_changed(uow, fact)
    assert uow.store.accounts == {}


async def test_a_closed_account_ends_what_it_was_offered_and_what_it_offered() -> None:
    store = FakeStore()
    uow = uow_with(store)
    await on_account_changed(
        uow, envelope_of(account_changed(OWNER, "alice"), tenant=OWNER, subject=OWNER)
    )
    image_id = uuid4()
    await ready_image(uow, image_id)
    store.memberships = {m.membership_id: m for m in [membership_of(image_id, BOB)]}
    closed = account_changed(OWNER, "alice", status="closed")
    await on_account_changed(uow, envelope_of(closed, tenant=OWNER, subject=OWNER, sequence=2))
    assert store.memberships == {}
    [revoked] = uow.emitted
    assert isinstance(revoked, ShareRevoked)
    assert (revoked.cause, revoked.owner_account_name, revoked.previous_status) == (
        "account_closed",
        "alice",
        "accepted",
    )
    assert uow.pending[0].tenant == str(OWNER)
    assert uow.pending[0].subject == str(revoked.membership_id)
    assert not store.accounts[OWNER].active


async def test_an_image_moves_from_creating_to_normal_and_a_late_fact_is_ignored() -> None:
    uow = uow_with()
    image_id = uuid4()
    await ready_image(uow, image_id, sequence=2)
    late = envelope_of(capture_accepted(image_id, OWNER), tenant=OWNER, subject=image_id)
    await on_capture_accepted(uow, late)
    image = uow.store.images[image_id]
    assert (image.status, image.owner_account_id, image.public) == (
        ImageStatus.NORMAL,
        OWNER,
        False,
    )


async def test_a_fact_about_another_owners_image_is_refused() -> None:
    uow = uow_with()
    image_id = uuid4()
    await ready_image(uow, image_id)
    theirs = capture_accepted(image_id, BOB)
    with pytest.raises(Rejected):
        await on_capture_accepted(
            uow, envelope_of(theirs, tenant=OWNER, subject=image_id, sequence=3)
        )
    with pytest.raises(Rejected):
        await on_capture_accepted(
            uow, envelope_of(theirs, tenant=BOB, subject=image_id, sequence=3)
        )
    assert uow.store.images[image_id].owner_account_id == OWNER


async def test_an_update_keeps_the_status_unless_it_overtakes_the_ready_fact() -> None:
    uow = uow_with()
    image_id = uuid4()
    accepted = envelope_of(capture_accepted(image_id, OWNER), tenant=OWNER, subject=image_id)
    await on_capture_accepted(uow, accepted)
    update = ImageUpdated(
        image_id=image_id,
        account_id=OWNER,
        name="renamed",
        publish_status="unpublished",
        updated_at=AT,
    )
    await on_image_updated(uow, envelope_of(update, tenant=OWNER, subject=image_id, sequence=3))
    assert uow.store.images[image_id].status is ImageStatus.NORMAL
    assert uow.store.images[image_id].name == "renamed"
    failed = uuid4()
    uow.store.images[failed] = Image(failed, OWNER, "f", ImageStatus.FAILED, False)
    update = ImageUpdated(
        image_id=failed, account_id=OWNER, name="again", publish_status="unpublished", updated_at=AT
    )
    await on_image_updated(uow, envelope_of(update, tenant=OWNER, subject=failed, sequence=3))
    assert uow.store.images[failed].status is ImageStatus.FAILED


@pytest.mark.parametrize("cause", ["image_deleted", "image_failed"])
async def test_a_deleted_or_failed_image_ends_its_memberships(cause: str) -> None:
    store = FakeStore()
    uow = uow_with(store)
    image_id = uuid4()
    await ready_image(uow, image_id)
    store.memberships = {m.membership_id: m for m in [membership_of(image_id, BOB)]}
    if cause == "image_deleted":
        deleted = ImageDeleted(image_id=image_id, account_id=OWNER, deleted_at=AT)
        await on_image_deleted(
            uow, envelope_of(deleted, tenant=OWNER, subject=image_id, sequence=3)
        )
    else:
        failed = CaptureFailed(
            image_id=image_id,
            account_id=OWNER,
            host_id=uuid4(),
            name="web",
            code="host_running",
            reason="r",
            failed_at=AT,
        )
        await on_capture_failed(
            uow, envelope_of(failed, tenant=OWNER, subject=image_id, sequence=3)
        )
    assert store.memberships == {}
    assert [e.cause for e in uow.emitted if isinstance(e, ShareRevoked)] == [cause]
    expected = ImageStatus.DELETED if cause == "image_deleted" else ImageStatus.FAILED
    assert store.images[image_id].status is expected


async def test_a_stale_deletion_ends_nothing() -> None:
    store = FakeStore()
    uow = uow_with(store)
    image_id = uuid4()
    await ready_image(uow, image_id, sequence=5)
    store.memberships = {m.membership_id: m for m in [membership_of(image_id, BOB)]}
    deleted = ImageDeleted(image_id=image_id, account_id=OWNER, deleted_at=AT)
    await on_image_deleted(uow, envelope_of(deleted, tenant=OWNER, subject=image_id, sequence=4))
    assert len(store.memberships) == 1
    assert uow.emitted == []


async def test_public_images_are_stated_by_the_platform_only() -> None:
    uow = uow_with()
    image_id = uuid4()
    added = PublicImageAdded(
        image_id=image_id,
        name="ubuntu",
        os=UBUNTU,
        system_disk_gb=40,
        min_memory_mb=512,
        added_at=AT,
    )
    with pytest.raises(Rejected):
        await on_public_image_added(uow, envelope_of(added, tenant=OWNER, subject=image_id))
    await on_public_image_added(uow, envelope_of(added, tenant=PLATFORM_TENANT, subject=image_id))
    image = uow.store.images[image_id]
    assert (image.public, image.owner_account_id, image.status) == (True, None, ImageStatus.NORMAL)
    retired = PublicImageRetired(image_id=image_id, retired_at=AT)
    await on_public_image_retired(
        uow, envelope_of(retired, tenant=PLATFORM_TENANT, subject=image_id, sequence=2)
    )
    assert uow.store.images[image_id].status is ImageStatus.DELETED
    assert uow.store.images[image_id].name == "ubuntu"


async def test_a_private_image_is_never_made_public() -> None:
    uow = uow_with()
    image_id = uuid4()
    await ready_image(uow, image_id)
    added = PublicImageAdded(
        image_id=image_id,
        name="ubuntu",
        os=UBUNTU,
        system_disk_gb=40,
        min_memory_mb=512,
        added_at=AT,
    )
    with pytest.raises(Rejected):
        await on_public_image_added(
            uow, envelope_of(added, tenant=PLATFORM_TENANT, subject=image_id, sequence=3)
        )
    assert not uow.store.images[image_id].public
