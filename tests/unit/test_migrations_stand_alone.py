"""A migration is history: it carries its own SQL and data, so editing live code (a table
definition, a list of seeded images) can never change what a fresh install runs."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

import pytest

from services.common import messaging_migrations

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


# The released messaging steps, pinned: every service's history runs them, so editing one
# would change what a fresh install of any service creates. A change is a new step.
RELEASED_STEPS = {
    "MESSAGING_TABLES_V1": "246f558d183abeda20e90d6f404c06218d7484749bc7eadb477fbdf2ac451c03",
    "RELAY_LEASE_V1": "64a550879da32a708f530e55b0a88ad60ab1ea4e1e503829f8727f6422a784df",
}


@pytest.mark.parametrize("name", sorted(RELEASED_STEPS))
def test_a_released_messaging_step_never_changes(name: str) -> None:
    step = getattr(messaging_migrations, name)
    digest = hashlib.sha256(f"{step.create}\0{step.drop}".encode()).hexdigest()
    assert digest == RELEASED_STEPS[name], f"{name} was edited: add a new step instead"
