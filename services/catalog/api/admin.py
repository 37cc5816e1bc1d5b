"""Platform administrators: account quotas (C6), publish status (C7), public images (C1).
Every route needs the admin role (403 otherwise)."""

from __future__ import annotations

from uuid import UUID, uuid4

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from schemas.events import DiskFormat, OperatingSystem
from services.catalog.api.images import DESCRIPTION_DOC, NAME_DOC
from services.catalog.api.views import AccountQuotaView, ImageView, QuotaView
from services.catalog.domain import NewPublicImage, PublishStatus
from services.catalog.handlers import commands, queries
from services.catalog.ports import Store
from services.common.auth import CurrentAdmin
from services.common.http import PRINTABLE_PATTERN, JsonInt, RequestLanguage
from services.common.requests import RequestRunner

_TEXT_BOUND = 8192


class QuotaBody(BaseModel):
    private_images: JsonInt = Field(
        ge=0, le=100_000, description="Private images the account may hold"
    )


class PublicImageOs(OperatingSystem):
    """The event's OperatingSystem, its texts printable (a NUL in jsonb answered 500)."""

    distro: str = Field(min_length=1, pattern=PRINTABLE_PATTERN, description="e.g. Ubuntu")
    version: str = Field(pattern=PRINTABLE_PATTERN, description="e.g. 22.04")


class PublicImageBody(BaseModel):
    image_id: UUID | None = Field(default=None, description="Chosen by the platform; new if absent")
    name: str = Field(
        max_length=_TEXT_BOUND, description="1-128 characters", json_schema_extra=NAME_DOC
    )
    description: str = Field(default="", max_length=_TEXT_BOUND, json_schema_extra=DESCRIPTION_DOC)
    os: PublicImageOs
    system_disk_gb: JsonInt = Field(ge=1, le=65536)
    min_memory_mb: JsonInt = Field(ge=0, le=16 * 1024 * 1024)
    disk_format: DiskFormat | None = None
    size_bytes: JsonInt | None = Field(default=None, ge=0)
    checksum_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


def admin_router(runner: RequestRunner[Store]) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["admin"])

    @router.get("/accounts/{account_id}/quota", response_model=AccountQuotaView)
    async def read_quota(
        _: CurrentAdmin, language: RequestLanguage, account_id: UUID
    ) -> AccountQuotaView:
        quota = await runner.read(lambda store: queries.account_quota(store, account_id))
        return AccountQuotaView(account_id=account_id, private_images=QuotaView.of(quota, language))

    @router.put("/accounts/{account_id}/quota", response_model=AccountQuotaView)
    async def set_quota(
        _: CurrentAdmin, language: RequestLanguage, account_id: UUID, body: QuotaBody
    ) -> AccountQuotaView:
        """C6: raise (the seed's "submit a ticket") or lower an account's private image
        quota. Images it holds stay; a lower quota only refuses new ones."""
        limit = body.private_images
        quota = await runner.run(lambda uow: commands.set_quota(uow, account_id, limit))
        return AccountQuotaView(account_id=account_id, private_images=QuotaView.of(quota, language))

    async def set_publish_status(image_id: UUID, status: PublishStatus) -> ImageView:
        image = await runner.run(lambda uow: commands.set_publish_status(uow, image_id, status))
        return ImageView.of(image)

    @router.post("/images/{image_id}/publish", response_model=ImageView)
    async def publish(_: CurrentAdmin, image_id: UUID) -> ImageView:
        """C7: a published image cannot be deleted by its owner."""
        return await set_publish_status(image_id, PublishStatus.PUBLISHED)

    @router.post("/images/{image_id}/unpublish", response_model=ImageView)
    async def unpublish(_: CurrentAdmin, image_id: UUID) -> ImageView:
        return await set_publish_status(image_id, PublishStatus.UNPUBLISHED)

    @router.post("/public-images", status_code=201, response_model=ImageView)
    async def add_public_image(
        _: CurrentAdmin, response: Response, body: PublicImageBody
    ) -> ImageView:
        """C1: a public image every tenant sees; announced as PublicImageAdded."""
        new = NewPublicImage(
            image_id=body.image_id or uuid4(),
            name=body.name,
            description=body.description,
            os=body.os.model_dump(mode="json"),
            system_disk_gb=body.system_disk_gb,
            min_memory_mb=body.min_memory_mb,
            disk_format=body.disk_format,
            size_bytes=body.size_bytes,
            checksum_sha256=body.checksum_sha256,
        )
        image = await runner.run(lambda uow: commands.add_public_image(uow, new))
        response.headers["Location"] = f"/v1/images/{image.image_id}"
        return ImageView.of(image)

    @router.delete("/public-images/{image_id}", status_code=204)
    async def retire_public_image(_: CurrentAdmin, image_id: UUID) -> Response:
        """C1: the image leaves the public tab; announced as PublicImageRetired."""
        await runner.run(lambda uow: commands.retire_public_image(uow, image_id))
        return Response(status_code=204)

    return router
