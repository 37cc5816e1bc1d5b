"""The catalog's refusals as problem documents: which HTTP status each code answers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.catalog.domain import Refusal
from services.common.http import ProblemError
from services.common.i18n import negotiate

STATUS_OF_CODE: dict[str, int] = {
    "image_not_found": 404,  # also someone else's private image: never 403
    "image_not_owned": 403,  # a public image: visible to all, changed by none
    "invalid_image_status": 409,
    "image_published": 409,
    "public_image": 409,
    "quota_exceeded": 409,
    "image_exists": 409,
    "idempotency_key_reused": 409,
    "invalid_name": 422,
    "invalid_description": 422,
    "nothing_to_update": 422,
}


def as_problem(refusal: Refusal) -> ProblemError:
    status = STATUS_OF_CODE.get(refusal.code, 409)
    return ProblemError(status, refusal.code, refusal.message, extra=refusal.facts)


def install_refusal_handler(app: FastAPI) -> None:
    @app.exception_handler(Refusal)
    async def refused(request: Request, refusal: Refusal) -> JSONResponse:
        return as_problem(refusal).response(negotiate(request.headers.get("accept-language")))
