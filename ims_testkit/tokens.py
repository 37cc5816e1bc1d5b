"""The platform's token issuer, for a local stack and for tests: ES256 keys, each with its
``kid``, whose public halves are the JWKS the services verify tokens against.

A service holds only the JWKS: it cannot mint a token. Whoever holds the issuer's private
keys can, which is why the local stack keeps them in its secrets directory (0600) and
``ims-stack token`` is the one way the README mints one.

Rotation without downtime: ``rotate()`` adds a key that signs from then on, the JWKS lists
both, and tokens of both verify; ``retire(kid)`` removes the old one once its tokens have
expired. The services read the JWKS again within a minute, at once for a new kid.

The claims are those ``services.common.tokens`` checks (a test in tests/unit proves that the
services accept these); they are written here again so the testkit needs none of the
services' code.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ALGORITHM = "ES256"
AUDIENCE = "ims"
ISSUER = "https://iam.ims.local"


@dataclass
class Issuer:
    """Signing keys in the order they were added; the last one signs."""

    issuer: str = ISSUER
    audience: str = AUDIENCE
    keys: dict[str, ec.EllipticCurvePrivateKey] = field(default_factory=dict)

    @classmethod
    def generate(cls, issuer: str = ISSUER) -> Issuer:
        made = cls(issuer)
        made.rotate()
        return made

    @property
    def current_kid(self) -> str:
        return next(reversed(self.keys))

    def rotate(self) -> str:
        """Add a new key, which signs from now on; returns its kid."""
        kid = f"ims-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"
        self.keys[kid] = ec.generate_private_key(ec.SECP256R1())
        return kid

    def retire(self, kid: str) -> None:
        """Remove a key: its tokens stop verifying once the services read the JWKS again."""
        if len(self.keys) == 1:
            raise ValueError("the last signing key cannot be retired: rotate first")
        del self.keys[kid]

    def token(
        self,
        account_id: UUID,
        account_name: str = "tester",
        *,
        roles: Sequence[str] = (),
        ttl: timedelta = timedelta(hours=1),
        kid: str | None = None,
    ) -> str:
        """A bearer token naming ``account_id``; ``roles=("admin",)`` for an administrator."""
        kid = kid or self.current_kid
        now = datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "sub": str(account_id),
            "name": account_name,
            "roles": list(roles),
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
        }
        return jwt.encode(claims, self.keys[kid], algorithm=ALGORITHM, headers={"kid": kid})

    def jwks(self) -> dict[str, Any]:
        """The public keys, as the services read them."""
        return {"keys": [_public_jwk(kid, key) for kid, key in self.keys.items()]}

    def write_jwks(self, path: Path) -> None:
        """Write the JWKS atomically (a service reading it never sees half a file)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(json.dumps(self.jwks(), indent=2) + "\n")
        partial.replace(path)

    def save(self, directory: Path) -> None:
        """Keep the private keys in ``directory`` (0700, each file 0600), in their order."""
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        for old in directory.glob("*.pem"):
            if old.stem not in self.keys:
                old.unlink()
        order = []
        for kid, key in self.keys.items():
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            _write_private(directory / f"{kid}.pem", pem)
            order.append(kid)
        (directory / "order.json").write_text(json.dumps({"issuer": self.issuer, "kids": order}))

    @classmethod
    def load(cls, directory: Path) -> Issuer:
        meta = json.loads((directory / "order.json").read_text())
        keys: dict[str, ec.EllipticCurvePrivateKey] = {}
        for kid in meta["kids"]:
            key = serialization.load_pem_private_key((directory / f"{kid}.pem").read_bytes(), None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError(f"signing key {kid} is not an EC key")
            keys[kid] = key
        return cls(meta["issuer"], keys=keys)


def _public_jwk(kid: str, key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig", "alg": ALGORITHM}


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
