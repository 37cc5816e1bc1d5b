"""The reference in the same run: OpenStack Glance 33 from PyPI, on the bench's PostgreSQL 15,
driven by the same clients, pairs and concurrency as IMS's sharing benchmarks.

Glance runs in a virtualenv of its own (kept in ``.ims/cache/glance/``, its versions pinned by
``tests/bench/glance/constraints.txt``), as Glance's WSGI application under gunicorn with
2 workers x 4 threads, its database a fresh one on the bench's PostgreSQL server. Identity
comes from request headers (``glance/glance-api-paste.ini``: Glance's own context
middleware, no Keystone): IMS's side verifies its tokens locally too, so neither pays a
round trip to an identity service.

A Glance pair is the owner's ``POST /v2/images/{id}/members`` and the member's
``PUT /v2/images/{id}/members/{member}`` with ``accepted``: one database, so the member sees
the image at once (checked at the end through ``GET /v2/images?visibility=shared``).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote, urlsplit
from uuid import uuid4

import aiohttp
import asyncpg

from deploy.stack.aio import run_sync
from deploy.stack.config import repo_root
from tests.bench.common import cpu_ms_per, cpu_seconds, postgres_cpu, service_pids, summary

HERE = Path(__file__).with_name("glance")
CONSTRAINTS = HERE / "constraints.txt"
PACKAGES = ("glance", "gunicorn", "psycopg2-binary")
WORKERS, THREADS = 2, 4
RECIPIENTS_PER_IMAGE = 100  # as IMS's bench; Glance's image_member_quota is 128


def glance_venv() -> Path:
    """Glance's own virtualenv, built once per constraints file."""
    key = hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()[:12]
    venv = repo_root() / ".ims" / "cache" / "glance" / f"venv-{key}"
    if not (venv / ".complete").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run(
            [*pip, "--disable-pip-version-check", "-c", str(CONSTRAINTS), *PACKAGES],
            check=True,
            timeout=1200,
        )
        (venv / ".complete").write_text("")
    return venv


