"""The catalog's tenant-facing HTTP API (C2 lists, C3 detail)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, FastAPI, HTTPException, Query
from pydantic import BaseModel

from services.catalog import sharing_api, store
from services.catalog.domain import (
    IMAGE_TYPE_LABEL,
    PUBLISH_LABELS,
    STATUS_LABELS,
    ImageStatus,
    PublishStatus,
    Tab,
    Visibility,
    bytes_to_console_gb,
)
from services.common.auth import CurrentTenant


class ImageSourceView(BaseModel):
    host_id: UUID
    host_name: str | None


class FailureView(BaseModel):
    code: str
    reason: str


class ImageView(BaseModel):
    id: UUID
    name: str
    description: str
    status: ImageStatus
    status_label: str
    visibility: Visibility
    image_type: str
    os: dict[str, Any] | None
    os_label: str | None
    system_disk_gb: int | None
    min_memory_mb: int | None
    disk_format: str | None
    size_bytes: int | None
    size_label: str | None
    checksum_sha256: str | None
    publish_status: PublishStatus
    publish_status_label: str
    source: ImageSourceView | None
    progress: int
    failure: FailureView | None
    shared: bool
    created_at: datetime
    share_tenants: sharing_api.ShareTenantsView | None = None  # in the detail only (C3)

    @classmethod
    def of(cls, image: store.ImageRecord) -> ImageView:
        os_label = None
        if image.os:
            os_label = " ".join(p for p in (image.os.get("distro"), image.os.get("version")) if p)
            os_label = f"{os_label} 64bit"
        source = (
            ImageSourceView(host_id=image.source_host_id, host_name=image.source_host_name)
            if image.source_host_id
            else None
        )
        failure = (
            FailureView(code=image.failure_code, reason=image.failure_reason or "")
            if image.failure_code
            else None
        )
        return cls(
            id=image.image_id,
            name=image.name,
            description=image.description,
            status=image.status,
            status_label=STATUS_LABELS[image.status],
            visibility=image.visibility,
            image_type=IMAGE_TYPE_LABEL,
            os=image.os,
            os_label=os_label,
            system_disk_gb=image.system_disk_gb,
            min_memory_mb=image.min_memory_mb,
            disk_format=image.disk_format,
            size_bytes=image.size_bytes,
            size_label=bytes_to_console_gb(image.size_bytes)
            if image.size_bytes is not None
            else None,
            checksum_sha256=image.checksum_sha256,
            publish_status=image.publish_status,
            publish_status_label=PUBLISH_LABELS[image.publish_status],
            source=source,
            progress=image.progress,
            failure=failure,
            shared=image.shared,
            created_at=image.created_at,
        )


class ImagePage(BaseModel):
    items: list[ImageView]
    next_cursor: str | None


def install_routes(app: FastAPI, pool: asyncpg.Pool) -> None:
    router = APIRouter(prefix="/v1")

    @router.get("/images", response_model=ImagePage)
    async def list_images(
        tenant: CurrentTenant,
        tab: Annotated[Literal["public", "private", "shared"], Query()] = "private",
        status: ImageStatus | None = None,
        os_family: Literal["windows", "linux"] | None = None,
        name: Annotated[str | None, Query(max_length=128, pattern=r"^[^\x00]*$")] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, Query(max_length=512)] = None,
    ) -> ImagePage:
        query = store.ListQuery(
            account_id=tenant.account_id,
            tab=Tab(tab),
            status=status,
            os_family=os_family,
            name_contains=name,
            limit=limit,
            cursor=cursor,
        )
        try:
            async with pool.acquire() as conn:
                images, next_cursor = await store.list_images(conn, query)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from exc
        return ImagePage(items=[ImageView.of(i) for i in images], next_cursor=next_cursor)

    @router.get("/images/{image_id}", response_model=ImageView)
    async def get_image(tenant: CurrentTenant, image_id: UUID) -> ImageView:
        async with pool.acquire() as conn:
            image = await store.get_visible_image(conn, image_id, tenant.account_id)
            if image is None:  # missing, deleted, or someone else's private image: all alike
                raise HTTPException(404, f"Image {image_id} does not exist.")
            tenants = await sharing_api.share_tenants(conn, image, tenant.account_id)
        return ImageView.of(image).model_copy(update={"share_tenants": tenants})

    app.include_router(router)
    app.include_router(sharing_api.router(pool))
