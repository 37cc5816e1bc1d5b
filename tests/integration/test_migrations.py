"""Every service's history runs up, all the way down, and up again on PostgreSQL: each
step's drop undoes what its create made (a rollback leaves nothing behind)."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import asyncpg
import pytest

from deploy.stack.provision import drop, provision
from services.common.migrate import downgrade, upgrade
from tests.infra import TestStack

SERVICES = ("capture", "catalog", "sharing", "notifier")
ROOT = Path(__file__).resolve().parents[2] / "services"


async def tables(dsn: str, schema: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> $2",
            schema,
            "alembic_version",
        )
        return {row["tablename"] for row in rows}
    finally:
        await conn.close()


@pytest.mark.parametrize("service", SERVICES)
async def test_history_runs_up_down_and_up_again(stack: TestStack, service: str) -> None:
    database = f"{stack.database}_m{secrets.token_hex(3)}"
    dsns = await provision(stack.admin_dsn, database, [service], secret=stack.role_secret)
    dsn, migrations = dsns[service], ROOT / service / "migrations"
    try:
        await asyncio.to_thread(upgrade, dsn, service, migrations)
        created = await tables(dsn, service)
        assert {"outbox", "inbox", "aggregate_versions", "outbox_relay"} <= created

        await asyncio.to_thread(downgrade, dsn, service, migrations)
        assert await tables(dsn, service) == set()

        await asyncio.to_thread(upgrade, dsn, service, migrations)
        assert await tables(dsn, service) == created
    finally:
        await drop(stack.admin_dsn, database, [service])
