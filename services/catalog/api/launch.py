"""The launch check over HTTP (C8, ``POST /v1/launch-checks``); its rules are
``domain.launch``."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from services.catalog.api.views import CONSUMED
from services.catalog.domain import launch
from services.catalog.handlers import queries
from services.catalog.ports import Store
from services.common.auth import CurrentTenant
from services.common.consistency import HEADER, ReadAfterToken
from services.common.http import JsonInt, RequestLanguage
from services.common.i18n import Language
from services.common.requests import RequestRunner


class LaunchCheckRequest(BaseModel):
    image_id: UUID
    system_disk_gb: JsonInt = Field(ge=1, le=65536)
    memory_mb: JsonInt = Field(ge=1, le=16 * 1024 * 1024)


class FindingView(BaseModel):
    code: str
    message: str

    @classmethod
    def of(cls, finding: launch.Finding, language: Language) -> FindingView:
        return cls(code=finding.code, message=finding.text.render(language))


class LaunchCheck(BaseModel):
    image_id: UUID
    allowed: bool
    reasons: list[FindingView]
    warnings: list[FindingView]


def launch_router(runner: RequestRunner[Store]) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["launch"])

    @api.post("/launch-checks", response_model=LaunchCheck)
    async def check_launch(
        tenant: CurrentTenant,
        language: RequestLanguage,
        request: LaunchCheckRequest,
        response: Response,
        read_after: ReadAfterToken = None,
    ) -> LaunchCheck:
        """May I create a host (通过镜像创建云主机) from this image with this system disk and
        memory? Public, my own, or shared with me and accepted; normal; same system disk."""
        waited = await runner.wait_applied(read_after, CONSUMED)
        if waited is not None:
            response.headers[HEADER] = waited
        decision = await runner.read(
            lambda store: queries.check_launch(
                store,
                tenant.account_id,
                request.image_id,
                request.system_disk_gb,
                request.memory_mb,
            )
        )
        return LaunchCheck(
            image_id=request.image_id,
            allowed=decision.allowed,
            reasons=[FindingView.of(f, language) for f in decision.reasons],
            warnings=[FindingView.of(f, language) for f in decision.warnings],
        )

    return api
