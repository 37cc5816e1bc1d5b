"""What sharing's handlers need of the database: :class:`Store`, implemented by
:class:`services.sharing.store.SharingStore` and faked in ``tests/unit/sharing``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from services.sharing.domain import Account, Image, Membership, MemberStatus


class Store(Protocol):
    """Accounts and images as their services last stated them, and the memberships."""

    async def upsert_account(self, account: Account, at: datetime) -> None: ...

    async def accounts_by_name(self, names: Iterable[str]) -> dict[str, Account]:
        """The active account of each name (the one changed last when two share it), held
        until the transaction ends."""
        ...

    async def lock_account(self, account_id: UUID) -> Account | None: ...

    async def account_names(self, account_ids: Iterable[UUID]) -> dict[UUID, str]: ...

    async def lock_images(self, image_ids: Iterable[UUID]) -> dict[UUID, Image]:
        """The images that are known, locked until the transaction ends."""
        ...

    async def get_image(self, image_id: UUID) -> Image | None: ...

    async def save_image(self, image: Image, at: datetime) -> None: ...

    async def members_of(self, image_id: UUID) -> list[Membership]:
        """The image's memberships, oldest offer first."""
        ...

    async def count_members(self, image_id: UUID) -> int: ...

    async def insert_memberships(self, memberships: Sequence[Membership]) -> None: ...

    async def lock_offers_to(
        self,
        member: UUID,
        *,
        image_ids: Sequence[UUID] | None = None,
        status: MemberStatus | None = None,
    ) -> list[tuple[Membership, Image]]:
        """A recipient's memberships (chosen images, or all of one status, or all) with
        their images, by membership id, locked until the transaction ends."""
        ...

    async def set_status(
        self, membership_ids: Sequence[UUID], status: MemberStatus, at: datetime
    ) -> None:
        """Answer memberships: their new status, answered at ``at``."""
        ...

    async def delete_members(self, image_id: UUID, member: UUID | None = None) -> list[Membership]:
        """End the memberships of an image (one member, or all): what they were, by id."""
        ...

    async def delete_memberships_of_account(
        self, account_id: UUID
    ) -> list[tuple[Membership, Image]]:
        """End every membership an account is part of, as member or as the image's owner
        (by membership id)."""
        ...

    async def offers_to(
        self,
        member: UUID,
        status: MemberStatus | None,
        limit: int,
        after: tuple[datetime, UUID] | None,
    ) -> list[tuple[Membership, Image]]:
        """A page of a recipient's memberships, newest offer first, before ``after``."""
        ...
