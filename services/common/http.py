"""The HTTP side every service shares: health, metrics, RFC 9457 problem documents.

Every problem document carries a stable ``code`` for programs and a ``detail`` for people,
in zh-CN unless the request's ``Accept-Language`` prefers English.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Annotated

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.i18n import Language, Text, negotiate
from services.common.problems import status_of
from services.common.refusals import Refusal

PROBLEM_JSON = "application/problem+json"
# The code of a problem raised without one (e.g. a route that does not exist), by status.
GENERIC_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "invalid_request",
    500: "internal_error",
}
INVALID_REQUEST = Text(
    "请求与接口定义不符，请检查以下字段。", "The request does not match the API."
)
INTERNAL_ERROR = Text("服务内部错误，请稍后重试。", "An unexpected error occurred.")


class ProblemError(Exception):
    """A refusal to answer with a problem document: a stable ``code``, a message in both
    languages, and any extra members (e.g. the quota that was exceeded)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: Text,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, object] | None = None,
        **more: object,
    ) -> None:
        super().__init__(message.en)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.extra = {**(extra or {}), **more}

    def response(self, language: Language) -> JSONResponse:
        return problem(
            self.status,
            _title(self.status),
            self.message.render(language),
            _with_language(self.headers, language),
            code=self.code,
            **self.extra,
        )


def problem_of(refusal: Refusal) -> ProblemError:
    """The problem document of a refusal: the status of its code, its facts as members."""
    return ProblemError(
        status_of(refusal.code), refusal.code, refusal.message, extra=dict(refusal.facts)
    )


async def request_language(request: Request) -> Language:
    """FastAPI dependency (``async``: a plain ``def`` would run in a thread pool)."""
    return negotiate(request.headers.get("accept-language"))


# The language a request asks for, for route signatures: ``language: RequestLanguage``.
RequestLanguage = Annotated[Language, Depends(request_language)]
# For a route's ``responses=``: its refusals are problem documents (OpenAPI).
PROBLEMS: dict[int | str, dict[str, object]] = {
    status: {
        "description": "A problem document (RFC 9457) with a stable `code`",
        "content": {PROBLEM_JSON: {}},
    }
    for status in (400, 403, 404, 409, 422)
}


_log = structlog.get_logger(__name__)

HealthCheck = Callable[[], Awaitable[bool]]


def problem(
    status: int,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    /,
    **extra: object,
) -> JSONResponse:
    body: dict[str, object] = {
        # about:blank: the status says what kind of problem it is; ``code`` says which.
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    # Extension members never replace the standard ones (RFC 9457 section 3.2).
    body.update({key: value for key, value in extra.items() if key not in body})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def create_http_app(service: str, healthy: HealthCheck) -> FastAPI:
    app = FastAPI(title=f"IMS {service}", version="0.1.0")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        ok = await healthy()
        return JSONResponse(
            {"status": "ok" if ok else "unavailable"}, status_code=200 if ok else 503
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(ProblemError)
    async def refused(request: Request, exc: ProblemError) -> JSONResponse:
        return exc.response(negotiate(request.headers.get("accept-language")))

    @app.exception_handler(Refusal)
    async def rule_refused(request: Request, refusal: Refusal) -> JSONResponse:
        return problem_of(refusal).response(negotiate(request.headers.get("accept-language")))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = GENERIC_CODES.get(exc.status_code, "error")
        detail = str(exc.detail)
        return problem(exc.status_code, _title(exc.status_code), detail, exc.headers, code=code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        return ProblemError(422, "invalid_request", INVALID_REQUEST, errors=errors).response(
            negotiate(request.headers.get("accept-language"))
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        _log.error("http.unexpected", path=request.url.path, exc_info=exc)
        return ProblemError(500, "internal_error", INTERNAL_ERROR).response(
            negotiate(request.headers.get("accept-language"))
        )

    return app


def _with_language(headers: Mapping[str, str] | None, language: Language) -> dict[str, str]:
    return {**(headers or {}), "Content-Language": language}


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
