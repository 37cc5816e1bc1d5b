"""The owner's calls: share images (S1, S8), see and delete tenants (S7, S9)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from services.common.auth import CurrentTenant
from services.common.consistency import ANSWERS_TOKEN
from services.common.http import RequestLanguage
from services.common.requests import RequestRunner
from services.sharing.api.views import (
    BatchShareRequest,
    Members,
    MemberShareResults,
    MemberView,
    RemovedMembers,
    ShareRequest,
    ShareResults,
    ShareResultView,
    read_after,
)
from services.sharing.domain import Actor
from services.sharing.handlers import endings, offers, queries
from services.sharing.ports import Store


def router(runner: RequestRunner[Store], *, region: str | None) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["owner"])

    @api.post(
        "/images/{image_id}/members", response_model=MemberShareResults, openapi_extra=ANSWERS_TOKEN
    )
    async def share_image(
        tenant: CurrentTenant,
        language: RequestLanguage,
        image_id: UUID,
        request: ShareRequest,
        response: Response,
    ) -> MemberShareResults:
        """Share one image with accounts (S1, S8), answered per account."""
        owner = Actor(tenant.account_id, tenant.account_name)
        recipients = [a.recipient() for a in request.accounts]
        (results, count), token = await runner.write(
            lambda uow: offers.share_image(uow, owner, image_id, recipients, region=region)
        )
        read_after(response, token)
        views = [ShareResultView.of(r, language) for r in results]
        return MemberShareResults.counted(count, language, image_id=image_id, results=views)

    @api.post("/shares", response_model=ShareResults, openapi_extra=ANSWERS_TOKEN)
    async def share_images(
        tenant: CurrentTenant,
        language: RequestLanguage,
        request: BatchShareRequest,
        response: Response,
    ) -> ShareResults:
        """Share images with accounts in one request (S1 batch), answered per pair."""
        owner = Actor(tenant.account_id, tenant.account_name)
        recipients = [a.recipient() for a in request.accounts]
        results, token = await runner.write(
            lambda uow: offers.share(uow, owner, request.image_ids, recipients, region=region)
        )
        read_after(response, token)
        return ShareResults(results=[ShareResultView.of(r, language) for r in results])

    @api.get("/images/{image_id}/members", response_model=Members)
    async def list_members(
        tenant: CurrentTenant, language: RequestLanguage, image_id: UUID
    ) -> Members:
        """The image's tenants: 已有租户N个，还可以添加M个 (owner only)."""
        owner = Actor(tenant.account_id, tenant.account_name)
        found = await runner.read(lambda store: queries.members(store, owner, image_id))
        views = [MemberView.of(m, name, language) for m, name in found]
        return Members.counted(len(found), language, image_id=image_id, members=views)

    @api.delete(
        "/images/{image_id}/members/{account_id}", status_code=204, openapi_extra=ANSWERS_TOKEN
    )
    async def remove_member(tenant: CurrentTenant, image_id: UUID, account_id: UUID) -> Response:
        """Delete one tenant (S9); the recipient is not asked or told (S10)."""
        owner = Actor(tenant.account_id, tenant.account_name)
        _, token = await runner.write(
            lambda uow: endings.remove_members(uow, owner, image_id, account_id)
        )
        answer = Response(status_code=204)
        read_after(answer, token)
        return answer

    @api.delete(
        "/images/{image_id}/members", response_model=RemovedMembers, openapi_extra=ANSWERS_TOKEN
    )
    async def remove_all_members(
        tenant: CurrentTenant, language: RequestLanguage, image_id: UUID, response: Response
    ) -> RemovedMembers:
        """取消共享 (S7) / 全部删除 (S9): every tenant of the image loses it."""
        owner = Actor(tenant.account_id, tenant.account_name)
        removed, token = await runner.write(
            lambda uow: endings.remove_members(uow, owner, image_id, None)
        )
        read_after(response, token)
        return RemovedMembers.counted(0, language, image_id=image_id, removed=len(removed))

    return api
