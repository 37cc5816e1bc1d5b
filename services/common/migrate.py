"""Schema migrations with Alembic, one history per service, inside the service's schema.

Revisions are plain SQL, run by :func:`execute_script` (steps as :class:`SqlStep`): the
services talk to PostgreSQL through asyncpg, not an ORM. Each service's
``migrations/env.py`` calls :func:`run_env`; ``upgrade`` is what ``python -m
services.<name> migrate`` runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.util import await_only


def upgrade(dsn: str, schema: str, script_location: Path, revision: str = "head") -> None:
    """Bring ``schema`` up to ``revision``; safe to run on every deploy."""
    command.upgrade(_config(dsn, schema, script_location), revision)


def downgrade(dsn: str, schema: str, script_location: Path, revision: str = "base") -> None:
    """Take ``schema`` back down to ``revision`` (an operator's rollback)."""
    command.downgrade(_config(dsn, schema, script_location), revision)


def _config(dsn: str, schema: str, script_location: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["dsn"] = dsn
    config.attributes["schema"] = schema
    return config


def run_env() -> None:
    """The body of every service's Alembic ``env.py`` (online mode only)."""
    config = context.config
    dsn: str = config.attributes["dsn"]
    schema: str = config.attributes["schema"]
    asyncio.run(_run_online(_sqlalchemy_url(dsn), schema))


async def _run_online(url: str, schema: str) -> None:
    engine = create_async_engine(
        url,
        poolclass=pool.NullPool,
        connect_args={"server_settings": {"search_path": schema}},
    )
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_migrate, schema)
    finally:
        await engine.dispose()


def _migrate(connection: Connection, schema: str) -> None:
    context.configure(
        connection=connection,
        version_table_schema=schema,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _sqlalchemy_url(dsn: str) -> str:
    for scheme in ("postgresql://", "postgres://"):
        if dsn.startswith(scheme):
            return "postgresql+asyncpg://" + dsn[len(scheme) :]
    raise ValueError("IMS_DATABASE_URL must be a postgresql:// URL")


def execute_script(sql: str) -> None:
    """Run a multi-statement SQL script inside a migration.

    SQLAlchemy's asyncpg dialect prepares every statement, and PostgreSQL refuses to
    prepare several at once; asyncpg's own ``execute`` without arguments uses the simple
    query protocol, which takes a whole script. It runs in the migration's transaction.
    """
    driver_connection = op.get_bind().connection.driver_connection
    assert driver_connection is not None, "migrations run on a live connection"
    await_only(driver_connection.execute(sql))


@dataclass(frozen=True)
class SqlStep:
    """A step of a schema's history in plain SQL: what it creates, and what drops it again."""

    create: str
    drop: str

    def upgrade(self) -> None:
        execute_script(self.create)

    def downgrade(self) -> None:
        execute_script(self.drop)


def in_order(*steps: SqlStep) -> tuple[Callable[[], None], Callable[[], None]]:
    """A revision's ``upgrade`` and ``downgrade`` made of steps: created in their order,
    dropped in reverse."""

    def upgrade() -> None:
        for step in steps:
            step.upgrade()

    def downgrade() -> None:
        for step in reversed(steps):
            step.downgrade()

    return upgrade, downgrade
