"""Verified tenant identity: every bad token is a 401 (or 403 for a missing role), never a
500, and never a tenant the platform did not sign for."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta
from typing import Any
from uuid import uuid4

import jwt
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from schemas.envelope import utc_now
from services.common.auth import AUDIENCE, CurrentAdmin, CurrentTenant, issue_token
from services.common.http import create_http_app

SECRET = "s" * 40


async def _healthy() -> bool:
    return True


def client() -> TestClient:
    app = create_http_app("test", _healthy)
    app.state.auth_secret = SECRET
    router = APIRouter()

    @router.get("/whoami")
    async def whoami(tenant: CurrentTenant) -> dict[str, Any]:
        return {"account_id": str(tenant.account_id), "roles": sorted(tenant.roles)}

    @router.get("/admin-only")
    async def admin_only(admin: CurrentAdmin) -> dict[str, str]:
        return {"admin": str(admin.account_id)}

    app.include_router(router)
    return TestClient(app, raise_server_exceptions=False)


def claims(**overrides: Any) -> dict[str, Any]:
    now = utc_now()
    base = {"sub": str(uuid4()), "aud": AUDIENCE, "iat": now, "exp": now + timedelta(hours=1)}
    return {**base, **overrides}


def signed(payload: dict[str, Any], key: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


def unsigned(payload: dict[str, Any]) -> str:
    """An ``alg: none`` token: a header and a body, no signature."""

    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value, default=str).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    body = {k: int(v.timestamp()) if k in ("iat", "exp") else v for k, v in payload.items()}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(body)}."


def call(token: str | None, path: str = "/whoami") -> Any:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return client().get(path, headers=headers)


def test_a_token_the_platform_signed_names_the_tenant() -> None:
    account = uuid4()
    response = call(issue_token(SECRET, account, "alice", roles=("admin",)))
    assert response.status_code == 200
    assert response.json() == {"account_id": str(account), "roles": ["admin"]}


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(signed(claims(exp=utc_now() - timedelta(seconds=5))), id="expired"),
        pytest.param(signed(claims(aud="billing")), id="wrong-audience"),
        pytest.param(signed({k: v for k, v in claims().items() if k != "aud"}), id="no-audience"),
        pytest.param(signed({k: v for k, v in claims().items() if k != "exp"}), id="no-expiry"),
        pytest.param(signed(claims(), key="another-key-" * 4), id="another-key"),
        pytest.param(signed(claims(), algorithm="HS512"), id="another-algorithm"),
        pytest.param(unsigned(claims()), id="alg-none"),
        pytest.param(signed(claims(sub="not-an-account")), id="sub-not-an-id"),
        pytest.param(signed(claims(roles="admin")), id="roles-a-string"),
        pytest.param(signed(claims(roles=5)), id="roles-a-number"),
        pytest.param(signed(claims(roles=[["admin"]])), id="roles-nested"),
        pytest.param(signed(claims(name={"x": 1})), id="name-an-object"),
        pytest.param("not.a.token", id="garbage"),
        pytest.param("", id="empty"),
    ],
)
def test_a_bad_token_is_a_401_problem_with_a_bearer_challenge(token: str) -> None:
    response = call(token)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["status"] == 401


def test_no_token_is_a_401() -> None:
    assert call(None).status_code == 401


def test_a_string_roles_claim_never_makes_an_admin() -> None:
    """'admin' as a string must not count, neither as the role nor as letters of it."""
    assert call(signed(claims(roles="admin")), "/admin-only").status_code == 401


def test_an_admin_route_needs_the_admin_role() -> None:
    account = uuid4()
    tenant = call(issue_token(SECRET, account, "bob"), "/admin-only")
    assert tenant.status_code == 403
    assert tenant.headers["content-type"] == "application/problem+json"
    admin = call(issue_token(SECRET, account, "ops", roles=("admin",)), "/admin-only")
    assert admin.status_code == 200


def test_a_cached_token_still_expires() -> None:
    """Verified tokens are kept for repeat requests; their expiry is checked every time."""
    token = signed(claims(exp=utc_now() + timedelta(seconds=2)))
    assert call(token).status_code == 200
    assert call(token).status_code == 200  # from the cache
    time.sleep(2.1)
    assert call(token).status_code == 401
