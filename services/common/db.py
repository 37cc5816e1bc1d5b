"""PostgreSQL connections of one service: a pool pinned to the service's own schema."""

from __future__ import annotations

import json

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# What the stores take: a plain connection or one borrowed from a pool.
Connection = asyncpg.Connection | PoolConnectionProxy


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
        # asyncpg's default reset runs a query (RESET ALL, UNLISTEN *, ...) every time a
        # connection goes back: a round trip in every unit of work. IMS sets no session
        # state (search_path is a startup setting, advisory locks are per transaction, and
        # listeners are removed before release); the client-side reset, which rolls back
        # an open transaction, still runs.
        reset=_keep_session,
    )
    assert pool is not None
    return pool


async def _keep_session(_: asyncpg.Connection) -> None:
    """Nothing to reset on the server (see create_pool)."""


async def _init_connection(conn: asyncpg.Connection) -> None:
    """jsonb columns come back as Python objects, not strings."""
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
