"""The catalog's store in memory: :class:`FakeStore` keeps the promises of
``services.catalog.ports.Store`` that ``services.catalog.store.CatalogStore`` keeps in SQL
(who may see an image, which images hold a quota slot, the admission in one step)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import UUID

from services.catalog.domain import (
    HOLDS_QUOTA,
    AccountRecord,
    Admission,
    CaptureRequest,
    FailedCapture,
    FinishedCapture,
    ImageRecord,
    ImageStatus,
    ListQuery,
    MembershipRecord,
    NewPublicImage,
    PublishStatus,
    Tab,
    Visibility,
)
from services.common.cursors import decode_time_cursor, encode_cursor


def new_image(
    request: CaptureRequest, status: ImageStatus, at: datetime, **more: object
) -> ImageRecord:
    values: dict[str, object] = {
        "image_id": request.image_id,
        "visibility": Visibility.PRIVATE,
        "owner_account_id": request.account_id,
        "name": request.name,
        "description": request.description,
        "status": status,
        "progress": 0,
        "os": None,
        "system_disk_gb": None,
        "min_memory_mb": None,
        "disk_format": None,
        "size_bytes": None,
        "virtual_size_bytes": None,
        "checksum_sha256": None,
        "source_host_id": request.host_id,
        "source_host_name": None,
        "publish_status": PublishStatus.UNPUBLISHED,
        "failure_code": None,
        "failure_reason": None,
        "created_at": at,
        "updated_at": at,
        **more,
    }
    return ImageRecord(**values)  # type: ignore[arg-type]


class FakeStore:
    """Images, accounts and memberships in dicts; every method as the SQL does it."""

    def __init__(self) -> None:
        self.images: dict[UUID, ImageRecord] = {}
        self.accounts: dict[UUID, AccountRecord] = {}
        self.memberships: dict[UUID, MembershipRecord] = {}
        self.locations: dict[UUID, str] = {}
        self.announced: set[UUID] = set()

    # --- accounts ---
    async def lock_account(self, account_id: UUID) -> AccountRecord:
        return self.accounts.setdefault(account_id, AccountRecord(account_id, None, 0, 0, None))

    async def get_account(self, account_id: UUID) -> AccountRecord:
        return self.accounts.get(account_id, AccountRecord(account_id, None, 0, 0, None))

    async def quota_used(self, account_id: UUID) -> int:
        return sum(
            1
            for i in self.images.values()
            if i.owner_account_id == account_id and i.status in HOLDS_QUOTA
        )

    async def set_quota(self, account_id: UUID, limit: int, at: datetime) -> None:
        if account_id in self.accounts:
            self.accounts[account_id] = replace(
                self.accounts[account_id], private_image_quota=limit, updated_at=at
            )

    async def stored(self, account_id: UUID) -> tuple[int, int]:
        normal = [
            i
            for i in self.images.values()
            if i.owner_account_id == account_id and i.status is ImageStatus.NORMAL
        ]
        return sum(i.size_bytes or 0 for i in normal), len(normal)

    async def record_stored(
        self, account_id: UUID, stored_bytes: int, stored_images: int, at: datetime
    ) -> None:
        if account_id in self.accounts:
            self.accounts[account_id] = replace(
                self.accounts[account_id],
                stored_bytes=stored_bytes,
                stored_images=stored_images,
                updated_at=at,
            )

    async def quota_standing(self, account_id: UUID) -> tuple[int | None, int]:
        account = self.accounts.get(account_id)
        quota = account.private_image_quota if account else None
        return quota, await self.quota_used(account_id)

    # --- changes ---
    def _present(self, image_id: UUID) -> ImageRecord | None:
        image = self.images.get(image_id)
        return image if image is not None and image.status is not ImageStatus.DELETED else None

    async def lock_visible_image(self, image_id: UUID, account_id: UUID) -> ImageRecord | None:
        image = self._present(image_id)
        if image is None:
            return None
        visible = image.visibility is Visibility.PUBLIC or image.owner_account_id == account_id
        return image if visible else None

    async def lock_image(self, image_id: UUID) -> ImageRecord | None:
        return self._present(image_id)

    def _update(self, image_id: UUID, **changes: object) -> ImageRecord:
        image = replace(self.images[image_id], **changes)  # type: ignore[arg-type]
        self.images[image_id] = image
        return image

    async def update_text(
        self, image_id: UUID, name: str, description: str, at: datetime
    ) -> ImageRecord:
        return self._update(image_id, name=name, description=description, updated_at=at)

    async def set_publish_status(
        self, image_id: UUID, status: PublishStatus, at: datetime
    ) -> ImageRecord:
        return self._update(image_id, publish_status=status, updated_at=at)

    async def mark_deleted(self, image_id: UUID, at: datetime) -> None:
        if image_id in self.images:
            self._update(image_id, status=ImageStatus.DELETED, updated_at=at)

    # --- images ---
    def _creating(self, image_id: UUID, owner: UUID) -> bool:
        image = self.images.get(image_id)
        return (
            image is not None
            and image.owner_account_id == owner
            and image.status is ImageStatus.CREATING
        )

    async def record_progress(
        self, image_id: UUID, owner: UUID, percent: int, at: datetime
    ) -> bool:
        if not self._creating(image_id, owner):
            return False
        self._update(image_id, progress=percent, updated_at=at)
        return True

    async def mark_ready(self, ready: FinishedCapture) -> bool:
        if not self._creating(ready.image_id, ready.account_id):
            return False
        self.locations[ready.image_id] = ready.location
        self._update(
            ready.image_id,
            status=ImageStatus.NORMAL,
            progress=100,
            name=ready.name,
            description=ready.description,
            os=ready.os,
            system_disk_gb=ready.system_disk_gb,
            min_memory_mb=ready.min_memory_mb,
            disk_format=ready.disk_format,
            size_bytes=ready.size_bytes,
            virtual_size_bytes=ready.virtual_size_bytes,
            checksum_sha256=ready.checksum_sha256,
            source_host_id=ready.source_host_id,
            source_host_name=ready.source_host_name,
            updated_at=ready.finished_at,
            preflight=ready.preflight,
            keeps_source_password=ready.keeps_source_password,
        )
        return True

    async def mark_failed(self, failed: FailedCapture) -> bool:
        if not self._creating(failed.image_id, failed.account_id):
            return False
        image = self.images[failed.image_id]
        self._update(
            failed.image_id,
            status=ImageStatus.FAILED,
            failure_code=failed.code,
            failure_reason=failed.reason,
            updated_at=failed.failed_at,
            preflight=failed.preflight if failed.preflight is not None else image.preflight,
        )
        return True

    async def owner_of(self, image_id: UUID) -> UUID | None:
        image = self.images.get(image_id)
        return image.owner_account_id if image else None

    async def get_image(self, image_id: UUID) -> ImageRecord | None:
        return self.images.get(image_id)

    def _shared(self, image: ImageRecord) -> ImageRecord:
        shared = any(
            m.image_id == image.image_id and m.status != "revoked"
            for m in self.memberships.values()
        )
        return replace(image, shared=shared)

    def _member(self, image_id: UUID, account_id: UUID, statuses: set[str]) -> bool:
        return any(
            m.image_id == image_id and m.member_account_id == account_id and m.status in statuses
            for m in self.memberships.values()
        )

    async def get_visible_image(self, image_id: UUID, account_id: UUID) -> ImageRecord | None:
        image = self._present(image_id)
        if image is None:
            return None
        visible = (
            image.visibility is Visibility.PUBLIC
            or image.owner_account_id == account_id
            or self._member(image_id, account_id, {"pending", "accepted", "rejected"})
        )
        return self._shared(image) if visible else None

    def _in_tab(self, image: ImageRecord, query: ListQuery) -> bool:
        if query.tab is Tab.PUBLIC:
            return image.visibility is Visibility.PUBLIC
        if query.tab is Tab.SHARED:
            return image.status is ImageStatus.NORMAL and self._member(
                image.image_id, query.account_id, {"accepted"}
            )
        return image.visibility is Visibility.PRIVATE and image.owner_account_id == query.account_id

    def _matches(self, image: ImageRecord, query: ListQuery) -> bool:
        os_family = (image.os or {}).get("family")
        return (
            image.status is not ImageStatus.DELETED
            and self._in_tab(image, query)
            and (query.status is None or image.status is query.status)
            and (query.os_family is None or os_family == query.os_family)
            and (not query.name_contains or query.name_contains.lower() in image.name.lower())
        )

    async def list_images(self, query: ListQuery) -> tuple[list[ImageRecord], str | None]:
        rows = sorted(
            (i for i in self.images.values() if self._matches(i, query)),
            key=lambda i: (i.created_at, i.image_id),
            reverse=True,
        )
        if query.cursor is not None:
            after = decode_time_cursor(query.cursor)
            rows = [i for i in rows if (i.created_at, i.image_id) < after]
        page = [self._shared(i) for i in rows[: query.limit]]
        if len(rows) <= query.limit:
            return page, None
        return page, encode_cursor(page[-1].created_at, page[-1].image_id)

    # --- memberships ---
    async def save_membership(self, record: MembershipRecord) -> None:
        known = self.memberships.get(record.membership_id)
        if known is not None and record.offered_at is None:
            record = replace(record, offered_at=known.offered_at)
        self.memberships[record.membership_id] = record

    async def image_owner(self, image_id: UUID) -> tuple[str, UUID | None] | None:
        image = self.images.get(image_id)
        return (image.visibility.value, image.owner_account_id) if image else None

    async def tenants_of(self, image_id: UUID) -> list[MembershipRecord]:
        tenants = [
            m for m in self.memberships.values() if m.image_id == image_id and m.status != "revoked"
        ]
        # ORDER BY offered_at, membership_id: NULLs last, as PostgreSQL sorts them.
        return sorted(
            tenants,
            key=lambda m: (m.offered_at is None, m.offered_at or m.changed_at, m.membership_id),
        )

    async def membership(self, image_id: UUID, member_account_id: UUID) -> MembershipRecord | None:
        for m in self.memberships.values():
            if m.image_id == image_id and m.member_account_id == member_account_id:
                return m
        return None

    # --- public images ---
    async def insert_public_image(self, image: NewPublicImage, at: datetime) -> ImageRecord | None:
        if image.image_id in self.images:
            return None
        added = ImageRecord(
            image_id=image.image_id,
            visibility=Visibility.PUBLIC,
            owner_account_id=None,
            name=image.name,
            description=image.description,
            status=ImageStatus.NORMAL,
            progress=100,
            os=image.os,
            system_disk_gb=image.system_disk_gb,
            min_memory_mb=image.min_memory_mb,
            disk_format=image.disk_format,
            size_bytes=image.size_bytes,
            virtual_size_bytes=None,
            checksum_sha256=image.checksum_sha256,
            source_host_id=None,
            source_host_name=None,
            publish_status=PublishStatus.PUBLISHED,
            failure_code=None,
            failure_reason=None,
            created_at=at,
            updated_at=at,
        )
        self.images[image.image_id] = added
        self.announced.add(image.image_id)
        return added

    async def lock_public_image(self, image_id: UUID) -> ImageRecord | None:
        image = self._present(image_id)
        return image if image and image.visibility is Visibility.PUBLIC else None

    async def claim_unannounced_public_images(self, limit: int) -> list[ImageRecord]:
        waiting = [
            i
            for i in self.images.values()
            if i.visibility is Visibility.PUBLIC
            and i.image_id not in self.announced
            and i.status is not ImageStatus.DELETED
        ]
        return sorted(waiting, key=lambda i: i.created_at)[:limit]

    async def mark_announced(self, image_id: UUID, at: datetime) -> None:
        self.announced.add(image_id)

    # --- capture requests ---
    async def register_request(self, request: CaptureRequest, at: datetime) -> ImageRecord | None:
        if request.image_id in self.images:
            return None
        image = new_image(request, ImageStatus.CREATING, at)
        self.images[request.image_id] = image
        return image

    async def insert_refused(
        self, request: CaptureRequest, code: str, reason: str, at: datetime
    ) -> bool:
        if request.image_id in self.images:
            return False
        self.images[request.image_id] = new_image(
            request, ImageStatus.FAILED, at, failure_code=code, failure_reason=reason
        )
        return True

    async def admit(self, request: CaptureRequest, at: datetime, limit: int) -> Admission:
        existing = self.images.get(request.image_id)
        used = await self.quota_used(request.account_id)
        registered_at = admitted_at = None
        if existing is not None:
            waiting = (
                self._creating(request.image_id, request.account_id)
                and existing.accepted_at is None
            )
            if waiting:
                self._update(request.image_id, accepted_at=at)
                registered_at = existing.created_at
        elif used < limit:
            image = new_image(request, ImageStatus.CREATING, at, accepted_at=at)
            self.images[request.image_id] = image
            admitted_at = at
        owner = existing.owner_account_id if existing else None
        return Admission(existing is not None, owner, registered_at, admitted_at, used)
