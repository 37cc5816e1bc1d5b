"""The catalog's port to its state: the :class:`Store` its handlers and jobs are typed
against (``UnitOfWork[Store]``). :class:`services.catalog.store.CatalogStore` is the real
one (all the SQL); ``tests/unit/catalog/fakes.py`` holds one in memory."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from services.catalog import domain


class Store(Protocol):
    """What the catalog's handlers read and change; every lock lasts until the unit of work
    ends."""

    # --- accounts: quota (C6) and stored bytes (C9) ---
    async def lock_account(self, account_id: UUID) -> domain.AccountRecord:
        """The account's row (created if new), locked: quota and usage change one at a time."""
        ...

    async def get_account(self, account_id: UUID) -> domain.AccountRecord:
        """The account as it is (a new account's defaults if the catalog has none)."""
        ...

    async def quota_used(self, account_id: UUID) -> int:
        """Private images holding a quota slot (domain.HOLDS_QUOTA)."""
        ...

    async def set_quota(self, account_id: UUID, limit: int, at: datetime) -> None: ...

    async def stored(self, account_id: UUID) -> tuple[int, int]:
        """(bytes, images) the account stores now: the files of its normal images (C9)."""
        ...

    async def record_stored(
        self, account_id: UUID, stored_bytes: int, stored_images: int, at: datetime
    ) -> None: ...

    async def quota_standing(self, account_id: UUID) -> tuple[int | None, int]:
        """(the account's own quota or None for the default, slots held)."""
        ...

    # --- changes tenants and admins make (C4, C5, C7) ---
    async def lock_visible_image(
        self, image_id: UUID, account_id: UUID
    ) -> domain.ImageRecord | None:
        """The image, locked, if ``account_id`` may see it (public, or its own; not deleted)."""
        ...

    async def lock_image(self, image_id: UUID) -> domain.ImageRecord | None:
        """Any image that is not deleted, locked (for an admin)."""
        ...

    async def update_text(
        self, image_id: UUID, name: str, description: str, at: datetime
    ) -> domain.ImageRecord: ...

    async def set_publish_status(
        self, image_id: UUID, status: domain.PublishStatus, at: datetime
    ) -> domain.ImageRecord: ...

    async def mark_deleted(self, image_id: UUID, at: datetime) -> None:
        """The image leaves every list and detail (C5), or a public image is retired (C1)."""
        ...

    # --- images: capture's facts, tenants' reads ---
    async def record_progress(
        self, image_id: UUID, owner: UUID, percent: int, at: datetime
    ) -> bool:
        """Note a creating image's progress; False if ``owner`` has no such creating image."""
        ...

    async def mark_ready(self, ready: domain.FinishedCapture) -> bool:
        """The capture finished; False if the named owner has no such creating image."""
        ...

    async def mark_failed(self, failed: domain.FailedCapture) -> bool:
        """The capture failed; False if the named owner has no such creating image."""
        ...

    async def owner_of(self, image_id: UUID) -> UUID | None:
        """The account owning a private image (None for a public or an unknown one)."""
        ...

    async def get_image(self, image_id: UUID) -> domain.ImageRecord | None:
        """Any image, also a deleted one (for the catalog's own rules, never for a tenant)."""
        ...

    async def get_visible_image(
        self, image_id: UUID, account_id: UUID
    ) -> domain.ImageRecord | None:
        """Public, its own, or offered to it, not deleted; else None (as if missing)."""
        ...

    async def list_images(
        self, query: domain.ListQuery
    ) -> tuple[list[domain.ImageRecord], str | None]:
        """A page of images and the cursor of the next page (None on the last page)."""
        ...

    # --- memberships: sharing's facts (C2, C3, C8) ---
    async def save_membership(self, record: domain.MembershipRecord) -> None:
        """The membership as its newest fact says (the caller checked the version line)."""
        ...

    async def image_owner(self, image_id: UUID) -> tuple[str, UUID | None] | None:
        """(visibility, owner) of an image the catalog knows, else None."""
        ...

    async def tenants_of(self, image_id: UUID) -> list[domain.MembershipRecord]:
        """The image's share tenants (not revoked), in the order they were offered."""
        ...

    async def membership(
        self, image_id: UUID, member_account_id: UUID
    ) -> domain.MembershipRecord | None: ...

    # --- public images (C1) ---
    async def insert_public_image(
        self, image: domain.NewPublicImage, at: datetime
    ) -> domain.ImageRecord | None:
        """Add a public image, announced at ``at``; None if the id is taken."""
        ...

    async def lock_public_image(self, image_id: UUID) -> domain.ImageRecord | None: ...

    async def claim_unannounced_public_images(self, limit: int) -> list[domain.ImageRecord]:
        """Public images not announced yet, locked (other processes skip them)."""
        ...

    async def mark_announced(self, image_id: UUID, at: datetime) -> None: ...

    # --- capture requests (C6) ---
    async def register_request(
        self, request: domain.CaptureRequest, at: datetime
    ) -> domain.ImageRecord | None:
        """The API's request registered as creating, its slot taken; None if the id is taken."""
        ...

    async def insert_refused(
        self, request: domain.CaptureRequest, code: str, reason: str, at: datetime
    ) -> bool:
        """A refused request recorded as a failed image; False if the id is taken."""
        ...

    async def admit(
        self, request: domain.CaptureRequest, at: datetime, limit: int
    ) -> domain.Admission:
        """Accept a registered request, or register one within ``limit`` (under the lock)."""
        ...
