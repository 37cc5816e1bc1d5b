"""Session fixtures: one real Kafka + PostgreSQL per test session (see tests/infra.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.infra import TestStack, open_test_stack

INTEGRATION_DIR = Path(__file__).parent / "integration"
E2E_DIR = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration needs the real stack, everything under tests/e2e
    a clean clone that starts its own: mark them so (`-m "not e2e"` skips the latter)."""
    for item in items:
        parents = Path(str(item.path)).parents
        if INTEGRATION_DIR in parents:
            item.add_marker(pytest.mark.integration)
        if E2E_DIR in parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestStack]:
    """Kafka bootstrap, topic prefix, admin DSN and per-service DSNs for this session."""
    with ExitStack() as exit_stack:
        yield open_test_stack(exit_stack, tmp_path_factory.mktemp("stack"), dict(os.environ))
