"""One local PostgreSQL server run from the Debian binaries, as the `postgres` user when root."""

from __future__ import annotations

import asyncio
import hashlib
import os
import pwd
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from deploy.stack import process
from deploy.stack.aio import run_sync
from deploy.stack.process import StackError

PG_VERSION = "15"
OS_USER = "postgres"


def find_bin_dir() -> Path | None:
    """The server binaries: $IMS_PG_BIN, else Debian's postgresql-15, else the newest installed."""
    env = os.environ.get("IMS_PG_BIN")
    if env:
        return Path(env) if (Path(env) / "initdb").exists() else None
    preferred = Path(f"/usr/lib/postgresql/{PG_VERSION}/bin")
    if (preferred / "initdb").exists():
        return preferred
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    return max(
        found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, default=None
    )


def ensure_installed() -> Path:
    """The bin dir; when root and none is installed, installs postgresql-15 with apt."""
    found = find_bin_dir()
    if found is not None:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise StackError(
            f"PostgreSQL binaries not found: install postgresql-{PG_VERSION} "
            "(deploy/bootstrap.sh does) or point IMS_PG_BIN at a bin dir with initdb"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    process.run_checked(["apt-get", "update"], "apt-get update", 600.0, env=env)
    process.run_checked(
        ["apt-get", "install", "-y", "--no-install-recommends", f"postgresql-{PG_VERSION}"],
        "installing PostgreSQL",
        900.0,
        env=env,
    )
    found = find_bin_dir()
    if found is None:
        raise StackError(f"postgresql-{PG_VERSION} installed but initdb is still missing")
    return found


def as_server_user() -> list[str]:
    """Command prefix: the server refuses to run as root, so root runs it as `postgres`."""
    return ["runuser", "-u", OS_USER, "--"] if os.geteuid() == 0 else []


@dataclass(frozen=True)
class PostgresNode:
    """A server's files (all under `home`, owned by the server user) and its port."""

    home: Path
    port: int
    bin_dir: Path

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def log(self) -> Path:
        return self.home / "server.log"

    @property
    def marker(self) -> str:
        return str(self.data_dir)

    def admin_dsn(self, password: str) -> str:
        return f"postgresql://postgres:{password}@127.0.0.1:{self.port}/postgres"


def choose_home(state_dir: Path) -> Path:
    """`<state dir>/postgres` when the server user can reach it, else a /tmp dir of its own.

    CI may clone the repo under a directory `postgres` cannot traverse (e.g. /root).
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or _server_user_can_enter(state_dir):
        return state_dir / "postgres"
    digest = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:12]
    return Path("/tmp") / f"ims-pg-{digest}"


def _server_user_can_enter(directory: Path) -> bool:
    try:
        process.run_checked([*as_server_user(), "test", "-x", str(directory)], "access", 10.0)
    except StackError:
        return False
    return True


def _owned_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.geteuid() == 0:
        user = pwd.getpwnam(OS_USER)
        os.chown(path, user.pw_uid, user.pw_gid)
    os.chmod(path, 0o700)


def _write_owned(path: Path, text: str) -> None:
    path.write_text(text)
    os.chmod(path, 0o600)
    if os.geteuid() == 0:
        user = pwd.getpwnam(OS_USER)
        os.chown(path, user.pw_uid, user.pw_gid)


def ensure_initialised(node: PostgresNode, admin_password: str) -> None:
    """initdb on first start only: superuser `postgres`, scram passwords for every login."""
    _owned_dir(node.home)
    if (node.data_dir / "PG_VERSION").exists():
        return
    shutil.rmtree(node.data_dir, ignore_errors=True)
    pwfile = node.home / "initdb.pw"
    _write_owned(pwfile, admin_password + "\n")
    try:
        process.run_checked(
            [
                *as_server_user(),
                str(node.bin_dir / "initdb"),
                "-D",
                str(node.data_dir),
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            "initdb",
            180.0,
        )
    finally:
        pwfile.unlink(missing_ok=True)
    with (node.data_dir / "postgresql.conf").open("a") as conf:
        conf.write(
            "\n# Written by deploy/stack at every start (port, listen address).\n"
            "include_if_exists = 'ims.conf'\n"
        )


def _write_runtime_conf(node: PostgresNode) -> None:
    # TCP on 127.0.0.1 only; no unix socket (its path length limit bites in deep CI dirs).
    _write_owned(
        node.data_dir / "ims.conf",
        (
            "listen_addresses = '127.0.0.1'\n"
            f"port = {node.port}\n"
            "unix_socket_directories = ''\n"
            "max_connections = 200\n"
        ),
    )


def running_pid(node: PostgresNode) -> int | None:
    pid = process.read_pid(node.data_dir / "postmaster.pid")
    return pid if process.is_alive(pid, node.marker) else None


def start(node: PostgresNode, timeout_s: float = 90.0) -> int:
    """Start the server (or find it running) and return the postmaster's pid."""
    pid = running_pid(node)
    if pid is not None:
        return pid
    _write_runtime_conf(node)
    try:
        process.run_checked(
            [
                *as_server_user(),
                str(node.bin_dir / "pg_ctl"),
                "start",
                "-D",
                str(node.data_dir),
                "-l",
                str(node.log),
                "-w",
                "-t",
                str(int(timeout_s)),
            ],
            "starting PostgreSQL",
            timeout_s + 15,
        )
    except StackError as exc:
        raise StackError(f"{exc}\nserver log {node.log}:\n{process.tail(node.log)}") from exc
    pid = running_pid(node)
    if pid is None:
        raise StackError(f"PostgreSQL did not stay up; log:\n{process.tail(node.log)}")
    return pid


def wait_ready(node: PostgresNode, admin_dsn: str, timeout_s: float = 60.0) -> None:
    """Wait until the admin DSN can run a query, or fail with the server log tail."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        last = run_sync(lambda: _try_query(admin_dsn))
        if not last:
            return
        time.sleep(0.5)
    raise StackError(
        f"PostgreSQL on 127.0.0.1:{node.port} not ready after {timeout_s:.0f}s ({last}); "
        f"log:\n{process.tail(node.log)}"
    )


async def _try_query(dsn: str) -> str:
    """'' when a query succeeded, else the reason."""
    try:
        conn = await asyncio.wait_for(asyncpg.connect(dsn), 5.0)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    try:
        await conn.fetchval("SELECT 1")
        return ""
    finally:
        await conn.close()


def stop(node: PostgresNode, timeout_s: float = 60.0) -> bool:
    """Fast shutdown (rolls back open transactions); True if it was running."""
    pid = running_pid(node)
    if pid is None:
        return False
    try:
        process.run_checked(
            [
                *as_server_user(),
                str(node.bin_dir / "pg_ctl"),
                "stop",
                "-D",
                str(node.data_dir),
                "-m",
                "fast",
                "-w",
                "-t",
                str(int(timeout_s)),
            ],
            "stopping PostgreSQL",
            timeout_s + 15,
        )
    except StackError:
        process.stop(pid, node.marker, grace_s=10.0)  # last resort: signal the postmaster
    return True
