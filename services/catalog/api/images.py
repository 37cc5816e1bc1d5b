"""Tenants' images: lists (C2) with the quota (C6), detail (C3), create from a host,
modify (C4), delete single and batch (C5)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Body, Header, Query, Response
from pydantic import BaseModel, Field

from schemas.envelope import utc_now
from services.catalog import commands, domain, messages, sharing_api, store
from services.catalog.api.problems import as_problem
from services.catalog.api.views import (
    BatchDeleteView,
    CreatedView,
    DeleteResult,
    ImagePage,
    ImageView,
    PreflightView,
    QuotaView,
    json_response,
)
from services.catalog.domain import (
    BATCH_DELETE_MAX,
    STATUS_LABELS,
    ImageStatus,
    Refusal,
    Tab,
    not_found,
)
from services.common.auth import CurrentTenant
from services.common.http import PROBLEMS, ProblemError, RequestLanguage
from services.common.uow import UnitOfWorkFactory

# Bounds that keep a request small; the rules themselves (e.g. 128 characters for a name)
# are checked by the domain, which says what they are.
_TEXT_BOUND = 8192


class CreateImageBody(BaseModel):
    host_id: UUID = Field(description="The stopped host (云主机) to capture")
    name: str = Field(max_length=_TEXT_BOUND, description="1-128 characters")
    description: str = Field(default="", max_length=_TEXT_BOUND, description="Up to 1024")
    strict_preflight: bool = Field(default=False, description="Refuse on guest findings (K4)")


class ModifyImageBody(BaseModel):
    name: str | None = Field(default=None, max_length=_TEXT_BOUND)
    description: str | None = Field(default=None, max_length=_TEXT_BOUND)


class BatchDeleteBody(BaseModel):
    image_ids: list[UUID] = Field(min_length=1, max_length=BATCH_DELETE_MAX)


def images_router(uow_factory: UnitOfWorkFactory) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["images"])
    pool = uow_factory.pool

    @router.get("/images", response_model=ImagePage)
    async def list_images(
        tenant: CurrentTenant,
        language: RequestLanguage,
        tab: Annotated[Literal["public", "private", "shared"], Query()] = "private",
        status: ImageStatus | None = None,
        os_family: Literal["windows", "linux"] | None = None,
        name: Annotated[str | None, Query(max_length=128, pattern=r"^[^\x00]*$")] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, Query(max_length=512)] = None,
    ) -> Response:
        query = store.ListQuery(
            account_id=tenant.account_id,
            tab=Tab(tab),
            status=status,
            os_family=os_family,
            name_contains=name,
            limit=limit,
            cursor=cursor,
        )
        quota = None
        try:
            async with pool.acquire() as conn:
                images, next_cursor = await store.list_images(conn, query)
                if query.tab is Tab.PRIVATE:
                    standing = await store.quota_standing(conn, tenant.account_id)
                    quota = QuotaView.of(domain.quota_of(*standing), language)
        except ValueError as exc:
            raise ProblemError(400, "invalid_cursor", messages.INVALID_CURSOR) from exc
        items = [ImageView.of(i) for i in images]
        return json_response(ImagePage(items=items, next_cursor=next_cursor, quota=quota))

    @router.get("/images/{image_id}", response_model=ImageView, responses=PROBLEMS)
    async def get_image(
        tenant: CurrentTenant, language: RequestLanguage, image_id: UUID
    ) -> Response:
        async with pool.acquire() as conn:
            image = await store.get_visible_image(conn, image_id, tenant.account_id)
            if image is None:  # missing, deleted, or someone else's private image: all alike
                raise as_problem(not_found(image_id))
            tenants = await sharing_api.share_tenants(conn, image, tenant.account_id)
        notice = messages.KEEPS_SOURCE_PASSWORD if image.keeps_source_password else None
        # What is in the owner's guest is the owner's business, not a share tenant's.
        owner = image.owner_account_id == tenant.account_id
        detail = {
            "share_tenants": tenants,
            "password_notice": notice.render(language) if notice else None,
            "preflight": PreflightView.of(image.preflight) if owner and image.preflight else None,
        }
        return json_response(ImageView.of(image).model_copy(update=detail))

    @router.post("/images", status_code=202, response_model=CreatedView, responses=PROBLEMS)
    async def create_image(
        tenant: CurrentTenant,
        language: RequestLanguage,
        response: Response,
        body: CreateImageBody,
        idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
    ) -> CreatedView:
        """Create a private image from one of my stopped hosts. Answered at once (202): the
        request goes out as a CaptureRequested and the image is `creating` until capture
        ends it `normal` or `failed` (e.g. a host that is running, or not mine)."""
        command = commands.CreateImage(
            account_id=tenant.account_id,
            host_id=body.host_id,
            name=body.name,
            description=body.description,
            strict_preflight=body.strict_preflight,
            idempotency_key=idempotency_key,
        )
        async with uow_factory.unit_of_work(correlation_id=uuid4()) as uow:
            created = await commands.create_image(uow, command, utc_now())
        image = created.image
        response.headers["Location"] = f"/v1/images/{image.image_id}"
        return CreatedView(
            image_id=image.image_id,
            status=image.status,
            status_label=STATUS_LABELS[image.status],
            quota=QuotaView.of(created.quota, language),
        )

    @router.patch("/images/{image_id}", response_model=ImageView, responses=PROBLEMS)
    async def modify_image(
        tenant: CurrentTenant, image_id: UUID, body: ModifyImageBody
    ) -> ImageView:
        """C4: the owner changes the name or description of a `normal` image."""
        async with uow_factory.unit_of_work(correlation_id=uuid4()) as uow:
            image = await commands.modify_image(
                uow,
                tenant.account_id,
                image_id,
                name=body.name,
                description=body.description,
                at=utc_now(),
            )
        return ImageView.of(image)

    @router.delete("/images/{image_id}", status_code=204, responses=PROBLEMS)
    async def delete_image(tenant: CurrentTenant, image_id: UUID) -> Response:
        """C5: the owner deletes a `normal` unpublished image, or a `failed` one."""
        async with uow_factory.unit_of_work(correlation_id=uuid4()) as uow:
            await commands.delete_image(uow, tenant.account_id, image_id, utc_now())
        return Response(status_code=204)

    @router.post("/images/delete", response_model=BatchDeleteView)
    async def delete_images(
        tenant: CurrentTenant,
        language: RequestLanguage,
        body: Annotated[BatchDeleteBody, Body()],
    ) -> BatchDeleteView:
        """C5 batch: each image is deleted or refused on its own (its own transaction), and
        the answer says which, per image."""
        correlation_id = uuid4()
        results = []
        for image_id in dict.fromkeys(body.image_ids):  # each once, in the order given
            try:
                async with uow_factory.unit_of_work(correlation_id=correlation_id) as uow:
                    await commands.delete_image(uow, tenant.account_id, image_id, utc_now())
            except Refusal as refusal:
                detail = refusal.message.render(language)
                results.append(
                    DeleteResult(
                        image_id=image_id, outcome="refused", code=refusal.code, detail=detail
                    )
                )
            else:
                results.append(DeleteResult(image_id=image_id, outcome="deleted"))
        return BatchDeleteView(results=results)

    return router
