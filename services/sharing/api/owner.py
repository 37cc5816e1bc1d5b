"""The owner's calls: share images (S1, S8), see and delete tenants (S7, S9)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from services.common.auth import CurrentTenant
from services.common.http import RequestLanguage
from services.common.i18n import Language
from services.common.uow import UnitOfWork
from services.sharing import domain, memberships
from services.sharing.api.views import (
    BatchShareRequest,
    Members,
    MemberShareResults,
    MemberView,
    RemovedMembers,
    ShareRequest,
    ShareResults,
    ShareResultView,
)
from services.sharing.api.work import Work
from services.sharing.memberships import Actor, Refused

# Refusals of the image itself: a request about one image is refused as a whole.
_IMAGE_REFUSALS = frozenset({"image_not_found", "public_image", "image_not_normal"})


def router(work: Work, *, region: str | None) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["owner"])

    @api.post("/images/{image_id}/members", response_model=MemberShareResults)
    async def share_image(
        tenant: CurrentTenant, language: RequestLanguage, image_id: UUID, request: ShareRequest
    ) -> MemberShareResults:
        """Share one image with accounts (S1, S8), answered per account."""
        owner = Actor(tenant.account_id, tenant.account_name)
        recipients = [a.recipient() for a in request.accounts]

        async def body(uow: UnitOfWork) -> MemberShareResults:
            results = await memberships.share(uow, owner, [image_id], recipients, region=region)
            refusal = results[0].refusal
            if refusal is not None and refusal.code in _IMAGE_REFUSALS:
                raise Refused(refusal)
            count = await memberships.member_count(uow, image_id)
            return MemberShareResults(
                image_id=image_id,
                results=[ShareResultView.of(r, language) for r in results],
                count=count,
                remaining=max(0, domain.MEMBER_LIMIT - count),
                summary=domain.members_summary(count).render(language),
            )

        return await work.run(body)

    @api.post("/shares", response_model=ShareResults)
    async def share_images(
        tenant: CurrentTenant, language: RequestLanguage, request: BatchShareRequest
    ) -> ShareResults:
        """Share images with accounts in one request (S1 batch), answered per pair."""
        owner = Actor(tenant.account_id, tenant.account_name)
        recipients = [a.recipient() for a in request.accounts]

        async def body(uow: UnitOfWork) -> ShareResults:
            results = await memberships.share(
                uow, owner, request.image_ids, recipients, region=region
            )
            return ShareResults(results=[ShareResultView.of(r, language) for r in results])

        return await work.run(body)

    @api.get("/images/{image_id}/members", response_model=Members)
    async def list_members(
        tenant: CurrentTenant, language: RequestLanguage, image_id: UUID
    ) -> Members:
        """The image's tenants: 已有租户N个，还可以添加M个 (owner only)."""
        owner = Actor(tenant.account_id, tenant.account_name)
        return await work.run(lambda uow: _members(uow, owner, image_id, language))

    @api.delete("/images/{image_id}/members/{account_id}", status_code=204)
    async def remove_member(
        tenant: CurrentTenant, language: RequestLanguage, image_id: UUID, account_id: UUID
    ) -> Response:
        """Delete one tenant (S9); the recipient is not asked or told (S10)."""
        owner = Actor(tenant.account_id, tenant.account_name)
        await work.run(lambda uow: memberships.remove_members(uow, owner, image_id, account_id))
        return Response(status_code=204)

    @api.delete("/images/{image_id}/members", response_model=RemovedMembers)
    async def remove_all_members(
        tenant: CurrentTenant, language: RequestLanguage, image_id: UUID
    ) -> RemovedMembers:
        """取消共享 (S7) / 全部删除 (S9): every tenant of the image loses it."""
        owner = Actor(tenant.account_id, tenant.account_name)
        removed = await work.run(lambda uow: memberships.remove_members(uow, owner, image_id, None))
        return RemovedMembers(
            image_id=image_id,
            removed=len(removed),
            count=0,
            remaining=domain.MEMBER_LIMIT,
            summary=domain.members_summary(0).render(language),
        )

    return api


async def _members(uow: UnitOfWork, owner: Actor, image_id: UUID, language: Language) -> Members:
    found = await memberships.members(uow, owner, image_id)
    return Members(
        image_id=image_id,
        members=[MemberView.of(m, name, language) for m, name in found],
        count=len(found),
        remaining=max(0, domain.MEMBER_LIMIT - len(found)),
        summary=domain.members_summary(len(found)).render(language),
    )
