"""What tenants and admins read over HTTP: one function per read, on the store outside a
transaction (the API runs each through ``RequestRunner.read``). The rules of who sees what
are the domain's; these only fetch what they need."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from services.catalog import domain
from services.catalog.domain import (
    AccountRecord,
    ImageRecord,
    ListQuery,
    MembershipRecord,
    Quota,
    Tab,
    Visibility,
    launch,
)
from services.catalog.ports import Store


@dataclass(frozen=True)
class Page:
    images: list[ImageRecord]
    next_cursor: str | None
    quota: Quota | None  # on the private tab (C6)


async def list_images(store: Store, query: ListQuery) -> Page:
    """A page of a list tab (C2); the private tab with the account's quota (C6)."""
    images, next_cursor = await store.list_images(query)
    quota = None
    if query.tab is Tab.PRIVATE:
        quota = domain.quota_of(*await store.quota_standing(query.account_id))
    return Page(images, next_cursor, quota)


@dataclass(frozen=True)
class ShareTenants:
    """共享租户 (C3): how many accounts share the image; who, only for its owner."""

    count: int
    members: list[MembershipRecord] | None


@dataclass(frozen=True)
class Detail:
    image: ImageRecord
    share_tenants: ShareTenants | None  # private images only
    shows_preflight: bool  # K4: the owner's detail only


async def image_detail(store: Store, image_id: UUID, account_id: UUID) -> Detail:
    """C3: missing, deleted, or someone else's private image: all alike, not found."""
    image = await store.get_visible_image(image_id, account_id)
    if image is None:
        raise domain.not_found(image_id)
    tenants = None
    if image.visibility is Visibility.PRIVATE:
        members = await store.tenants_of(image.image_id)
        shown = domain.shows_share_members(image.owner_account_id, account_id)
        tenants = ShareTenants(len(members), members if shown else None)
    preflight = domain.may_see_preflight(image.owner_account_id, account_id)
    return Detail(image, tenants, preflight and image.preflight is not None)


async def account_quota(store: Store, account_id: UUID) -> Quota:
    """C6: an account's quota as it stands (for an admin)."""
    account = await store.get_account(account_id)
    used = await store.quota_used(account.account_id)
    return domain.quota_of(account.private_image_quota, used)


async def usage(store: Store, caller: UUID, account_id: UUID, *, is_admin: bool) -> AccountRecord:
    """C9: what an account stores, as billed."""
    domain.check_may_read_usage(caller, account_id, is_admin=is_admin)
    return await store.get_account(account_id)


async def check_launch(
    store: Store, tenant: UUID, image_id: UUID, system_disk_gb: int, memory_mb: int
) -> launch.Decision:
    """C8: may ``tenant`` create a host from the image with this disk and memory?"""
    image = await store.get_image(image_id)
    share = await store.membership(image_id, tenant)
    return launch.check(
        tenant,
        image_id,
        launch.image_of(image) if image else None,
        launch.Share(share.status, share.revoked_cause) if share else None,
        system_disk_gb,
        memory_mb,
    )
