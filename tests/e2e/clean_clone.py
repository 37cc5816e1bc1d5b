"""A clean clone of the commit under test, and a new user's shell to run commands in it.

The clone is of HEAD: uncommitted changes are not part of it (commit them to test them).
The user's environment is this one without IMS_* settings (but IMS_PG_BIN, which says
where PostgreSQL is installed) and without this checkout's virtualenv, plus the ports, the
state dir and the Kafka jar cache the test chooses.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from deploy.stack import postgres
from deploy.stack import stack as stack_ops
from deploy.stack.config import default_jar_dir, repo_root
from deploy.stack.process import StackError

KEEP_FROM_ENV = frozenset({"IMS_PG_BIN"})


def clone_head(dest: Path) -> str:
    """`git clone` this repository into `dest`, checked out at its HEAD commit."""
    repo = repo_root()
    head = _git(["rev-parse", "HEAD"], repo).strip()
    _git(["clone", "--quiet", "--no-checkout", str(repo), str(dest)], dest.parent)
    _git(["checkout", "--quiet", "--detach", head], dest)
    return head


def _git(args: list[str], cwd: Path) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def user_env(state_dir: Path, ports: dict[str, int], controller: int, pg: int) -> dict[str, str]:
    """A new user's environment: the stack moved by IMS_* variables only."""
    venv_bin = str(repo_root() / ".venv" / "bin")
    env = {
        key: value
        for key, value in os.environ.items()
        if (not key.startswith("IMS_") or key in KEEP_FROM_ENV) and key != "VIRTUAL_ENV"
    }
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env.update(
        {
            "IMS_STATE_DIR": str(state_dir),
            "IMS_KAFKA_LIBS": str(default_jar_dir()),  # reused: Maven is not run again
            "IMS_KAFKA_PORT": str(ports["kafka"]),
            "IMS_KAFKA_CONTROLLER_PORT": str(controller),
            "IMS_PG_PORT": str(pg),
            "IMS_GATEWAY_PORT": str(ports["gateway"]),
            **{
                f"IMS_{name.upper()}_HTTP_PORT": str(port)
                for name, port in ports.items()
                if name not in ("kafka", "gateway")
            },
        }
    )
    return env


@dataclass(frozen=True)
class Ran:
    command: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def __str__(self) -> str:
        return (
            f"$ {self.command}\n(exit {self.returncode} after {self.seconds:.1f}s)\n"
            f"--- stdout ---\n{self.stdout[-12000:]}\n--- stderr ---\n{self.stderr[-6000:]}"
        )


def run(command: str, cwd: Path, env: dict[str, str], timeout_s: float) -> Ran:
    """`command` as a user types it: one bash command line, in `cwd`."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        raise AssertionError(f"$ {command}\ntimed out after {timeout_s:.0f}s:\n{out}") from exc
    return Ran(command, done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def tear_down(clone: Path, state_dir: Path, env: dict[str, str]) -> None:
    """Whatever happened, leave nothing running and nothing behind: the clone's own
    `ims-stack reset`, then this checkout's (same commit) for what it missed, then a
    PostgreSQL server that started before the state file said so."""
    cli = clone / ".venv" / "bin" / "ims-stack"
    try:
        if cli.exists():
            run(f"{cli} reset --yes", clone, env, 180.0)
    except AssertionError:
        pass  # timed out: the same reset from this checkout follows
    with contextlib.suppress(StackError, OSError):  # best effort: the steps below still run
        stack_ops.reset(state_dir)
    home = postgres.choose_home(state_dir)
    bin_dir = postgres.find_bin_dir()
    if bin_dir is not None:
        postgres.stop(postgres.PostgresNode(home, 0, bin_dir))  # nothing unless it runs
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(clone, ignore_errors=True)  # its .venv alone is about 250 MB
