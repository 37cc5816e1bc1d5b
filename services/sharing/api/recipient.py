"""The recipient's calls: its offers by status, and its answers (S3-S6)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from services.common.auth import CurrentTenant
from services.common.http import ProblemError, RequestLanguage
from services.common.i18n import Text
from services.common.uow import UnitOfWork
from services.sharing import domain, memberships
from services.sharing.api.views import (
    AnswerRequest,
    AnswerResults,
    AnswerResultView,
    SharedImagesPage,
    SharedImageView,
    decode_cursor,
    encode_cursor,
)
from services.sharing.api.work import Work, problem_of
from services.sharing.domain import Answer, MemberStatus
from services.sharing.memberships import Actor, AnswerOutcome

INVALID_CURSOR = Text(
    "分页游标无效，请从第一页重新查询。",
    "The cursor is not valid; start again from the first page.",
)


def router(work: Work) -> APIRouter:
    api = APIRouter(prefix="/v1/shared-images", tags=["recipient"])

    @api.get("", response_model=SharedImagesPage)
    async def list_offers(
        tenant: CurrentTenant,
        language: RequestLanguage,
        status: MemberStatus | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: Annotated[str | None, Query(max_length=512)] = None,
    ) -> SharedImagesPage:
        """Images offered to me: 待接受 (pending), 已接受 (accepted), 已拒绝 (rejected)."""
        try:
            after = decode_cursor(cursor) if cursor else None
        except ValueError as exc:
            raise ProblemError(400, "invalid_cursor", INVALID_CURSOR) from exc

        async def body(uow: UnitOfWork) -> list[memberships.Offer]:
            return await memberships.offers(uow, tenant.account_id, status, limit + 1, after)

        found = await work.run(body)
        page = found[:limit]
        next_cursor = (
            encode_cursor(page[-1].membership.offered_at, page[-1].membership.membership_id)
            if len(found) > limit
            else None
        )
        return SharedImagesPage(
            items=[SharedImageView.of(o, language) for o in page], next_cursor=next_cursor
        )

    @api.post("/accept", response_model=AnswerResults)
    async def accept(
        tenant: CurrentTenant, language: RequestLanguage, request: AnswerRequest
    ) -> AnswerResults:
        """Accept chosen offers or all pending ones (S3); re-accept rejected ones (S6)."""
        return await _answer(work, tenant.account_id, tenant.account_name, language,
                             Answer.ACCEPT, request)  # fmt: skip

    @api.post("/reject", response_model=AnswerResults)
    async def reject(
        tenant: CurrentTenant, language: RequestLanguage, request: AnswerRequest
    ) -> AnswerResults:
        """Reject chosen offers or all pending ones (S3); remove accepted images from my
        list (S5): they move to the rejected list."""
        return await _answer(work, tenant.account_id, tenant.account_name, language,
                             Answer.REJECT, request)  # fmt: skip

    return api


async def _answer(
    work: Work,
    account_id: UUID,
    account_name: str,
    language: RequestLanguage,
    decision: Answer,
    request: AnswerRequest,
) -> AnswerResults:
    member = Actor(account_id, account_name)

    async def body(uow: UnitOfWork) -> list[memberships.AnswerResult]:
        return await memberships.answer(uow, member, decision, request.image_ids)

    results = await work.run(body)
    if results and all(r.outcome is AnswerOutcome.REFUSED for r in results):
        # Nothing here is this account's to answer: answered as for a missing offer, so an
        # offer made to someone else stays invisible (404).
        raise problem_of(results[0].refusal or domain.offer_not_found(results[0].image_id))
    return AnswerResults(results=[AnswerResultView.of(r, language) for r in results])
