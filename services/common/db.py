"""PostgreSQL connections of one service: a pool pinned to the service's own schema."""

from __future__ import annotations

import json

import asyncpg

# SQLSTATE classes that say "this input is wrong": data exceptions and integrity violations.
# Every other database error (connection, resources, operator intervention, a missing
# table before migrations ran, ...) is about the environment and worth retrying: stalling
# loses nothing, while dead-lettering would park good events.
_PERMANENT_SQLSTATE_CLASSES = frozenset({"22", "23"})


def is_transient(exc: BaseException) -> bool:
    """Whether retrying later may succeed: the database or the network, not the input."""
    if isinstance(exc, OSError | TimeoutError | asyncpg.exceptions.InterfaceError):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        sqlstate = getattr(exc, "sqlstate", None) or ""
        return sqlstate[:2] not in _PERMANENT_SQLSTATE_CLASSES
    return False


async def create_pool(
    dsn: str, schema: str, *, min_size: int = 1, max_size: int = 10
) -> asyncpg.Pool:
    """A pool whose connections see only ``schema`` (each service owns exactly one)."""
    pool = await asyncpg.create_pool(
        dsn,
        init=_init_connection,
        min_size=min_size,
        max_size=max_size,
        server_settings={"search_path": schema, "application_name": f"ims-{schema}"},
    )
    assert pool is not None
    return pool


async def _init_connection(conn: asyncpg.Connection) -> None:
    """jsonb columns come back as Python objects, not strings."""
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
