"""What the sharing API takes and answers (the console builds on these shapes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self
from uuid import UUID

from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from services.common.consistency import HEADER
from services.common.http import PRINTABLE_PATTERN
from services.common.i18n import Language
from services.common.refusals import Refusal
from services.sharing import domain
from services.sharing.domain import (
    MEMBER_LIMIT,
    STATUS_LABELS,
    AnswerResult,
    Membership,
    MemberStatus,
    Offer,
    Recipient,
    ShareResult,
)

# A batch share answers per pair: images x accounts, at most 50 x 128 pairs a request.
BATCH_IMAGES_MAX = 50
ANSWER_IMAGES_MAX = 1000


# No control characters in a name (NUL answered 500): refused as 422, at the model.
PRINTABLE = PRINTABLE_PATTERN


class AccountRef(BaseModel):
    """An account as the owner names it: account name, and project name for dedicated-cloud
    and multi-project accounts (seed 3.3.1)."""

    name: str = Field(min_length=1, max_length=64, pattern=PRINTABLE)
    project: str | None = Field(default=None, min_length=1, max_length=64, pattern=PRINTABLE)

    def recipient(self) -> Recipient:
        return Recipient(self.name, self.project)


class ShareRequest(BaseModel):
    accounts: list[AccountRef] = Field(min_length=1, max_length=MEMBER_LIMIT)


class BatchShareRequest(BaseModel):
    image_ids: list[UUID] = Field(min_length=1, max_length=BATCH_IMAGES_MAX)
    accounts: list[AccountRef] = Field(min_length=1, max_length=MEMBER_LIMIT)


# Exactly one of the two, as the OpenAPI says (oneOf): chosen images, or all pending ones.
_ANSWER_ONE_OF: JsonDict = {
    "oneOf": [
        {
            "required": ["image_ids"],
            "properties": {"image_ids": {"type": "array"}, "all": {"const": False}},
        },
        {
            "required": ["all"],
            "properties": {"all": {"const": True}, "image_ids": {"type": "null"}},
        },
    ]
}


class AnswerRequest(BaseModel):
    """Chosen images, or ``{"all": true}`` for every pending offer."""

    model_config = ConfigDict(json_schema_extra=_ANSWER_ONE_OF)

    image_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=ANSWER_IMAGES_MAX)
    all: bool = Field(default=False, strict=True)

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.image_ids is None) == (not self.all):
            raise ValueError('give either "image_ids" or "all": true')
        return self


class ShareResultView(BaseModel):
    image_id: UUID
    account: AccountRef
    account_id: UUID | None
    outcome: Literal["offered", "already_member", "refused"]
    status: MemberStatus | None
    status_label: str | None
    code: str | None
    detail: str | None

    @classmethod
    def of(cls, result: ShareResult, language: Language) -> ShareResultView:
        return cls(
            image_id=result.image_id,
            account=AccountRef(name=result.recipient.name, project=result.recipient.project),
            account_id=result.account_id,
            outcome=result.outcome.value,
            **_outcome(result.status, result.refusal, language),
        )


class ShareResults(BaseModel):
    results: list[ShareResultView]


class MemberView(BaseModel):
    account_id: UUID
    account_name: str
    project_id: UUID | None
    project_name: str | None
    status: MemberStatus
    status_label: str
    offered_at: datetime
    answered_at: datetime | None

    @classmethod
    def of(cls, membership: Membership, name: str, language: Language) -> MemberView:
        return cls(
            account_id=membership.member_account_id,
            account_name=name,
            **_membership(membership, language),
        )


class _Counted(BaseModel):
    """An answer that says how many tenants an image has and may still get."""

    @classmethod
    def counted(cls, count: int, language: Language, **fields: Any) -> Self:
        """``fields`` with the count, what remains and 已有租户N个，还可以添加M个."""
        summary = domain.members_summary(count).render(language)
        return cls(**fields, count=count, remaining=domain.remaining(count), summary=summary)


class Members(_Counted):
    """The owner's tenant list: 已有租户N个，还可以添加M个."""

    image_id: UUID
    members: list[MemberView]
    count: int
    remaining: int
    summary: str


class MemberShareResults(_Counted):
    """One image shared with accounts: per account, and how many tenants it has now."""

    image_id: UUID
    results: list[ShareResultView]
    count: int
    remaining: int
    summary: str


class RemovedMembers(_Counted):
    """Every tenant of an image removed: how many, and none left."""

    image_id: UUID
    removed: int
    count: int
    remaining: int
    summary: str


class SharedImageView(BaseModel):
    """An image offered to the recipient, in its lists (待接受 / 已接受 / 已拒绝)."""

    image_id: UUID
    name: str
    owner_account_id: UUID | None
    owner_account_name: str
    project_id: UUID | None
    project_name: str | None
    status: MemberStatus
    status_label: str
    offered_at: datetime
    answered_at: datetime | None

    @classmethod
    def of(cls, offer: Offer, language: Language) -> SharedImageView:
        return cls(
            image_id=offer.image.image_id,
            name=offer.image.name,
            owner_account_id=offer.image.owner_account_id,
            owner_account_name=offer.owner_name,
            **_membership(offer.membership, language),
        )


class SharedImagesPage(BaseModel):
    items: list[SharedImageView]
    next_cursor: str | None


class AnswerResultView(BaseModel):
    image_id: UUID
    outcome: Literal["accepted", "rejected", "unchanged", "refused"]
    status: MemberStatus | None
    status_label: str | None
    code: str | None
    detail: str | None

    @classmethod
    def of(cls, result: AnswerResult, language: Language) -> AnswerResultView:
        return cls(
            image_id=result.image_id,
            outcome=result.outcome.value,
            **_outcome(result.status, result.refusal, language),
        )


class AnswerResults(BaseModel):
    results: list[AnswerResultView]


def _membership(membership: Membership, language: Language) -> dict[str, Any]:
    """What the owner's and the recipient's lists say of a membership."""
    project = membership.member_project
    return {
        "project_id": project.project_id if project else None,
        "project_name": project.name if project else None,
        "status": membership.status,
        "status_label": STATUS_LABELS[membership.status].render(language),
        "offered_at": membership.offered_at,
        "answered_at": membership.answered_at,
    }


def _outcome(
    status: MemberStatus | None, refusal: Refusal | None, language: Language
) -> dict[str, Any]:
    """What every per-pair result says of its status and of its refusal."""
    return {
        "status": status,
        "status_label": STATUS_LABELS[status].render(language) if status else None,
        "code": refusal.code if refusal else None,
        "detail": refusal.message.render(language) if refusal else None,
    }


def read_after(response: Response, token: str | None) -> None:
    """Hand the write's read-after token to its client (services.common.consistency): the
    catalog's next read that sends it back shows this change."""
    if token is not None:
        response.headers[HEADER] = token
