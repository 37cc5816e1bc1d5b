"""The recipient's calls: its offers by status, and its answers (S3-S6)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.common.auth import CurrentTenant
from services.common.consistency import ANSWERS_TOKEN
from services.common.cursors import decode_time_cursor, encode_cursor
from services.common.http import RequestLanguage, problem_responses
from services.common.requests import RequestRunner
from services.sharing.api.views import (
    AnswerRequest,
    AnswerResults,
    AnswerResultView,
    SharedImagesPage,
    SharedImageView,
    read_after,
)
from services.sharing.domain import Actor, Answer, MemberStatus
from services.sharing.handlers import answers, queries
from services.sharing.ports import Store


def router(runner: RequestRunner[Store]) -> APIRouter:
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
        after = decode_time_cursor(cursor) if cursor else None
        found = await runner.read(
            lambda store: queries.offers(store, tenant.account_id, status, limit + 1, after)
        )
        page = found[:limit]
        last = page[-1].membership if len(found) > limit else None
        return SharedImagesPage(
            items=[SharedImageView.of(o, language) for o in page],
            next_cursor=encode_cursor(last.offered_at, last.membership_id) if last else None,
        )

    # An image named that was never offered to the caller: 404 `offer_not_found`.
    @api.post(
        "/accept",
        response_model=AnswerResults,
        responses=problem_responses(404),
        openapi_extra=ANSWERS_TOKEN,
    )
    async def accept(
        tenant: CurrentTenant, language: RequestLanguage, request: AnswerRequest, response: Response
    ) -> AnswerResults:
        """Accept chosen offers or all pending ones (S3); re-accept rejected ones (S6)."""
        member = Actor(tenant.account_id, tenant.account_name)
        results, token = await runner.write(
            lambda uow: answers.answer(uow, member, Answer.ACCEPT, request.image_ids)
        )
        read_after(response, token)
        return AnswerResults(results=[AnswerResultView.of(r, language) for r in results])

    @api.post(
        "/reject",
        response_model=AnswerResults,
        responses=problem_responses(404),
        openapi_extra=ANSWERS_TOKEN,
    )
    async def reject(
        tenant: CurrentTenant, language: RequestLanguage, request: AnswerRequest, response: Response
    ) -> AnswerResults:
        """Reject chosen offers or all pending ones (S3); remove accepted images from my
        list (S5): they move to the rejected list."""
        member = Actor(tenant.account_id, tenant.account_name)
        results, token = await runner.write(
            lambda uow: answers.answer(uow, member, Answer.REJECT, request.image_ids)
        )
        read_after(response, token)
        return AnswerResults(results=[AnswerResultView.of(r, language) for r in results])

    return api
