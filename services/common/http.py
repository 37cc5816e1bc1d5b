"""The HTTP side every service shares: health, metrics, RFC 9457 problem documents.

Every problem document carries a stable ``code`` for programs and a ``detail`` for people,
in zh-CN unless the request's ``Accept-Language`` prefers English.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.consistency import HEADER as READ_AFTER
from services.common.consistency import TOKEN_ANSWER, WAIT_ANSWER
from services.common.i18n import Language, Text, negotiate
from services.common.problems import status_of
from services.common.refusals import Refusal

PROBLEM_JSON = "application/problem+json"
# Text without control characters, for names a request brings: none is ever meant, and NUL
# is one PostgreSQL refuses in text and jsonb (it answered 500).
PRINTABLE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
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


def _not_a_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("a number is expected, not a boolean")
    return value


# A JSON integer for request bodies: 40 and 40.0 (JSON Schema integers), never true/false.
JsonInt = Annotated[int, BeforeValidator(_not_a_bool)]


class ProblemDocument(BaseModel):
    """What every error answers (RFC 9457), as the OpenAPI documents it; refusals add their
    facts as extension members (e.g. ``quota``, ``errors``)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable, for programs: e.g. image_not_found")


PROBLEM_SCHEMA_REF = {"$ref": "#/components/schemas/ProblemDocument"}
_STATUS_WORDS = {
    400: "The request is refused as it is (e.g. `invalid_cursor`)",
    401: "No bearer token, or one that does not verify (`unauthorized`)",
    403: "Not the caller's to do (`forbidden`, `image_not_owned`)",
    404: "Missing, or not the caller's to see: answered alike",
    409: "The state or the account's limits forbid it now",
    422: "The request does not match the API, or a rule on a value (`invalid_request`, ...)",
    500: "An unexpected error (`internal_error`)",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for ``statuses``: each a problem document."""
    return {
        status: {
            "description": _STATUS_WORDS.get(status, "A problem document (RFC 9457)"),
            "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA_REF}},
        }
        for status in statuses
    }


def standard_statuses(method: str, operation: Mapping[str, Any]) -> tuple[int, ...]:
    """The error statuses an operation can answer, read from its OpenAPI: a bearer token
    (401), the admin tag (403), a path (404: missing or not the caller's), any input
    (422), a change (403 not the caller's, 409 the state forbids it); 400 and 500 always."""
    statuses = {400, 500}
    parameters = operation.get("parameters", [])
    if operation.get("security"):
        statuses.add(401)
    if "admin" in operation.get("tags", []):
        statuses.add(403)
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    if parameters or "requestBody" in operation:
        statuses.add(422)
    if method.upper() not in ("GET", "HEAD"):
        statuses |= {403, 409}
    return tuple(sorted(statuses))


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
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = GENERIC_CODES.get(exc.status_code, "error")
        detail = str(exc.detail)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names the methods of the first route of the path only; a path
            # served by several routes (GET, PATCH, DELETE) allows all of theirs.
            headers["Allow"] = ", ".join(allowed_methods(app, request))
        return problem(exc.status_code, _title(exc.status_code), detail, headers, code=code)

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

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = documented_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def documented_openapi(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI with every error each operation can answer, as problem documents:
    declared here once, from each operation's shape, so no route can forget one."""
    schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status, response in problem_responses(
                *standard_statuses(method, operation)
            ).items():
                # FastAPI's own 422 (HTTPValidationError) is never answered: a problem is.
                if str(status) not in responses or status == 422:
                    responses[str(status)] = response
            _document_read_after(operation)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ProblemDocument"] = ProblemDocument.model_json_schema()
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    return schema


def _document_read_after(operation: dict[str, Any]) -> None:
    """The IMS-Read-After answer header on the successes of the writes that hand out a
    token and of the reads that take one (services.common.consistency)."""
    takes = any(
        p.get("in") == "header" and p.get("name") == READ_AFTER
        for p in operation.get("parameters", [])
    )
    if operation.pop("x-ims-read-after", None) == "token":
        header = {"description": TOKEN_ANSWER, "schema": {"type": "string"}}
    elif takes:
        schema = {"type": "string", "enum": ["applied", "timeout", "invalid"]}
        header = {"description": WAIT_ANSWER, "schema": schema}
    else:
        return
    for status, response in operation.get("responses", {}).items():
        if str(status).startswith("2"):
            response.setdefault("headers", {})[READ_AFTER] = header


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Every method the OpenAPI documents at the request's path (so ``Allow`` and the
    documentation cannot disagree)."""
    matches: list[tuple[int, set[str]]] = []
    for template, operations in app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            matches.append((template.count("{"), {method.upper() for method in operations}))
    # A literal path (/v1/images/delete) is not a value of a template beside it.
    fewest = min((params for params, _ in matches), default=0)
    methods: set[str] = set()
    for params, found in matches:
        if params == fewest:
            methods |= found
    if "GET" in methods:
        methods.add("HEAD")  # Starlette answers HEAD wherever it answers GET
    return sorted(methods)


def _with_language(headers: Mapping[str, str] | None, language: Language) -> dict[str, str]:
    return {**(headers or {}), "Content-Language": language}


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
