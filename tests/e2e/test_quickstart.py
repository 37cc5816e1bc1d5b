"""The README's quick start, tried as a new user would, on a clean clone.

A fresh `git clone` of HEAD (uncommitted changes are not part of it) in a temporary
directory. The README's first command as written, with only the ports and the state dir
moved by environment variables and the Kafka jar cache reused. Then every "Try it" line,
read from the README and moved the same way, checked for what it promises; the first
command again (it must keep what runs); the lines again; then `ims-stack reset --yes`,
after which nothing runs and nothing is left.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from deploy.stack import process
from deploy.stack import stack as stack_ops
from deploy.stack.state import StackState
from tests.e2e.clean_clone import Ran, clone_head, run, tear_down, user_env
from tests.infra import free_port
from tests.readme import default_ports, moved, quick_start_commands, try_it_lines

pytestmark = pytest.mark.timeout(600)

DEMO_IMAGE = "web-01-golden"
COMPONENTS = frozenset(
    {"kafka", "postgres", "capture", "catalog", "sharing", "notifier", "gateway"}
)
UP_TIMEOUT_S = 420.0
LINE_TIMEOUT_S = 60.0
RESET = ".venv/bin/ims-stack reset --yes"  # the README's way to delete all local state


def test_the_readme_quick_start_works_on_a_clean_clone(tmp_path: Path) -> None:
    clone, state_dir = tmp_path / "ims", tmp_path / "state"
    ports = {name: free_port() for name in default_ports()}
    pg_port = free_port()
    env = user_env(state_dir, ports, controller=free_port(), pg=pg_port)
    up = quick_start_commands()[0]
    lines = [moved(line, ports, state_dir) for line in try_it_lines()]
    seconds: dict[str, float] = {}
    started = time.monotonic()
    clone_head(clone)
    seconds["clone"] = time.monotonic() - started
    try:
        first = run(up, clone, env, UP_TIMEOUT_S)
        seconds["first up"] = first.seconds
        _check_up(first, lines)
        running = _running(state_dir)
        _check_try_it(_run_lines(lines, clone, env), ports | {"postgres": pg_port})

        second = run(up, clone, env, UP_TIMEOUT_S)
        seconds["second up"] = second.seconds
        _check_up(second, lines)
        assert _running(state_dir) == running, "a second run must keep what runs"
        _check_try_it(_run_lines(lines, clone, env), ports | {"postgres": pg_port})

        state = StackState.load(state_dir)
        assert state is not None
        assert state.postgres is not None
        pg_home = Path(state.postgres.home)
        reset = run(RESET, clone, env, 180.0)
        seconds["reset"] = reset.seconds
        assert reset.returncode == 0, str(reset)
        _check_gone(running, state_dir, pg_home)
    finally:
        tear_down(clone, state_dir, env)
    print("quick start:", ", ".join(f"{k} {v:.1f}s" for k, v in seconds.items()))


def _check_up(ran: Ran, lines: list[str]) -> None:
    """Exit 0, the demo image 正常, and the Try-it lines printed for this stack."""
    assert ran.returncode == 0, str(ran)
    out = ran.stdout + ran.stderr
    assert "Traceback" not in out, str(ran)
    assert re.search(rf"image\s+{DEMO_IMAGE}\s+\([0-9a-f-]{{36}}\):\s+正常", out), str(ran)
    printed = {line.strip() for line in out.splitlines()}
    missing = [line for line in lines if line not in printed]
    assert not missing, f"up.sh did not print these Try-it lines: {missing}\n{ran}"


def _running(state_dir: Path) -> dict[str, int]:
    rows = stack_ops.status(state_dir)
    assert {r.name for r in rows} == COMPONENTS, rows
    assert all(r.alive and r.pid for r in rows), rows
    return {r.name: r.pid or 0 for r in rows}


def _run_lines(lines: list[str], clone: Path, env: dict[str, str]) -> dict[str, Ran]:
    """Each line in a bash of its own after the `source` lines before it, as if typed in
    order into one shell."""
    results: dict[str, Ran] = {}
    for i, line in enumerate(lines):
        setup = [earlier for earlier in lines[:i] if earlier.startswith("source ")]
        ran = run("\n".join([*setup, line]), clone, env, LINE_TIMEOUT_S)
        assert ran.returncode == 0, str(ran)
        results[line] = ran
    return results


def _one(results: dict[str, Ran], pattern: str) -> Ran:
    found = [ran for line, ran in results.items() if re.search(pattern, line)]
    assert len(found) == 1, f"README's Try it needs one line matching {pattern!r}: {list(results)}"
    return found[0]


def _check_try_it(results: dict[str, Ran], ports: dict[str, int]) -> None:
    _check_status(_one(results, r"^\.venv/bin/ims-stack status\b"), ports)
    source = _one(results, r"^source \S+/demo/tokens\.env$")
    assert source.stdout == "", str(source)
    image = _check_private_tab(_one(results, r"\$ALICE_TOKEN.*tab=private"))
    _check_public_tab(_one(results, r"\$ALICE_TOKEN.*tab=public"))
    _check_detail(_one(results, r"\$ALICE_TOKEN.*/v1/images/\$DEMO_IMAGE_ID"), image)
    _check_hosts(_one(results, r"\$ALICE_TOKEN.*/v1/hosts"))
    _check_notices(_one(results, r"\$ALICE_TOKEN.*/v1/notices"), image)
    _check_bob_gets_404(_one(results, r"\$BOB_TOKEN.*/v1/images/\$DEMO_IMAGE_ID"), image)
    _check_image_ready(_one(results, r"^\.venv/bin/kcat -F \S+ -C .*-t ImageReady\b"), image)


def _check_status(ran: Ran, ports: dict[str, int]) -> None:
    """Every component alive, on the port it was moved to."""
    rows = {
        name: (int(port), alive)
        for name, _pid, port, alive in re.findall(
            r"^\W*([a-z]+)\W+(\d+)\W+(\d+)\W+(yes|no)\b", ran.stdout, re.MULTILINE
        )
    }
    assert set(rows) == COMPONENTS, str(ran)
    assert rows == {name: (ports[name], "yes") for name in COMPONENTS}, str(ran)


def _json(ran: Ran) -> Any:
    try:
        return json.loads(ran.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"not JSON: {exc}\n{ran}") from exc


def _check_private_tab(ran: Ran) -> dict[str, Any]:
    items = _json(ran)["items"]
    mine = [item for item in items if item["name"] == DEMO_IMAGE]
    assert len(mine) == 1, str(ran)
    image: dict[str, Any] = mine[0]
    assert (image["status"], image["status_label"], image["visibility"]) == (
        "normal",
        "正常",
        "private",
    ), str(ran)
    assert image["size_bytes"] > 0, str(ran)
    assert len(image["checksum_sha256"]) == 64, str(ran)
    return image


def _check_public_tab(ran: Ran) -> None:
    items = _json(ran)["items"]
    assert items, str(ran)
    assert all(i["visibility"] == "public" and i["status"] == "normal" for i in items), str(ran)
    assert DEMO_IMAGE not in {i["name"] for i in items}, str(ran)


def _check_detail(ran: Ran, image: dict[str, Any]) -> None:
    """The owner's detail: a qcow2 (K3) with what capture read from it, and the preflight
    (K4; the demo disk holds random bytes, so it was not inspected)."""
    detail = _json(ran)
    assert detail["id"] == image["id"], str(ran)
    assert detail["disk_format"] == "qcow2", str(ran)
    assert detail["virtual_size_bytes"] > 0, str(ran)
    assert detail["checksum_sha256"] == image["checksum_sha256"], str(ran)
    assert detail["preflight"]["status"] == "not_inspected", str(ran)


def _check_hosts(ran: Ran) -> None:
    """Alice's hosts, as the console's picker shows them: only hers, the stopped one
    capturable."""
    hosts = {h["name"]: h for h in _json(ran)["items"]}
    assert set(hosts) == {"ecs-web-01", "ecs-db-01"}, str(ran)
    web, db = hosts["ecs-web-01"], hosts["ecs-db-01"]
    assert (web["state"], web["capturable"]) == ("stopped", True), str(ran)
    assert (db["state"], db["capturable"]) == ("running", False), str(ran)


def _check_notices(ran: Ran, image: dict[str, Any]) -> None:
    notices = [n for n in _json(ran) if n["image_id"] == image["id"]]
    assert [n["kind"] for n in notices] == ["capture_succeeded"], str(ran)
    assert DEMO_IMAGE in notices[0]["text"], str(ran)
    assert "正常" in notices[0]["text"], str(ran)


def _check_bob_gets_404(ran: Ran, image: dict[str, Any]) -> None:
    """`curl -i`: the status line, the headers, then a problem document."""
    head, _, body = ran.stdout.replace("\r\n", "\n").partition("\n\n")
    assert head.split()[1] == "404", str(ran)
    assert "content-type: application/problem+json" in head.lower(), str(ran)
    problem = json.loads(body)
    assert problem["status"] == 404, str(ran)
    assert image["id"] in problem["detail"], str(ran)


def _check_image_ready(ran: Ran, image: dict[str, Any]) -> None:
    events = [json.loads(line) for line in ran.stdout.splitlines() if line.startswith("{")]
    ready = [
        e
        for e in events
        if e["type"] == "ims.ImageReady.v1" and e["data"]["image_id"] == image["id"]
    ]
    assert ready, str(ran)
    assert ready[0]["data"]["name"] == DEMO_IMAGE, str(ran)
    assert ready[0]["data"]["checksum_sha256"] == image["checksum_sha256"], str(ran)


def _check_gone(running: dict[str, int], state_dir: Path, pg_home: Path) -> None:
    """No component runs, the state dir is empty, PostgreSQL's home (which lives apart when
    the `postgres` user cannot enter the state dir) is gone too."""
    markers = {
        "kafka": str(state_dir / "kafka" / "server.properties"),
        "postgres": str(pg_home / "data"),
    }
    alive = [
        name
        for name, pid in running.items()
        if process.is_alive(pid, markers.get(name, f"services.{name}"))
    ]
    assert not alive, f"still running after reset: {alive}"
    assert state_dir.is_dir()
    assert not any(state_dir.iterdir()), list(state_dir.iterdir())
    assert not pg_home.exists(), pg_home
