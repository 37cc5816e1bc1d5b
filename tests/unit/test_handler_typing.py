"""Registering a handler binds its event type: a handler of another event is a type error
that ``mypy --strict`` reports (and the right one is not)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
from schemas.envelope import Envelope
from schemas.events import CaptureFailed, ImageReady
from services.common.handlers import Handlers
from services.common.ports import UnitOfWork


class Store:
    pass


async def on_capture_failed(uow: UnitOfWork[Store], event: Envelope[CaptureFailed]) -> None:
    pass


handlers: Handlers[Store] = Handlers()
handlers.register({event}, on_capture_failed)
"""


def check(tmp_path: Path, event: str) -> tuple[str, int]:
    program = tmp_path / "registration.py"
    program.write_text(textwrap.dedent(PROGRAM.format(event=event)))
    stdout, _, status = api.run(
        ["--strict", "--no-incremental", "--follow-imports=silent", str(program)]
    )
    return stdout, status


def test_a_handler_registered_for_its_own_event_type_checks(tmp_path: Path) -> None:
    stdout, status = check(tmp_path, "CaptureFailed")
    assert status == 0, stdout


def test_a_handler_registered_for_another_event_type_fails_mypy(tmp_path: Path) -> None:
    stdout, status = check(tmp_path, "ImageReady")
    assert status == 1
    assert 'registration.py:17: error: Argument 2 to "register"' in stdout, stdout
    assert "Envelope[CaptureFailed]" in stdout, stdout
