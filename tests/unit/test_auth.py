"""Verified tenant identity: every bad token is a 401 (or 403 for a missing role), never a
500, and never a tenant the platform's issuer did not sign for. Tokens are verified by the
issuer's public keys (a JWKS file here); keys rotate with tokens of both in flight."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import APIRouter
from fastapi.testclient import TestClient

from ims_testkit.tokens import ISSUER, Issuer
from schemas.envelope import utc_now
from services.common.auth import CurrentAdmin, CurrentTenant
from services.common.http import create_http_app
from services.common.tokens import (
    AUDIENCE,
    MISS_REFRESH_SECONDS,
    REFRESH_SECONDS,
    DemoHs256Verifier,
    JwksVerifier,
    TokenVerifier,
)


class Clock:
    """The verifier's clock for when it reads the key set again: moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _healthy() -> bool:
    return True


def client(verifier: TokenVerifier) -> TestClient:
    app = create_http_app("test", _healthy)
    app.state.token_verifier = verifier
    router = APIRouter()

    @router.get("/whoami")
    async def whoami(tenant: CurrentTenant) -> dict[str, Any]:
        return {"account_id": str(tenant.account_id), "roles": sorted(tenant.roles)}

    @router.get("/admin-only")
    async def admin_only(admin: CurrentAdmin) -> dict[str, str]:
        return {"admin": str(admin.account_id)}

    app.include_router(router)
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def issuer() -> Issuer:
    return Issuer.generate()


@pytest.fixture
def jwks(tmp_path: Path, issuer: Issuer) -> Path:
    path = tmp_path / "jwks.json"
    issuer.write_jwks(path)
    return path


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(jwks: Path, clock: Clock) -> Iterator[TestClient]:
    with client(JwksVerifier(str(jwks), ISSUER, clock=clock)) as test_client:
        yield test_client


def call(api: TestClient, token: str | None, path: str = "/whoami") -> Any:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return api.get(path, headers=headers)


def claims(**overrides: Any) -> dict[str, Any]:
    now = utc_now()
    base = {
        "iss": ISSUER,
        "sub": str(uuid4()),
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    return {k: v for k, v in {**base, **overrides}.items() if v is not None}


def signed(issuer: Issuer, payload: dict[str, Any], *, kid: str | None = None) -> str:
    """Signed by the issuer's current key, as the issuer would, but with any claims."""
    kid = kid or issuer.current_kid
    return jwt.encode(payload, issuer.keys[kid], algorithm="ES256", headers={"kid": kid})


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _part(value: dict[str, Any]) -> str:
    body = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in value.items()}
    return _b64(json.dumps(body).encode())


def unsigned(payload: dict[str, Any], kid: str) -> str:
    """An ``alg: none`` token: a header and a body, no signature."""
    return f"{_part({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_part(payload)}."


