"""Tenant tokens as the console's gateway signs them: HS256, audience `ims`, sub = account.

The same claims as services.common.auth.issue_token (a test in tests/unit checks that the
services accept these), written again here so the testkit needs none of the services' code.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

import jwt

ALGORITHM = "HS256"
AUDIENCE = "ims"


def mint_token(
    secret: str,
    account_id: UUID,
    account_name: str = "tester",
    *,
    roles: Sequence[str] = (),
    ttl: timedelta = timedelta(hours=1),
) -> str:
    """A bearer token naming `account_id`; `roles=("admin",)` for a platform administrator."""
    now = datetime.now(UTC)
    claims = {
        "sub": str(account_id),
        "name": account_name,
        "roles": list(roles),
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)
