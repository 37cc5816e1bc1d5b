"""The catalog's command and read handlers on fakes: what the API asks (C3-C9)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from schemas.events import CaptureRequested, ImageDeleted, ImageUpdated, StorageUsageChanged
from services.catalog.domain import (
    AccountRecord,
    CaptureRequest,
    ImageStatus,
    MembershipRecord,
    PublishStatus,
)
from services.catalog.handlers import commands, queries
from services.catalog.ports import Store
from services.common.refusals import Refusal
from tests.fakes import FakeUnitOfWork
from tests.unit.catalog.fakes import FakeStore, new_image

AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
OWNER, MEMBER, HOST = uuid4(), uuid4(), uuid4()


def uow_of(store: FakeStore) -> FakeUnitOfWork[Store]:
    return FakeUnitOfWork(store)


def create(key: str | None = None, name: str = "web-01") -> commands.CreateImage:
    return commands.CreateImage(OWNER, HOST, name, "", idempotency_key=key)


def normal(store: FakeStore, account: UUID = OWNER, **more: object) -> UUID:
    image_id = uuid4()
    request = CaptureRequest(image_id, account, uuid4(), "web-01", "")
    store.images[image_id] = new_image(request, ImageStatus.NORMAL, AT, size_bytes=10, **more)
    return image_id


def test_a_create_command_names_one_image_however_often_it_is_read() -> None:
    command = create()
    assert command.image_id == command.image_id
    assert create("k").image_id == create("k").image_id
    assert create().image_id != create().image_id


async def test_create_registers_the_image_and_sends_the_request_out() -> None:
    store, command = FakeStore(), create()
    uow = uow_of(store)
    created = await commands.create_image(uow, command)
    assert created.image.image_id == command.image_id
    assert store.images[command.image_id].status is ImageStatus.CREATING
    assert (created.quota.limit, created.quota.used) == (10, 1)
    [request] = uow.emitted
    assert isinstance(request, CaptureRequested)
    assert request.image_id == command.image_id


async def test_create_over_the_quota_is_refused_and_writes_nothing() -> None:
    store = FakeStore()
    store.accounts[OWNER] = AccountRecord(OWNER, 0, 0, 0, None)
    uow = uow_of(store)
    with pytest.raises(Refusal) as refused:
        await commands.create_image(uow, create())
    assert refused.value.code == "quota_exceeded"
    assert (store.images, uow.emitted) == ({}, [])


async def test_create_retried_with_its_key_answers_the_same_image() -> None:
    store = FakeStore()
    first = await commands.create_image(uow_of(store), create("key-1"))
    uow = uow_of(store)
    again = await commands.create_image(uow, create("key-1"))
    assert (again.image.image_id, uow.emitted) == (first.image.image_id, [])
    with pytest.raises(Refusal) as reused:
        await commands.create_image(uow_of(store), create("key-1", name="other"))
    assert reused.value.code == "idempotency_key_reused"


async def test_modify_announces_the_change_and_refuses_an_empty_one() -> None:
    store = FakeStore()
    image_id = normal(store)
    uow = uow_of(store)
    image = await commands.modify_image(uow, OWNER, image_id, name="web-02", description=None)
    assert image.name == "web-02"
    assert [type(e) for e in uow.emitted] == [ImageUpdated]
    with pytest.raises(Refusal) as empty:
        await commands.modify_image(uow, OWNER, image_id, name=None, description=None)
    assert empty.value.code == "nothing_to_update"


async def test_someone_elses_private_image_is_not_found() -> None:
    store = FakeStore()
    image_id = normal(store, MEMBER)
    with pytest.raises(Refusal) as missing:
        await commands.delete_image(uow_of(store), OWNER, image_id)
    assert missing.value.code == "image_not_found"


async def test_delete_announces_it_and_restates_the_stored_bytes() -> None:
    store = FakeStore()
    image_id = normal(store)
    store.accounts[OWNER] = AccountRecord(OWNER, None, 10, 1, None)
    uow = uow_of(store)
    await commands.delete_image(uow, OWNER, image_id)
    assert store.images[image_id].status is ImageStatus.DELETED
    assert [type(e) for e in uow.emitted] == [ImageDeleted, StorageUsageChanged]
    assert store.accounts[OWNER].stored_bytes == 0


async def test_a_published_image_is_not_deleted() -> None:
    store = FakeStore()
    image_id = normal(store, publish_status=PublishStatus.PUBLISHED)
    with pytest.raises(Refusal) as published:
        await commands.delete_image(uow_of(store), OWNER, image_id)
    assert published.value.code == "image_published"
    assert store.images[image_id].status is ImageStatus.NORMAL


async def test_publishing_twice_announces_once() -> None:
    store = FakeStore()
    image_id = normal(store)
    uow = uow_of(store)
    await commands.set_publish_status(uow, image_id, PublishStatus.PUBLISHED)
    await commands.set_publish_status(uow, image_id, PublishStatus.PUBLISHED)
    assert [type(e) for e in uow.emitted] == [ImageUpdated]


async def test_a_lower_quota_keeps_the_images_held() -> None:
    store = FakeStore()
    normal(store)
    normal(store)
    quota = await commands.set_quota(uow_of(store), OWNER, 1)
    assert (quota.limit, quota.used, quota.remaining) == (1, 2, 0)


# --- reads: who sees what (C3, C9, K4) ------------------------------------------------------


def share(image_id: UUID, status: str = "accepted") -> MembershipRecord:
    return MembershipRecord(
        uuid4(), image_id, OWNER, MEMBER, "member", None, None, status, None, AT, AT
    )


async def test_the_owner_sees_the_preflight_and_the_share_tenants_a_member_does_not() -> None:
    store = FakeStore()
    image_id = normal(store, preflight={"status": "passed", "findings": []})
    tenant = share(image_id)
    store.memberships[tenant.membership_id] = tenant
    mine = await queries.image_detail(store, image_id, OWNER)
    assert mine.shows_preflight
    assert mine.share_tenants == queries.ShareTenants(1, [tenant])
    theirs = await queries.image_detail(store, image_id, MEMBER)
    assert not theirs.shows_preflight
    assert theirs.share_tenants == queries.ShareTenants(1, None)


async def test_a_revoked_member_no_longer_sees_the_image() -> None:
    store = FakeStore()
    image_id = normal(store)
    tenant = replace(share(image_id), status="revoked")
    store.memberships[tenant.membership_id] = tenant
    with pytest.raises(Refusal) as missing:
        await queries.image_detail(store, image_id, MEMBER)
    assert missing.value.code == "image_not_found"


async def test_only_an_admin_reads_another_accounts_usage() -> None:
    store = FakeStore()
    with pytest.raises(Refusal) as refused:
        await queries.usage(store, MEMBER, OWNER, is_admin=False)
    assert refused.value.code == "forbidden"
    assert (await queries.usage(store, MEMBER, OWNER, is_admin=True)).account_id == OWNER


async def test_the_launch_check_needs_an_accepted_share() -> None:
    store = FakeStore()
    image_id = normal(store, system_disk_gb=40)
    tenant = share(image_id, "pending")
    store.memberships[tenant.membership_id] = tenant
    pending = await queries.check_launch(store, MEMBER, image_id, 40, 1024)
    assert [f.code for f in pending.reasons] == ["share_not_accepted"]
    store.memberships[tenant.membership_id] = replace(tenant, status="accepted")
    assert (await queries.check_launch(store, MEMBER, image_id, 40, 1024)).allowed
