"""What `deploy/up.sh` prints to try next is the README's "Try it" block: as written for a
stack on the defaults, moved for a stack on other ports and another state dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.stack.config import repo_root
from deploy.stack.next_steps import next_steps, try_lines
from deploy.stack.state import KafkaState, ServiceState, StackState
from tests.readme import default_ports, moved, try_it_lines


def _stack(state_dir: Path, ports: dict[str, int]) -> StackState:
    state = StackState(state_dir=str(state_dir))
    state.kafka = KafkaState(f"127.0.0.1:{ports['kafka']}", ports["kafka"], 1, None, "", "id")
    for name in ("capture", "catalog", "sharing", "notifier"):
        url = f"http://127.0.0.1:{ports[name]}"
        state.services[name] = ServiceState(name, None, ports[name], url, "")
    return state


def test_on_the_defaults_the_lines_are_the_readme_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo_root())  # up.sh runs from the repository root
    state = _stack(repo_root() / ".ims", default_ports())

    lines = try_lines(state, state.path / "demo" / "tokens.env")

    assert lines == try_it_lines()


def test_a_moved_stack_gets_its_own_ports_and_state_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(repo_root())
    ports = {name: 20000 + i for i, name in enumerate(default_ports())}
    state_dir = tmp_path / "state"
    state = _stack(state_dir, ports)
    tokens = state_dir / "demo" / "tokens.env"

    lines = try_lines(state, tokens)

    assert lines == [moved(line, ports, state_dir) for line in try_it_lines()]
    printed = next_steps(state, tokens)
    assert all(f"  {line}" in printed.splitlines() for line in lines)
    for default in default_ports().values():
        assert f":{default}" not in printed
    assert ".ims" not in printed