def hmac_signed(payload: dict[str, Any], secret: bytes, kid: str) -> str:
    """HS256 with ``secret`` (PyJWT itself refuses to use a public key as one)."""
    signing_input = f"{_part({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{_part(payload)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def public_pem(issuer: Issuer) -> bytes:
    return (
        issuer.keys[issuer.current_kid]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def test_a_token_the_issuer_signed_names_the_tenant(api: TestClient, issuer: Issuer) -> None:
    account = uuid4()
    response = call(api, issuer.token(account, "alice", roles=("admin",)))
    assert response.status_code == 200
    assert response.json() == {"account_id": str(account), "roles": ["admin"]}


def bad_tokens(issuer: Issuer) -> dict[str, str]:
    kid = issuer.current_kid
    other = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    past, future = utc_now() - timedelta(hours=2), utc_now() + timedelta(hours=2)
    return {
        "alg-none": unsigned(claims(), kid),
        # The public key as an HMAC secret: it is public, so anyone could sign such a token.
        "hs256-with-the-public-key": hmac_signed(claims(), public_pem(issuer), kid),
        "hs256-demo-secret": jwt.encode(claims(), "s" * 40, algorithm="HS256"),
        "unknown-kid": jwt.encode(claims(), other, algorithm="ES256", headers={"kid": "nope"}),
        "another-key-same-kid": jwt.encode(claims(), other, "ES256", headers={"kid": kid}),
        "rs256-for-an-ec-key": jwt.encode(claims(), rsa_key, "RS256", headers={"kid": kid}),
        "no-kid": jwt.encode(claims(), issuer.keys[kid], algorithm="ES256"),
        "expired": signed(issuer, claims(iat=past, exp=past + timedelta(minutes=5))),
        "not-yet-valid": signed(issuer, claims(nbf=future)),
        "wrong-audience": signed(issuer, claims(aud="billing")),
        "no-audience": signed(issuer, claims(aud=None)),
        "wrong-issuer": signed(issuer, claims(iss="https://evil.example")),
        "no-issuer": signed(issuer, claims(iss=None)),
        "no-expiry": signed(issuer, claims(exp=None)),
        "sub-not-an-id": signed(issuer, claims(sub="not-an-account")),
        "roles-a-string": signed(issuer, claims(roles="admin")),
        "roles-a-number": signed(issuer, claims(roles=5)),
        "roles-nested": signed(issuer, claims(roles=[["admin"]])),
        "name-an-object": signed(issuer, claims(name={"x": 1})),
        "garbage": "not.a.token",
        "empty": "",
    }


BAD = sorted(bad_tokens(Issuer.generate()))


@pytest.mark.parametrize("kind", BAD)
def test_a_bad_token_is_a_401_problem_with_a_bearer_challenge(
    api: TestClient, issuer: Issuer, kind: str
) -> None:
    response = call(api, bad_tokens(issuer)[kind])
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["status"] == 401


def test_no_token_is_a_401(api: TestClient) -> None:
    assert call(api, None).status_code == 401


def test_a_string_roles_claim_never_makes_an_admin(api: TestClient, issuer: Issuer) -> None:
    """'admin' as a string must not count, neither as the role nor as letters of it."""
    assert call(api, signed(issuer, claims(roles="admin")), "/admin-only").status_code == 401


def test_an_admin_route_needs_the_admin_role(api: TestClient, issuer: Issuer) -> None:
    account = uuid4()
    tenant = call(api, issuer.token(account, "bob"), "/admin-only")
    assert tenant.status_code == 403
    assert tenant.headers["content-type"] == "application/problem+json"
    admin = call(api, issuer.token(account, "ops", roles=("admin",)), "/admin-only")
    assert admin.status_code == 200


def test_a_cached_token_still_expires(jwks: Path, issuer: Issuer) -> None:
    """Verified tokens are kept for repeat requests; their expiry is checked every time."""
    verifier = JwksVerifier(str(jwks), ISSUER)
    token = issuer.token(uuid4(), ttl=timedelta(seconds=60))

    async def twice_then_later() -> None:
        await verifier.verify(token)
        cached = verifier._cache.get(token)
        assert cached is not None  # the second call is served from here
        verifier._cache.put(token, type(cached)(cached.tenant, 0.0, cached.kid))
        with pytest.raises(jwt.ExpiredSignatureError):
            await verifier.verify(token)

    asyncio.run(twice_then_later())


def test_a_rotated_key_verifies_at_once_and_both_keys_verify_during_the_overlap(
    api: TestClient, issuer: Issuer, jwks: Path, clock: Clock
) -> None:
    old = issuer.token(uuid4(), "old")
    assert call(api, old).status_code == 200

    issuer.rotate()  # the issuer publishes the new key, then signs with it
    issuer.write_jwks(jwks)
    clock.now += MISS_REFRESH_SECONDS
    new = issuer.token(uuid4(), "new")
    assert call(api, new).status_code == 200  # an unknown kid reads the set again
    assert call(api, old).status_code == 200  # tokens of both keys verify


def test_a_retired_key_stops_verifying_cached_tokens_included(
    api: TestClient, issuer: Issuer, jwks: Path, clock: Clock
) -> None:
    first = issuer.current_kid
    old = issuer.token(uuid4(), "old")
    assert call(api, old).status_code == 200  # verified once: cached
    issuer.rotate()
    issuer.retire(first)
    issuer.write_jwks(jwks)
    new = issuer.token(uuid4(), "new")
    clock.now += REFRESH_SECONDS  # the services read the set again within a minute
    assert call(api, new).status_code == 200
    assert call(api, old).status_code == 401


def test_an_unknown_kid_reads_the_set_again_at_most_every_few_seconds(
    issuer: Issuer, jwks: Path, clock: Clock
) -> None:
    """Tokens with made-up kids must not make every request read the key set."""
    reads = 0
    verifier = JwksVerifier(str(jwks), ISSUER, clock=clock)
    refresh = verifier.refresh

    async def counted() -> None:
        nonlocal reads
        reads += 1
        await refresh()

    verifier.refresh = counted  # type: ignore[method-assign]
    other = ec.generate_private_key(ec.SECP256R1())

    async def flood() -> None:
        for n in range(20):
            token = jwt.encode(claims(), other, algorithm="ES256", headers={"kid": f"k{n}"})
            with pytest.raises(jwt.InvalidTokenError):
                await verifier.verify(token)

    asyncio.run(flood())
    assert reads == 1  # the first read; the misses within MISS_REFRESH_SECONDS read nothing


def test_a_key_set_that_cannot_be_read_keeps_the_last_one(
    api: TestClient, issuer: Issuer, jwks: Path, clock: Clock
) -> None:
    token = issuer.token(uuid4())
    assert call(api, token).status_code == 200
    jwks.write_text("{not json")
    clock.now += REFRESH_SECONDS
    assert call(api, issuer.token(uuid4())).status_code == 200


def test_a_private_key_in_the_key_set_is_refused(tmp_path: Path, issuer: Issuer) -> None:
    private = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(issuer.keys[issuer.current_kid]))
    path = tmp_path / "leaked.json"
    path.write_text(json.dumps({"keys": [{**private, "kid": "k", "use": "sig"}]}))
    with pytest.raises(ValueError, match="private"):
        asyncio.run(JwksVerifier(str(path), ISSUER).refresh())


def test_the_demo_mode_verifies_hs256_and_nothing_else() -> None:
    secret = "s" * 40
    demo = DemoHs256Verifier(secret)
    account = uuid4()
    good = jwt.encode(claims(sub=str(account)), secret, algorithm="HS256")
    assert asyncio.run(demo.verify(good)).account_id == account
    with pytest.raises(jwt.InvalidTokenError):
        asyncio.run(demo.verify(jwt.encode(claims(), "t" * 40, algorithm="HS256")))


def test_an_issuer_kept_on_disk_signs_tokens_the_services_accept(tmp_path: Path) -> None:
    issuer = Issuer.generate()
    issuer.rotate()
    issuer.save(tmp_path / "keys")
    loaded = Issuer.load(tmp_path / "keys")
    assert list(loaded.keys) == list(issuer.keys)
    assert (tmp_path / "keys").stat().st_mode & 0o077 == 0
    loaded.write_jwks(tmp_path / "jwks.json")
    account = uuid4()
    verifier = JwksVerifier(str(tmp_path / "jwks.json"), ISSUER)
    assert asyncio.run(verifier.verify(loaded.token(account))).account_id == account
