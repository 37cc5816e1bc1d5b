"""The HTTP side every service shares: health, metrics, RFC 9457 problem documents."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"

_log = structlog.get_logger(__name__)

HealthCheck = Callable[[], Awaitable[bool]]


def problem(
    status: int,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extra: object,
) -> JSONResponse:
    body: dict[str, object] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


class Problem(Exception):
    """A refusal answered with a problem document that carries a stable ``code`` (for
    programs) and a ``detail`` a person understands, in the language of the request."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


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

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, _title(exc.status_code), str(exc.detail), exc.headers)

    @app.exception_handler(Problem)
    async def refused(_: Request, exc: Problem) -> JSONResponse:
        return problem(exc.status, _title(exc.status), exc.detail, code=exc.code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        return problem(
            422,
            "Invalid request",
            "The request does not match the API.",
            code="invalid_request",
            errors=errors,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        _log.error("http.unexpected", path=request.url.path, exc_info=exc)
        return problem(500, "Internal Server Error", "An unexpected error occurred.")

    return app


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