@dataclass(frozen=True)
class Glance:
    url: str
    pid: int
    postgres_home: str

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of Glance's gunicorn (master and workers) and of PostgreSQL."""
        return {
            "glance": cpu_seconds(service_pids(self.pid)),
            "postgres": postgres_cpu(self.postgres_home),
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _create_database(admin_dsn: str, name: str, password: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
        await conn.execute(f"CREATE DATABASE {name} OWNER {name}")
    finally:
        await conn.close()


async def _drop_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.execute(f"DROP ROLE IF EXISTS {name}")
    finally:
        await conn.close()


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Glance exited {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthcheck", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"Glance not healthy in {timeout_s} s:\n{log.read_text()[-4000:]}")


@contextmanager
def running_glance(admin_dsn: str, postgres_home: str) -> Iterator[Glance]:
    """Glance on a new database of the server ``admin_dsn`` names; all gone afterwards."""
    venv = glance_venv()
    with ExitStack() as exit_stack:
        state = Path(tempfile.mkdtemp(prefix="ims-glance-"))
        exit_stack.callback(shutil.rmtree, state, True)
        for folder in ("images", "staging", "tasks", "locks"):
            (state / folder).mkdir()
        name, password = f"glance_{secrets.token_hex(4)}", secrets.token_hex(16)
        run_sync(lambda: _create_database(admin_dsn, name, password))
        exit_stack.callback(lambda: run_sync(lambda: _drop_database(admin_dsn, name)))
        server = urlsplit(admin_dsn)
        connection = (
            f"postgresql+psycopg2://{name}:{quote(password)}@{server.hostname}:{server.port}/{name}"
        )
        conf = Template((HERE / "glance-api.conf.template").read_text())
        (state / "glance-api.conf").write_text(conf.substitute(state=state, connection=connection))
        shutil.copy(HERE / "glance-api-paste.ini", state / "glance-api-paste.ini")
        os.chmod(state / "glance-api.conf", 0o600)  # it holds the database password
        subprocess.run(
            [str(venv / "bin" / "glance-manage"), "--config-file",
             str(state / "glance-api.conf"), "db_sync"],
            check=True, timeout=600, capture_output=True,
        )  # fmt: skip
        port = _free_port()
        log = state / "gunicorn.log"
        proc = subprocess.Popen(
            [str(venv / "bin" / "gunicorn"), "--workers", str(WORKERS), "--threads",
             str(THREADS), "--worker-class", "gthread", "--bind", f"127.0.0.1:{port}",
             "--log-file", str(log), "glance.wsgi.api:application"],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                 "OS_GLANCE_CONFIG_DIR": str(state)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

        def stop() -> None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)

        exit_stack.callback(stop)
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, proc, log, 180)
        yield Glance(url, proc.pid, postgres_home)


@dataclass(frozen=True)
class Project:
    project_id: str

    def headers(self) -> dict[str, str]:
        """Who the request is from, as keystonemiddleware would have said after a token."""
        return {
            "X-Identity-Status": "Confirmed",
            "X-Project-Id": self.project_id,
            "X-User-Id": self.project_id,
            "X-Roles": "member,reader",
        }


def _project() -> Project:
    return Project(uuid4().hex)


async def _new_image(session: aiohttp.ClientSession, glance: Glance, owner: Project) -> str:
    """A shared-visibility image with a file, `active`: the state IMS's shared images are in."""
    async with session.post(
        f"{glance.url}/v2/images",
        json={"name": "bench", "disk_format": "raw", "container_format": "bare",
              "visibility": "shared"},
        headers=owner.headers(),
    ) as response:  # fmt: skip
        assert response.status == 201, await response.text()
        image_id = str((await response.json())["id"])
    async with session.put(
        f"{glance.url}/v2/images/{image_id}/file",
        data=b"\x00" * 4096,
        headers={**owner.headers(), "Content-Type": "application/octet-stream"},
    ) as response:
        assert response.status == 204, await response.text()
    return image_id


async def _shared_with(session: aiohttp.ClientSession, glance: Glance, member: Project) -> int:
    """How many accepted images the member lists, following Glance's `next` links."""
    count, path = 0, "/v2/images?visibility=shared&member_status=accepted&limit=1000"
    while path:
        async with session.get(f"{glance.url}{path}", headers=member.headers()) as response:
            assert response.status == 200, await response.text()
            page = await response.json()
        count += len(page["images"])
        path = page.get("next", "")
    return count


async def handshake(glance: Glance, pairs: int, clients: int) -> dict[str, Any]:
    """``pairs`` member-add + accept pairs by ``clients`` concurrent owners, each pair after
    the other (as IMS's handshake bench): pairs/s, round trips and CPU a pair."""
    per_client = pairs // clients
    images_per_owner = -(-per_client // RECIPIENTS_PER_IMAGE)
    owners = [_project() for _ in range(clients)]
    recipients = [_project() for _ in range(RECIPIENTS_PER_IMAGE)]
    connector = aiohttp.TCPConnector(limit=clients * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        images = {
            owner.project_id: [
                await _new_image(session, glance, owner) for _ in range(images_per_owner)
            ]
            for owner in owners
        }
        round_trips: list[float] = []

        async def client_pair(owner: Project) -> None:
            for n in range(per_client):
                image_id = images[owner.project_id][n // RECIPIENTS_PER_IMAGE]
                recipient = recipients[n % RECIPIENTS_PER_IMAGE]
                started = time.perf_counter()
                async with session.post(
                    f"{glance.url}/v2/images/{image_id}/members",
                    json={"member": recipient.project_id}, headers=owner.headers(),
                ) as response:  # fmt: skip
                    assert response.status == 200, await response.text()
                    assert (await response.json())["status"] == "pending"
                async with session.put(
                    f"{glance.url}/v2/images/{image_id}/members/{recipient.project_id}",
                    json={"status": "accepted"}, headers=recipient.headers(),
                ) as response:  # fmt: skip
                    assert response.status == 200, await response.text()
                    assert (await response.json())["status"] == "accepted"
                round_trips.append(time.perf_counter() - started)

        cpu_before = glance.cpu()
        start = time.perf_counter()
        await asyncio.gather(*(client_pair(owner) for owner in owners))
        end = time.perf_counter()
        cpu_after = glance.cpu()
        listed = sum([await _shared_with(session, glance, r) for r in recipients])
    total = per_client * clients
    assert listed == total, f"members list {listed} accepted images, {total} were accepted"
    return {
        "pairs": total,
        "clients": clients,
        "workers_x_threads": f"{WORKERS}x{THREADS}",
        "listed_as_shared": listed,
        "pairs_per_s": round(total / (end - start), 1),
        "share_plus_accept_round_trip": summary(round_trips),
        "cpu_ms_per_pair": cpu_ms_per(cpu_before, cpu_after, total),
    }


def side_by_side(
    admin_dsn: str,
    postgres_home: str,
    ims_run: Callable[[], Coroutine[Any, Any, dict[str, Any]]],
    glance_pairs: int,
    clients: int,
    runs: int,
) -> dict[str, Any]:
    """``runs`` rounds of Glance's handshake then IMS's ``ims_run``, on one machine and one
    PostgreSQL server, one after the other (never at once: each gets the cores alone), and
    the medians of both rates and of their ratio."""
    rounds: list[dict[str, Any]] = []
    with running_glance(admin_dsn, postgres_home) as glance:
        for _ in range(runs):
            reference = asyncio.run(handshake(glance, glance_pairs, clients))
            ims = asyncio.run(ims_run())
            ratio = float(ims["pairs_per_s"]) / float(reference["pairs_per_s"])
            rounds.append({"glance": reference, "ims": ims, "ratio": round(ratio, 2)})
    return {
        "rounds": rounds,
        "median": {
            "glance_pairs_per_s": statistics.median(r["glance"]["pairs_per_s"] for r in rounds),
            "ims_pairs_per_s": statistics.median(r["ims"]["pairs_per_s"] for r in rounds),
            "ratio": statistics.median(r["ratio"] for r in rounds),
        },
    }
