"""Tenants' images: lists (C2) with the quota (C6), detail (C3), create from a host,
modify (C4), delete single and batch (C5). Each route parses, calls one handler through
the request runner and renders the view."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Body, Header, Query, Response
from pydantic import BaseModel, Field
from pydantic.config import JsonDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.events import DESCRIPTION_MAX, NAME_MAX
from services.catalog.api.views import (
    CONSUMED,
    BatchDeleteView,
    CreatedView,
    DeleteResult,
    ImagePage,
    ImageView,
    QuotaView,
    json_response,
)
from services.catalog.domain import BATCH_DELETE_MAX, STATUS_LABELS, ImageStatus, ListQuery, Tab
from services.catalog.domain.rules import DESCRIPTION_PATTERN, NAME_PATTERN
from services.catalog.handlers import commands, queries
from services.catalog.ports import Store
from services.common.auth import CurrentTenant
from services.common.consistency import ReadAfterToken
from services.common.http import ProblemError, RequestLanguage
from services.common.i18n import Language
from services.common.requests import RequestRunner

# Bounds that keep a request small; the rules themselves (e.g. 128 characters for a name)
# are checked by the domain, which says what they are.
_TEXT_BOUND = 8192
# What the OpenAPI says of a name and a description: the domain's own rules, documented only
# (the domain refuses with `invalid_name` / `invalid_description`, codes clients rely on).
NAME_DOC: JsonDict = {"minLength": 1, "maxLength": NAME_MAX, "pattern": NAME_PATTERN}
DESCRIPTION_DOC: JsonDict = {"maxLength": DESCRIPTION_MAX, "pattern": DESCRIPTION_PATTERN}


class CreateImageBody(BaseModel):
    host_id: UUID = Field(description="The stopped host (云主机) to capture")
    name: str = Field(
        max_length=_TEXT_BOUND, description="1-128 characters", json_schema_extra=NAME_DOC
    )
    description: str = Field(
        default="",
        max_length=_TEXT_BOUND,
        description="Up to 1024",
        json_schema_extra=DESCRIPTION_DOC,
    )
    strict_preflight: bool = Field(
        default=False, strict=True, description="Refuse on guest findings (K4)"
    )


class ModifyImageBody(BaseModel):
    name: str | None = Field(default=None, max_length=_TEXT_BOUND, json_schema_extra=NAME_DOC)
    description: str | None = Field(
        default=None, max_length=_TEXT_BOUND, json_schema_extra=DESCRIPTION_DOC
    )


class BatchDeleteBody(BaseModel):
    image_ids: list[UUID] = Field(min_length=1, max_length=BATCH_DELETE_MAX)


def images_router(runner: RequestRunner[Store]) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["images"])

    # Before /images/{image_id}: "delete" is never an image id, and its other methods are
    # 405 (with Allow: POST), not a 422 for an id that is not a UUID.
    @router.api_route("/images/delete", methods=["GET", "PATCH", "DELETE"], include_in_schema=False)
    async def not_allowed() -> Response:
        raise StarletteHTTPException(405)

    _reads(router, runner)
    _writes(router, runner)
    return router


def _reads(router: APIRouter, runner: RequestRunner[Store]) -> None:
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
        read_after: ReadAfterToken = None,
    ) -> Response:
        waited = await runner.wait_applied(read_after, CONSUMED)
        query = ListQuery(tenant.account_id, Tab(tab), status, os_family, name, limit, cursor)
        page = await runner.read(lambda store: queries.list_images(store, query))
        return json_response(ImagePage.of(page, language), read_after=waited)

    @router.get("/images/{image_id}", response_model=ImageView)
    async def get_image(
        tenant: CurrentTenant,
        language: RequestLanguage,
        image_id: UUID,
        read_after: ReadAfterToken = None,
    ) -> Response:
        waited = await runner.wait_applied(read_after, CONSUMED)
        detail = await runner.read(
            lambda store: queries.image_detail(store, image_id, tenant.account_id)
        )
        return json_response(ImageView.of_detail(detail, language), read_after=waited)


def _writes(router: APIRouter, runner: RequestRunner[Store]) -> None:
    @router.post("/images", status_code=202, response_model=CreatedView)
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
        created = await runner.run(lambda uow: commands.create_image(uow, command))
        image = created.image
        response.headers["Location"] = f"/v1/images/{image.image_id}"
        return CreatedView(
            image_id=image.image_id,
            status=image.status,
            status_label=STATUS_LABELS[image.status],
            quota=QuotaView.of(created.quota, language),
        )

    @router.patch("/images/{image_id}", response_model=ImageView)
    async def modify_image(
        tenant: CurrentTenant, image_id: UUID, body: ModifyImageBody
    ) -> ImageView:
        """C4: the owner changes the name or description of a `normal` image."""
        image = await runner.run(
            lambda uow: commands.modify_image(
                uow, tenant.account_id, image_id, name=body.name, description=body.description
            )
        )
        return ImageView.of(image)

    @router.delete("/images/{image_id}", status_code=204)
    async def delete_image(tenant: CurrentTenant, image_id: UUID) -> Response:
        """C5: the owner deletes a `normal` unpublished image, or a `failed` one."""
        await runner.run(lambda uow: commands.delete_image(uow, tenant.account_id, image_id))
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
        ids = dict.fromkeys(body.image_ids)  # each once, in the order given
        results = [
            await _delete_one(runner, tenant.account_id, image_id, correlation_id, language)
            for image_id in ids
        ]
        return BatchDeleteView(results=results)


async def _delete_one(
    runner: RequestRunner[Store],
    account_id: UUID,
    image_id: UUID,
    correlation_id: UUID,
    language: Language,
) -> DeleteResult:
    try:
        await runner.run(
            lambda uow: commands.delete_image(uow, account_id, image_id),
            correlation_id=correlation_id,
        )
    except ProblemError as refused:
        detail = refused.message.render(language)
        return DeleteResult(image_id=image_id, outcome="refused", code=refused.code, detail=detail)
    return DeleteResult(image_id=image_id, outcome="deleted")
