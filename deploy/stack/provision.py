"""One database per deployment, one login role and one schema per service.

Each service's role owns exactly its schema and can use nothing else: another service's
schema answers "permission denied", so "never reads another's" is enforced, not promised.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from deploy.stack.config import SERVICES


def role_name(database: str, service: str) -> str:
    return f"{database}_{service}"


def role_password(secret: str, role: str) -> str:
    """Deterministic per role, so provisioning twice gives the same DSNs without a store."""
    return hmac.new(secret.encode(), f"ims-role:{role}".encode(), hashlib.sha256).hexdigest()


def _with_credentials(admin_dsn: str, user: str, password: str, database: str) -> str:
    parts = urlsplit(admin_dsn)
    host = parts.hostname or "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    netloc = f"{user}:{password}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(("postgresql", netloc, f"/{database}", "", ""))


def _admin_dsn_for(admin_dsn: str, database: str) -> str:
    parts = urlsplit(admin_dsn)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


async def provision(
    admin_dsn: str,
    database: str,
    services: Iterable[str] = SERVICES,
    secret: str | None = None,
) -> dict[str, str]:
    """Create `database` and one role + schema per service; returns service -> DSN.

    Idempotent. Passwords derive from `secret` (default: the admin password), so the
    caller needs no password store and a rerun changes nothing.
    """
    names = list(services)
    secret = secret if secret is not None else (urlsplit(admin_dsn).password or "")
    if not secret:
        raise ValueError("provision needs a secret (or an admin DSN with a password)")
    admin = await asyncpg.connect(admin_dsn)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await _ddl(admin, "CREATE DATABASE %I", database)
        for service in names:
            role = role_name(database, service)
            exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            verb = "ALTER" if exists else "CREATE"
            await _ddl(
                admin,
                f"{verb} ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L",
                role,
                role_password(secret, role),
            )
    finally:
        await admin.close()
    await _lock_down(_admin_dsn_for(admin_dsn, database), database, names)
    return {
        s: _with_credentials(
            admin_dsn,
            role_name(database, s),
            role_password(secret, role_name(database, s)),
            database,
        )
        for s in names
    }


async def _lock_down(db_admin_dsn: str, database: str, services: list[str]) -> None:
    conn = await asyncpg.connect(db_admin_dsn)
    try:
        async with conn.transaction():
            await _ddl(conn, "REVOKE ALL ON DATABASE %I FROM PUBLIC", database)
            await conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            for service in services:
                role = role_name(database, service)
                await _ddl(conn, "GRANT CONNECT ON DATABASE %I TO %I", database, role)
                await _ddl(conn, "CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I", service, role)
                await _ddl(conn, "ALTER SCHEMA %I OWNER TO %I", service, role)
                await _ddl(conn, "ALTER ROLE %I SET search_path = %I", role, service)
    finally:
        await conn.close()


async def _ddl(conn: asyncpg.Connection, template: str, *args: str) -> None:
    """DDL takes no bind parameters: quote on the server with format(%I, %L)."""
    params = ", ".join(f"${i}::text" for i in range(2, len(args) + 2))
    sql = await conn.fetchval(f"SELECT format($1::text, {params})", template, *args)
    await conn.execute(sql)


async def drop(admin_dsn: str, database: str, services: Iterable[str] = SERVICES) -> None:
    """Drop `database` and its service roles (test teardown on a shared server)."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        await _ddl(conn, "DROP DATABASE IF EXISTS %I WITH (FORCE)", database)
        for service in services:
            await _ddl(conn, "DROP ROLE IF EXISTS %I", role_name(database, service))
    finally:
        await conn.close()
