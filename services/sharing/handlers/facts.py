"""What every fact about a membership says, and how it is queued: on the membership's own
version line (``schemas.events.MEMBERSHIP``), never the image's."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from schemas.events import MEMBERSHIP, MembershipFact
from services.common.ports import Emission, UnitOfWork
from services.sharing.domain import Image, Membership
from services.sharing.ports import Store

T = TypeVar("T")


def parties(
    membership: Membership, image: Image, owner_name: str, member_name: str
) -> dict[str, Any]:
    """What every fact about a membership says, so its readers never ask back."""
    project = membership.member_project
    return {
        "membership_id": membership.membership_id,
        "image_id": image.image_id,
        "image_name": image.name,
        "owner_account_id": image.owner_account_id,
        "owner_account_name": owner_name,
        "member_account_id": membership.member_account_id,
        "member_account_name": member_name,
        "member_project_id": project.project_id if project else None,
        "member_project_name": project.name if project else None,
    }


async def emit(uow: UnitOfWork[Store], facts: Sequence[MembershipFact], *, tenant: UUID) -> None:
    """Each fact on its membership's own line, never the image's; all in two statements."""
    await uow.emit_many([Emission(f, MEMBERSHIP, str(f.membership_id), str(tenant)) for f in facts])


def unique(items: Iterable[T]) -> list[T]:
    """In their order, each once."""
    return list(dict.fromkeys(items))
