"""The notifier's tenant-facing HTTP API: the account's inbox (N3, N4) and its prompt
是否接受镜像 (N1, N2). zh-CN unless ``lang=en`` or ``Accept-Language: en`` asks for English."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, FastAPI, Query, Response
from pydantic import BaseModel

from schemas.events import PromptAction, SharePromptUpdated
from services.common.auth import CurrentTenant
from services.common.http import RequestLanguage
from services.common.i18n import Language
from services.common.requests import RequestRunner
from services.common.uow import UnitOfWorkFactory
from services.notifier import handlers
from services.notifier.domain import prompts
from services.notifier.domain.wording import InboxNotice
from services.notifier.ports import Store


class PromptImageView(BaseModel):
    image_id: UUID
    name: str
    owner_account_id: UUID
    owner_account_name: str
    offered_at: datetime


class PromptActionView(BaseModel):
    action: str
    label: str
    method: str
    path: str
    body: dict[str, bool] | None

    @classmethod
    def of(cls, action: PromptAction, language: Language) -> PromptActionView:
        return cls(
            action=action.action,
            label=prompts.label(action, language),
            method=action.method,
            path=action.path,
            body=action.body,
        )


class PromptView(BaseModel):
    id: UUID
    title: str
    text: str
    pending_count: int
    images: list[PromptImageView]
    actions: list[PromptActionView]


class Prompts(BaseModel):
    """The account's prompts: one while anything is pending, none otherwise."""

    prompts: list[PromptView]


class NoticeView(BaseModel):
    id: UUID
    image_id: UUID | None  # None for the prompt, which lists its images
    kind: str
    text: str
    created_at: datetime
    updated_at: datetime
    read: bool
    prompt: dict[str, Any] | None = None  # the prompt's images and actions

    @classmethod
    def of(cls, notice: InboxNotice, language: Language) -> NoticeView:
        return cls(
            id=notice.notice_id,
            image_id=notice.image_id,
            kind=notice.text.kind,
            text=notice.text.zh if language == "zh-CN" else notice.text.en,
            created_at=notice.created_at,
            updated_at=notice.updated_at,
            read=notice.read,
            prompt=notice.body,
        )


def install_routes(app: FastAPI, uow_factory: UnitOfWorkFactory[Store]) -> None:
    runner = RequestRunner(uow_factory)
    router = APIRouter(prefix="/v1")

    @router.get("/notices", response_model=list[NoticeView])
    async def list_notices(
        tenant: CurrentTenant,
        language: RequestLanguage,
        lang: Literal["zh-CN", "en"] | None = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> list[NoticeView]:
        """The account's notices, unread first, newest first."""
        notices = await runner.read(
            lambda store: handlers.list_notices(store, tenant.account_id, limit)
        )
        return [NoticeView.of(notice, lang or language) for notice in notices]

    @router.post("/notices/{notice_id}/read", status_code=204)
    async def mark_read(tenant: CurrentTenant, notice_id: UUID) -> Response:
        await runner.run(lambda uow: handlers.mark_read(uow, tenant.account_id, notice_id))
        return Response(status_code=204)

    @router.get("/prompts", response_model=Prompts)
    async def list_prompts(
        tenant: CurrentTenant,
        language: RequestLanguage,
        lang: Literal["zh-CN", "en"] | None = None,
    ) -> Prompts:
        """是否接受镜像: every image offered to me and still pending, with accept-all /
        reject-all / details; no prompt when nothing is pending."""
        at = uow_factory.clock()
        version = await runner.read(
            lambda store: handlers.current_prompt(store, tenant.account_id, at)
        )
        return Prompts(prompts=[] if version is None else [_view(version, lang or language)])

    app.include_router(router)


def _view(version: SharePromptUpdated, language: Language) -> PromptView:
    english = language == "en"
    return PromptView(
        id=version.prompt_id,
        title=version.title_en if english else version.title_zh,
        text=version.text_en if english else version.text_zh,
        pending_count=version.pending_count,
        images=[PromptImageView(**i.model_dump(exclude={"membership_id"})) for i in version.images],
        actions=[PromptActionView.of(a, language) for a in version.actions],
    )
