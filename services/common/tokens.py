"""Verifying the platform's bearer tokens: signatures checked by key, never by a secret the
services share.

The platform's issuer signs tokens with a private key (ES256 or RS256) and publishes the
public keys as a JWKS, each with its ``kid``. A service holds only the JWKS, so no service,
and nothing that reads a service's configuration, can mint a token. Keys rotate without
downtime: the issuer adds a key to the set, signs with it, and later removes the old one;
while both are in the set, tokens of both verify. The set is read again when a token names
a ``kid`` it does not hold (at most once per ``MISS_REFRESH_SECONDS``) and every
``REFRESH_SECONDS``, so an added key is known at once and a retired one goes within a
minute, cached verifications included.

HS256 with a shared secret is kept for one explicitly named mode, ``demo-hs256``, never the
default.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

import httpx
import jwt

from services.common.settings import ServiceSettings

AUDIENCE = "ims"
# What the platform signs with; anything else (none, HS*, ...) is refused before any key
# is looked at, so a public key can never serve as an HMAC secret (key confusion).
ASYMMETRIC = ("ES256", "RS256")
REFRESH_SECONDS = 60.0
MISS_REFRESH_SECONDS = 5.0
CACHED_TOKENS = 8192
REQUIRED_CLAIMS = ["sub", "exp", "iss", "aud"]


@dataclass(frozen=True)
class Tenant:
    account_id: UUID
    account_name: str
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Tenant:
        """The tenant the token names; raises jwt.InvalidTokenError when it is not valid."""
        ...


def tenant_of(claims: dict[str, Any]) -> Tenant:
    """The tenant of verified claims; raises jwt.InvalidTokenError for ill-formed ones."""
    try:
        account_id = UUID(str(claims["sub"]))
    except ValueError as exc:
        raise jwt.InvalidTokenError("sub is not an account id") from exc
    roles = claims.get("roles", [])
    # A string would pass as an iterable of one-letter roles: only a list of names counts.
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise jwt.InvalidTokenError("roles must be a list of role names")
    name = claims.get("name", "")
    if not isinstance(name, str):
        raise jwt.InvalidTokenError("name must be a string")
    return Tenant(account_id, name, frozenset(roles))


@dataclass(frozen=True)
class _Verified:
    tenant: Tenant
    expires_at: float
    kid: str


class _Cache:
    """Verified tokens, bounded: a console sends the same token with every request."""

    def __init__(self, size: int = CACHED_TOKENS) -> None:
        self._size = size
        self._entries: OrderedDict[str, _Verified] = OrderedDict()

    def get(self, token: str) -> _Verified | None:
        entry = self._entries.get(token)
        if entry is not None:
            self._entries.move_to_end(token)
        return entry

    def put(self, token: str, entry: _Verified) -> None:
        self._entries[token] = entry
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)


@dataclass
class JwksVerifier:
    """Tokens signed by a key of the JWKS at ``source`` (a file or an http(s) URL)."""

    source: str
    issuer: str
    audience: str = AUDIENCE
    clock: Callable[[], float] = time.monotonic
    _keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    _read_at: float = float("-inf")
    _cache: _Cache = field(default_factory=_Cache)

    async def verify(self, token: str) -> Tenant:
        await self._refresh_if_due()
        cached = self._cache.get(token)
        if cached is not None and cached.kid in self._keys:
            if time.time() >= cached.expires_at:
                raise jwt.ExpiredSignatureError("Signature has expired")
            return cached.tenant
        header = jwt.get_unverified_header(token)
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ASYMMETRIC:
            raise jwt.InvalidAlgorithmError(f"alg {algorithm!r} is not accepted")
        if not isinstance(kid, str):
            raise jwt.InvalidTokenError("the token names no kid")
        key = await self._key(kid)
        if key.algorithm_name != algorithm:
            raise jwt.InvalidAlgorithmError(f"key {kid} does not sign with {algorithm}")
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[algorithm],
            audience=self.audience,
            issuer=self.issuer,
            options={"require": REQUIRED_CLAIMS},
        )
        tenant = tenant_of(claims)
        self._cache.put(token, _Verified(tenant, float(claims["exp"]), kid))
        return tenant

    async def _key(self, kid: str) -> jwt.PyJWK:
        key = self._keys.get(kid)
        if key is None and self.clock() - self._read_at >= MISS_REFRESH_SECONDS:
            await self.refresh()  # a key added since the last read
            key = self._keys.get(kid)
        if key is None:
            raise jwt.InvalidTokenError(f"unknown kid {kid!r}")
        return key

    async def _refresh_if_due(self) -> None:
        if self.clock() - self._read_at >= REFRESH_SECONDS:
            await self.refresh()

    async def refresh(self) -> None:
        """Read the key set again. A set that cannot be read keeps the last one (an issuer
        that is briefly away must not lock everyone out), but never an empty start."""
        try:
            document = await _read(self.source)
            keys = keys_of(document)
        except (OSError, httpx.HTTPError, ValueError, jwt.PyJWKError):
            if not self._keys:
                raise
            keys = self._keys
        self._keys, self._read_at = keys, self.clock()


def keys_of(document: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    """The JWKS's signing keys by kid: public, asymmetric, each with its kid."""
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document.get("keys", []):
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or entry.get("kty") not in ("EC", "RSA"):
            raise ValueError("every signing key of the JWKS needs a kid and kty EC or RSA")
        if "d" in entry:
            raise ValueError(f"key {kid} of the JWKS is private: publish only public keys")
        key = jwt.PyJWK(entry)
        if key.algorithm_name not in ASYMMETRIC:
            raise ValueError(f"key {kid} signs with {key.algorithm_name}, not ES256 or RS256")
        keys[kid] = key
    return keys


async def _read(source: str) -> dict[str, Any]:
    if source.startswith(("https://", "http://")):
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.get(source)
            response.raise_for_status()
            document = response.json()
    else:
        document = json.loads(await asyncio.to_thread(Path(source).read_text))
    if not isinstance(document, dict):
        raise ValueError("a JWKS is a JSON object with a keys array")
    return document


@dataclass
class DemoHs256Verifier:
    """The demo mode's tokens: HS256 with one shared secret. Anyone holding the secret can
    mint any token, admin included: for a laptop demo, never a deployment."""

    secret: str
    audience: str = AUDIENCE
    _cache: _Cache = field(default_factory=_Cache)

    async def verify(self, token: str) -> Tenant:
        cached = self._cache.get(token)
        if cached is not None:
            if time.time() >= cached.expires_at:
                raise jwt.ExpiredSignatureError("Signature has expired")
            return cached.tenant
        claims = jwt.decode(
            token,
            self.secret,
            algorithms=["HS256"],
            audience=self.audience,
            options={"require": ["sub", "exp"]},
        )
        tenant = tenant_of(claims)
        self._cache.put(token, _Verified(tenant, float(claims["exp"]), ""))
        return tenant


def verifier_of(settings: ServiceSettings) -> TokenVerifier:
    """The verifier the settings name (see ``IMS_AUTH_MODE``)."""
    if settings.auth_mode == "demo-hs256":
        return DemoHs256Verifier(settings.auth_secret, settings.auth_audience)
    return JwksVerifier(settings.auth_jwks, settings.auth_issuer, settings.auth_audience)
