"""Verified tenant identity for the HTTP APIs: bearer tokens signed by the platform.

The platform's issuer (IAM, or the console's gateway) signs a token naming the account;
services only verify it, by key (:mod:`services.common.tokens`). ``roles`` holds ``admin``
for platform administrators (C1, C6, C7).
"""

from __future__ import annotations

from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.common.http import ProblemError
from services.common.i18n import Text
from services.common.tokens import Tenant, TokenVerifier

__all__ = ["CurrentAdmin", "CurrentTenant", "Tenant", "current_admin", "current_tenant"]

_bearer = HTTPBearer(auto_error=False)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
TOKEN_REQUIRED = Text("需要 Bearer 令牌。", "A bearer token is required.")
ADMIN_REQUIRED = Text("此操作需要管理员角色。", "This call needs the admin role.")


async def current_tenant(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Tenant:
    """FastAPI dependency: the verified tenant of the request, or 401.

    ``async``: FastAPI runs a plain ``def`` dependency in a thread pool, and the hand-over
    costs more than verifying a cached token; the key set is read without blocking."""
    if credentials is None:
        raise ProblemError(401, "unauthorized", TOKEN_REQUIRED, headers=_CHALLENGE)
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        return await verifier.verify(credentials.credentials)
    except jwt.PyJWTError as exc:  # every way a token can be bad, key errors included
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
