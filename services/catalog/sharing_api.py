"""The catalog's part of sharing over HTTP: share tenants in an image's detail (C3) and the
launch check (C8, ``POST /v1/launch-checks``)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.catalog import launch, memberships
from services.catalog.domain import ImageStatus, Visibility
from services.catalog.store import ImageRecord, get_image
from services.common.auth import CurrentTenant
from services.common.db import Connection
from services.common.http import RequestLanguage
from services.common.i18n import Language

MEMBER_LABELS = {"pending": "待接受", "accepted": "已接受", "rejected": "已拒绝"}


class ShareTenantView(BaseModel):
    account_id: UUID
    account_name: str
    project_id: UUID | None
    project_name: str | None
    status: str
    status_label: str
    offered_at: datetime | None


class ShareTenantsView(BaseModel):
    """共享租户: how many accounts the image is shared with; the list only for its owner."""

    count: int
    members: list[ShareTenantView] | None


async def share_tenants(
    conn: Connection, image: ImageRecord, account_id: UUID
) -> ShareTenantsView | None:
    if image.visibility is not Visibility.PRIVATE:
        return None
    tenants = await memberships.tenants_of(conn, image.image_id)
    if image.owner_account_id != account_id:
        return ShareTenantsView(count=len(tenants), members=None)
    return ShareTenantsView(
        count=len(tenants),
        members=[
            ShareTenantView(
                account_id=t.member_account_id,
                account_name=t.member_account_name,
                project_id=t.member_project_id,
                project_name=t.member_project_name,
                status=t.status,
                status_label=MEMBER_LABELS[t.status],
                offered_at=t.offered_at,
            )
            for t in tenants
        ],
    )


class LaunchCheckRequest(BaseModel):
    image_id: UUID
    system_disk_gb: int = Field(ge=1, le=65536)
    memory_mb: int = Field(ge=1, le=16 * 1024 * 1024)


class FindingView(BaseModel):
    code: str
    message: str


class LaunchCheck(BaseModel):
    image_id: UUID
    allowed: bool
    reasons: list[FindingView]
    warnings: list[FindingView]


def launch_router(pool: asyncpg.Pool) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["launch"])

    @api.post("/launch-checks", response_model=LaunchCheck)
    async def check_launch(
        tenant: CurrentTenant, language: RequestLanguage, request: LaunchCheckRequest
    ) -> LaunchCheck:
        """May I create a host (通过镜像创建云主机) from this image with this system disk and
        memory? Public, my own, or shared with me and accepted; normal; same system disk."""
        async with pool.acquire() as conn:
            image = await get_image(conn, request.image_id)
            share = await memberships.membership(conn, request.image_id, tenant.account_id)
        decision = launch.check(
            tenant.account_id,
            request.image_id,
            _launch_image(image) if image else None,
            launch.Share(share.status, share.revoked_cause) if share else None,
            request.system_disk_gb,
            request.memory_mb,
        )
        return LaunchCheck(
            image_id=request.image_id,
            allowed=decision.allowed,
            reasons=[_view(f, language) for f in decision.reasons],
            warnings=[_view(f, language) for f in decision.warnings],
        )

    return api


def _launch_image(image: ImageRecord) -> launch.LaunchImage:
    return launch.LaunchImage(
        image_id=image.image_id,
        visibility=image.visibility,
        owner_account_id=image.owner_account_id,
        status=ImageStatus(image.status),
        os_family=(image.os or {}).get("family"),
        system_disk_gb=image.system_disk_gb,
    )


def _view(finding: launch.Finding, language: Language) -> FindingView:
    return FindingView(code=finding.code, message=finding.text.render(language))
