"""The notifier's tenant-facing HTTP API: the account's inbox (N3, N4) and its prompt
是否接受镜像 (N1, N2). zh-CN unless ``lang=en`` or ``Accept-Language: en`` asks for English."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, FastAPI, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from schemas.events import PromptAction, SharePromptUpdated
from services.common.auth import CurrentTenant
from services.common.http import PROBLEM_JSON, PROBLEM_SCHEMA_REF, ProblemError, RequestLanguage
from services.common.i18n import Language, Text
from services.common.requests import RequestRunner
from services.common.uow import UnitOfWorkFactory
from services.notifier import handlers
from services.notifier.domain import prompts
from services.notifier.domain.wording import InboxNotice
from services.notifier.ports import Store
from services.notifier.push import PromptHub, TooManyStreams

STREAM_DOC = (
    "Server-sent events: `event: prompt` whose `data` is a Prompts document (as GET "
    "/v1/prompts answers); `: heartbeat` comments every 15 s; `retry: 3000`."
)
PROBLEM_429 = {
    "description": "The account has too many open prompt streams (`code` too_many_streams)",
    "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA_REF}},
}
TOO_MANY_STREAMS = Text(
    "打开的提示推送过多，请关闭其他控制台页面后重试。",
    "Too many prompt streams are open for this account; close other console tabs.",
)


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

    hub = PromptHub(uow_factory.pool)
    app.state.prompt_hub = hub
    app.state.on_stopping = [*getattr(app.state, "on_stopping", ()), hub.close]

    @router.get(
        "/prompts/stream",
        response_class=StreamingResponse,
        responses={
            200: {
                "description": STREAM_DOC,
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
            429: PROBLEM_429,
        },
    )
    async def stream_prompts(
        tenant: CurrentTenant,
        language: RequestLanguage,
        lang: Literal["zh-CN", "en"] | None = None,
    ) -> StreamingResponse:
        """是否接受镜像, pushed: server-sent events, each ``event: prompt`` with the body of
        ``GET /v1/prompts``; the current prompt at once, then each new version within a
        second, ``: heartbeat`` comments between. Authorised by the Authorization header
        (read it with fetch(); EventSource cannot send one)."""
        try:
            subscriber = hub.reserve(tenant.account_id)
        except TooManyStreams:
            raise ProblemError(
                429, "too_many_streams", TOO_MANY_STREAMS, limit=hub.max_per_account
            ) from None
        chosen = lang or language

        async def read(account_id: UUID) -> str:
            version = await runner.read(
                lambda store: handlers.current_prompt(store, account_id, uow_factory.clock())
            )
            body = Prompts(prompts=[] if version is None else [_view(version, chosen)])
            return body.model_dump_json()

        return StreamingResponse(
            hub.events(tenant.account_id, subscriber, read),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

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
