"""An in-memory :class:`services.sharing.ports.Store` that keeps the promises of
:class:`services.sharing.store.SharingStore` (orders, filters, the latest account of a
name), and builders of the facts sharing consumes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID, uuid4

from schemas.events import (
    AccountChanged,
    CaptureAccepted,
    ImageReady,
    ImageSource,
    OperatingSystem,
    Project,
)
from services.sharing.domain import Account, Image, Membership, MemberStatus

AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
UBUNTU = OperatingSystem(family="linux", distro="Ubuntu", version="22.04")


class FakeStore:
    def __init__(self) -> None:
        self.accounts: dict[UUID, Account] = {}
        self.account_times: dict[UUID, datetime] = {}
        self.images: dict[UUID, Image] = {}
        self.memberships: dict[UUID, Membership] = {}

    async def upsert_account(self, account: Account, at: datetime) -> None:
        self.accounts[account.account_id] = account
        self.account_times[account.account_id] = at

    async def accounts_by_name(self, names: Iterable[str]) -> dict[str, Account]:
        wanted = set(names)
        latest: dict[str, Account] = {}
        for account in self.accounts.values():
            if account.name not in wanted or not account.active:
                continue
            known = latest.get(account.name)
            if known is None or self._changed(account) > self._changed(known):
                latest[account.name] = account
        return latest

    async def lock_account(self, account_id: UUID) -> Account | None:
        return self.accounts.get(account_id)

    async def account_names(self, account_ids: Iterable[UUID]) -> dict[UUID, str]:
        return {i: self.accounts[i].name for i in set(account_ids) if i in self.accounts}

    async def lock_images(self, image_ids: Iterable[UUID]) -> dict[UUID, Image]:
        return {i: self.images[i] for i in sorted(set(image_ids)) if i in self.images}

    async def get_image(self, image_id: UUID) -> Image | None:
        return self.images.get(image_id)

    async def save_image(self, image: Image, at: datetime) -> None:
        self.images[image.image_id] = image

    async def members_of(self, image_id: UUID) -> list[Membership]:
        found = [m for m in self.memberships.values() if m.image_id == image_id]
        return sorted(found, key=lambda m: (m.offered_at, m.membership_id))

    async def count_members(self, image_id: UUID) -> int:
        return len(await self.members_of(image_id))

    async def insert_memberships(self, memberships: Sequence[Membership]) -> None:
        for m in memberships:
            pair = {(k.image_id, k.member_account_id) for k in self.memberships.values()}
            assert m.membership_id not in self.memberships, "duplicate membership id"
            assert (m.image_id, m.member_account_id) not in pair, "duplicate membership"
            self.memberships[m.membership_id] = m

    async def lock_offers_to(
        self,
        member: UUID,
        *,
        image_ids: Sequence[UUID] | None = None,
        status: MemberStatus | None = None,
    ) -> list[tuple[Membership, Image]]:
        return [
            (m, self.images[m.image_id])
            for m in sorted(self.memberships.values(), key=lambda m: m.membership_id)
            if m.member_account_id == member
            and (image_ids is None or m.image_id in image_ids)
            and (status is None or m.status is status)
        ]

    async def set_status(
        self, membership_ids: Sequence[UUID], status: MemberStatus, at: datetime
    ) -> None:
        for i in membership_ids:
            self.memberships[i] = replace(self.memberships[i], status=status, answered_at=at)

    async def delete_members(self, image_id: UUID, member: UUID | None = None) -> list[Membership]:
        ended = [
            m
            for m in self.memberships.values()
            if m.image_id == image_id and member in (None, m.member_account_id)
        ]
        return self._delete(ended)

    async def delete_memberships_of_account(
        self, account_id: UUID
    ) -> list[tuple[Membership, Image]]:
        ended = [
            m
            for m in self.memberships.values()
            if account_id in (m.member_account_id, self.images[m.image_id].owner_account_id)
        ]
        return [(m, self.images[m.image_id]) for m in self._delete(ended)]

    async def offers_to(
        self,
        member: UUID,
        status: MemberStatus | None,
        limit: int,
        after: tuple[datetime, UUID] | None,
    ) -> list[tuple[Membership, Image]]:
        found = [
            m
            for m in self.memberships.values()
            if m.member_account_id == member
            and (status is None or m.status is status)
            and (after is None or (m.offered_at, m.membership_id) < after)
        ]
        found.sort(key=lambda m: (m.offered_at, m.membership_id), reverse=True)
        return [(m, self.images[m.image_id]) for m in found[:limit]]

    def _changed(self, account: Account) -> datetime:
        return self.account_times[account.account_id]

    def _delete(self, ended: list[Membership]) -> list[Membership]:
        for m in ended:
            del self.memberships[m.membership_id]
        return sorted(ended, key=lambda m: m.membership_id)


def account_changed(
    account_id: UUID,
    name: str,
    *,
    projects: Sequence[Project] = (),
    status: str = "active",
) -> AccountChanged:
    kind = "dedicated_cloud" if projects else "standard"
    return AccountChanged.model_validate(
        {
            "account_id": account_id,
            "name": name,
            "kind": kind,
            "projects": [p.model_dump() for p in projects],
            "status": status,
        }
    )


def capture_accepted(image_id: UUID, owner: UUID, name: str = "web") -> CaptureAccepted:
    return CaptureAccepted(
        image_id=image_id, account_id=owner, host_id=uuid4(), name=name, requested_at=AT
    )


def image_ready(image_id: UUID, owner: UUID, name: str = "web") -> ImageReady:
    return ImageReady(
        image_id=image_id,
        account_id=owner,
        name=name,
        source=ImageSource(host_id=uuid4(), host_name="ecs-src"),
        os=UBUNTU,
        system_disk_gb=40,
        min_memory_mb=1024,
        disk_format="raw",
        size_bytes=4096,
        virtual_size_bytes=40 * 1024**3,
        checksum_sha256="0" * 64,
        location=f"/images/{image_id}.raw",
        finished_at=AT,
    )
