"""PostgreSQL connections of one service: a pool pinned to the service's own schema."""

from __future__ import annotations

import json

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# What the stores take: a plain connection or one borrowed from a pool.
Connection = asyncpg.Connection | PoolConnectionProxy


async def create_pool(
    dsn: str,
    schema: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    idle_in_transaction_timeout_s: float | None = None,
) -> asyncpg.Pool:
    """A pool whose connections see only ``schema`` (each service owns exactly one).

    With ``idle_in_transaction_timeout_s`` the server ends a session that holds a
    transaction open without using it for that long: a process frozen or cut off mid-way
    (SIGSTOP, a hung VM, a partition) then cannot hold its row locks for ever; its
    transaction rolls back and another instance goes on. That timeout does not cover a
    session caught between asyncpg's prepare (Parse/Describe/Flush) and its execute: the
    server counts it active. For a hung host or a partition the keepalives below end it
    (about 25 s, not the kernel's two hours); a frozen process on a live host keeps it
    until it runs again (docs/reliability.md, "A frozen process").
    """
    settings = {
        "search_path": schema,
        "application_name": f"ims-{schema}",
        # The server probes an idle peer after 10 s, every 5 s, and gives up after 3.
        "tcp_keepalives_idle": "10",
        "tcp_keepalives_interval": "5",
        "tcp_keepalives_count": "3",
    }
    if idle_in_transaction_timeout_s is not None:
        settings["idle_in_transaction_session_timeout"] = str(
            int(idle_in_transaction_timeout_s * 1000)
        )
    pool = await asyncpg.create_pool(
        dsn,
        init=_init_connection,
        reset=_keep_session,
        min_size=min_size,
        max_size=max_size,
        # Prepare statements again every 10 s, so that their plans follow the tables. A
        # prepared statement's cached generic plan is made once and kept until the table is
        # next analyzed: one made while a new deployment's tables were empty seq-scanned
        # them until autovacuum came by (a 50,000-event backlog slowed from 1,300 to 200/s as
        # `images` grew). Planning every statement instead (plan_cache_mode =
        # force_custom_plan) cured it too, at 25 % more PostgreSQL CPU per event.
        max_cached_statement_lifetime=10,
        server_settings=settings,
    )
    assert pool is not None
    return pool


async def _init_connection(conn: asyncpg.Connection) -> None:
    """jsonb columns come back as Python objects, not strings."""
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a connection goes through when it returns to the pool, besides what asyncpg
    always does (roll back an open transaction, drop listener callbacks): nothing.

    asyncpg's default sends one more query per use (unlock advisory locks, close cursors,
    UNLISTEN, RESET ALL), a round trip on every API request. IMS leaves no such session
    state behind: no advisory locks (the relay uses a lease row), cursors live in
    transactions, the relay's LISTEN connection unlistens before it is released, and the
    only setting (search_path) is the connection's own from its start."""
