"""Problem documents speak the console's language (zh-CN) unless the request prefers
English, and always carry a stable ``code`` a program can switch on."""

from __future__ import annotations

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from services.common.http import ProblemError, create_http_app
from services.common.i18n import Text, negotiate


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh-CN"),
        ("", "zh-CN"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("fr-FR, en;q=0.5", "en"),
        ("en;q=0.3, zh;q=0.7", "zh-CN"),
        ("de", "zh-CN"),
        ("en;q=0", "zh-CN"),
        ("en;q=oops", "zh-CN"),
    ],
)
def test_the_language_a_request_asks_for(header: str | None, language: str) -> None:
    assert negotiate(header) == language


async def _healthy() -> bool:
    return True


def client() -> TestClient:
    app = create_http_app("test", _healthy)
    router = APIRouter()

    @router.get("/full")
    async def full() -> None:
        raise ProblemError(409, "quota_exceeded", Text("配额已用完。", "Quota used up."), limit=10)

    @router.get("/items/{number}")
    async def item(number: int) -> int:
        return number

    app.include_router(router)
    return TestClient(app, raise_server_exceptions=False)


def test_a_refusal_is_a_problem_with_a_code_in_zh_cn_by_default() -> None:
    response = client().get("/full")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["content-language"] == "zh-CN"
    assert response.json() == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "配额已用完。",
        "code": "quota_exceeded",
        "limit": 10,
    }


def test_english_on_request() -> None:
    response = client().get("/full", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert response.json()["detail"] == "Quota used up."
    assert response.headers["content-language"] == "en"


def test_generic_problems_carry_codes_too() -> None:
    invalid = client().get("/items/seven", headers={"Accept-Language": "en"})
    assert invalid.status_code == 422
    assert invalid.json()["code"] == "invalid_request"
    assert invalid.json()["errors"][0]["field"] == "path.number"
    missing = client().get("/nowhere")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
