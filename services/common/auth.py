"""Verified tenant identity for the HTTP APIs: HS256 bearer tokens signed by the platform.

The console's gateway (or IAM) signs a token naming the account; services only verify it.
``roles`` holds ``admin`` for platform administrators (C1, C6, C7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from uuid import UUID

import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from schemas.envelope import utc_now

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
    """The tenant a token names; raises jwt.InvalidTokenError when it is not valid."""
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
    return Tenant(account_id, name, frozenset(roles))


_bearer = HTTPBearer(auto_error=False)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def current_tenant(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Tenant:
    """FastAPI dependency: the verified tenant of the request, or 401. A coroutine, though it
    never awaits: FastAPI runs a plain function in a worker thread, a hand-off per request
    that cost more than the HS256 check itself."""
    if credentials is None:
        raise HTTPException(401, "A bearer token is required.", headers=_CHALLENGE)
    secret: str = request.app.state.auth_secret
    try:
        return verify_token(secret, credentials.credentials)
    except jwt.InvalidTokenError as exc:
        raise HTTPException(401, f"Invalid token: {exc}", headers=_CHALLENGE) from exc


# The verified tenant of a request, for route signatures: ``tenant: CurrentTenant``.
CurrentTenant = Annotated[Tenant, Depends(current_tenant)]


async def current_admin(tenant: CurrentTenant) -> Tenant:
    """FastAPI dependency: a verified platform administrator (C1, C6, C7), or 403."""
    if not tenant.is_admin:
        raise HTTPException(403, "This call needs the admin role.")
    return tenant


# A verified administrator, for admin routes: ``admin: CurrentAdmin``.
CurrentAdmin = Annotated[Tenant, Depends(current_admin)]
