"""Verified tenant identity for the HTTP APIs: HS256 bearer tokens signed by the platform.

The console's gateway (or IAM) signs a token naming the account; services only verify it.
``roles`` holds ``admin`` for platform administrators (C1, C6, C7).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from uuid import UUID

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from schemas.envelope import utc_now
from services.common.http import ProblemError
from services.common.i18n import Text

ALGORITHM = "HS256"
AUDIENCE = "ims"


@dataclass(frozen=True)
class Tenant:
    account_id: UUID
    account_name: str
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


def issue_token(
    secret: str,
    account_id: UUID,
    account_name: str,
    *,
    roles: tuple[str, ...] = (),
    ttl: timedelta = timedelta(hours=12),
) -> str:
    now = utc_now()
    claims = {
        "sub": str(account_id),
        "name": account_name,
        "roles": list(roles),
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> Tenant:
    """The tenant a token names; raises jwt.InvalidTokenError when it is not valid.

    A console session sends the same token with every request: its verified claims are
    kept (a bounded cache), and only its expiry is checked again on a repeat."""
    tenant, expires_at = _verified(secret, token)
    if time.time() >= expires_at:
        raise jwt.ExpiredSignatureError("Signature has expired")
    return tenant


@functools.lru_cache(maxsize=8192)
def _verified(secret: str, token: str) -> tuple[Tenant, float]:
    """A token's tenant and expiry, once its signature and claims were verified (a token
    that fails raises, and failures are never cached)."""
    claims = jwt.decode(
        token,
        secret,
        algorithms=[ALGORITHM],
        audience=AUDIENCE,
        options={"require": ["sub", "exp"]},
    )
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
    return Tenant(account_id, name, frozenset(roles)), float(claims["exp"])


_bearer = HTTPBearer(auto_error=False)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
TOKEN_REQUIRED = Text("需要 Bearer 令牌。", "A bearer token is required.")
ADMIN_REQUIRED = Text("此操作需要管理员角色。", "This call needs the admin role.")


async def current_tenant(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Tenant:
    """FastAPI dependency: the verified tenant of the request, or 401.

    ``async`` although it does no I/O: FastAPI runs a plain ``def`` dependency in a thread
    pool, and the hand-over to a thread and back costs more than verifying the token."""
    if credentials is None:
        raise ProblemError(401, "unauthorized", TOKEN_REQUIRED, headers=_CHALLENGE)
    secret: str = request.app.state.auth_secret
    try:
        return verify_token(secret, credentials.credentials)
    except jwt.InvalidTokenError as exc:
        invalid = Text(f"令牌无效：{exc}", f"Invalid token: {exc}")
        raise ProblemError(401, "unauthorized", invalid, headers=_CHALLENGE) from exc


# The verified tenant of a request, for route signatures: ``tenant: CurrentTenant``.
CurrentTenant = Annotated[Tenant, Depends(current_tenant)]


async def current_admin(tenant: CurrentTenant) -> Tenant:
    """FastAPI dependency: a verified platform administrator (C1, C6, C7), or 403."""
    if not tenant.is_admin:
        raise ProblemError(403, "forbidden", ADMIN_REQUIRED)
    return tenant


# A verified administrator, for admin routes: ``admin: CurrentAdmin``.
CurrentAdmin = Annotated[Tenant, Depends(current_admin)]
