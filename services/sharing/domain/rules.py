"""Sharing's decisions, pure: who may share and manage an image (S2, S7, S9), who an offer
goes to (S1, S2), each pair of a share (the member limit), how an answer moves a membership
(S3, S5, S6), and which refusals answer a request as a whole."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID

from schemas.events import membership_id
from services.common.i18n import Text
from services.common.refusals import Refusal
from services.sharing.domain import refusals
from services.sharing.domain.model import (
    MEMBER_LIMIT,
    Account,
    Actor,
    Answer,
    AnswerOutcome,
    AnswerResult,
    Image,
    ImageStatus,
    Membership,
    MemberStatus,
    Project,
    Recipient,
    ShareOutcome,
    ShareResult,
)

# Refusals of the image itself: a request about one image is refused as a whole by them.
_IMAGE_REFUSALS = frozenset({"image_not_found", "public_image", "image_not_normal"})


def remaining(count: int) -> int:
    """How many more tenants an image with ``count`` of them can have."""
    return max(0, MEMBER_LIMIT - count)


def members_summary(count: int) -> Text:
    """What the owner reads under the tenant list (seed 3.3.6)."""
    left = remaining(count)
    return Text(
        f"已有租户{count}个，还可以添加{left}个",
        f"{count} tenants, {left} more can be added",
    )


def manageable(image: Image | None, image_id: UUID, owner: UUID) -> Refusal | None:
    """Whether ``owner`` may see and change the tenants of the image (S7, S9), whatever
    its status: only its own private images. None when it may."""
    if image is None or image.status is ImageStatus.DELETED:
        return refusals.image_not_found(image_id)
    if image.public:
        return refusals.public_image()
    if image.owner_account_id != owner:
        return refusals.image_not_found(image_id)
    return None


def shareable(image: Image | None, image_id: UUID, owner: UUID) -> Refusal | None:
    """Whether ``owner`` may share the image at all (S2): only its own private images in
    ``normal``. None when it may."""
    refusal = manageable(image, image_id, owner)
    if refusal is None and image is not None and image.status is not ImageStatus.NORMAL:
        return refusals.image_not_normal(image.status)
    return refusal


def recipient(
    owner: UUID,
    name: str,
    account: Account | None,
    project_name: str | None,
    region: str | None,
) -> Refusal | Project | None:
    """Who an offer goes to (S1, S2): a Refusal, the project offered to, or None for a
    standard account (shared as a whole)."""
    if account is None or not account.active:
        return refusals.account_not_found(name)
    if account.account_id == owner:
        return refusals.sharing_with_self()
    if project_name is None:
        return refusals.project_required(name) if account.projects else None
    project = next((p for p in account.projects if p.name == project_name), None)
    if project is None:
        return refusals.project_not_found(name, project_name)
    if region is not None and project.region is not None and project.region != region:
        return refusals.project_in_other_region(project.name, project.region)
    return project


def offer_to(
    owner: Actor,
    image_id: UUID,
    wanted: Recipient,
    account: Account | None,
    members: Mapping[UUID, Membership],
    *,
    region: str | None,
    now: datetime,
) -> tuple[ShareResult, Membership | None]:
    """One pair of a share (S2): its result, and the membership it offers (None when it
    offers none). ``members`` are the image's memberships so far, offers of this request
    included: the caller adds the one returned, so the limit counts it."""
    target = recipient(owner.account_id, wanted.name, account, wanted.project, region)
    if isinstance(target, Refusal):
        return ShareResult(image_id, wanted, ShareOutcome.REFUSED, refusal=target), None
    assert account is not None, "recipient() refuses an unknown account"
    member = account.account_id
    if member in members:  # sharing again is harmless (S2)
        status = members[member].status
        return ShareResult(image_id, wanted, ShareOutcome.ALREADY_MEMBER, member, status), None
    if len(members) >= MEMBER_LIMIT:
        limit = refusals.member_limit_reached()
        return ShareResult(image_id, wanted, ShareOutcome.REFUSED, member, refusal=limit), None
    offered = Membership(
        membership_id(image_id, member), image_id, member, target,
        MemberStatus.PENDING, now, None,
    )  # fmt: skip
    result = ShareResult(image_id, wanted, ShareOutcome.OFFERED, member, MemberStatus.PENDING)
    return result, offered


def refusal_of_image(results: Sequence[ShareResult]) -> Refusal | None:
    """A share of one image is refused as a whole when the image itself is refused."""
    refusal = results[0].refusal if results else None
    return refusal if refusal is not None and refusal.code in _IMAGE_REFUSALS else None


def answered(status: MemberStatus, answer: Answer) -> MemberStatus | None:
    """The status an answer moves a membership to; None when it is there already.

    Accepting takes a pending offer or a rejected one (S3, S6); rejecting takes a pending
    offer or an accepted image the recipient removes from its list (S3, S5)."""
    target = MemberStatus.ACCEPTED if answer is Answer.ACCEPT else MemberStatus.REJECTED
    return None if status is target else target


def refusal_of_answers(results: Sequence[AnswerResult]) -> Refusal | None:
    """An answer of which nothing is this account's to answer is refused as a whole, as
    for a missing offer: an offer made to someone else stays invisible (404)."""
    if not results or any(r.outcome is not AnswerOutcome.REFUSED for r in results):
        return None
    return results[0].refusal or refusals.offer_not_found(results[0].image_id)
