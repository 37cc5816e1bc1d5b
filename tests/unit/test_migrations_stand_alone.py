"""A migration is history: it carries its own SQL and data, so editing live code (a table
definition, a list of seeded images) can never change what a fresh install runs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"
MIGRATIONS = sorted(SERVICES_DIR.glob("*/migrations/versions/*.py"))
# Mechanisms a migration may use; none of them holds schema or data.
# The frozen messaging steps are history too (never edited once released).
ALLOWED = {
    "__future__",
    "json",
    "alembic",
    "sqlalchemy",
    "services.common.migrate",
    "services.common.messaging_migrations",
}


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_every_service_has_migrations() -> None:
    assert {p.parts[-4] for p in MIGRATIONS} == {"capture", "catalog", "sharing", "notifier"}


@pytest.mark.parametrize("migration", MIGRATIONS, ids=lambda p: f"{p.parts[-4]}/{p.name}")
def test_a_migration_imports_no_live_code(migration: Path) -> None:
    live = {
        module
        for module in imported_modules(migration)
        if not any(module == ok or module.startswith(f"{ok}.") for ok in ALLOWED)
    }
    assert not live, f"{migration.name} imports {sorted(live)}: copy what it needs into it"
