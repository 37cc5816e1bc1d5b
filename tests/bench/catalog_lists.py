"""Benchmark of the catalog's lists and detail over HTTP, with 1,000,000 images.

    .venv/bin/python -m tests.bench.catalog_lists [--images N] [--owners N] ...

Starts its own Kafka and PostgreSQL (as the tests do: free ports, a temporary state dir),
loads the images straight into the catalog's table with ``generate_series`` (not through
Kafka: that would take hours and measure something else), starts a real catalog service
process (``python -m services.catalog run``, HTTP API, consumer, relay), then measures:

- one client, one request at a time: p50/p99 of the private tab, the public tab, the
  shared tab (accepted shares loaded into the memberships table), a
  filtered private tab (status, OS family, name substring) and the detail;
- N concurrent clients (default 16) on a mix of the five: throughput, p50/p99.

The client is a minimal HTTP/1.1 keep-alive client on asyncio streams, so that it takes as
little of the machine's CPU as it can; it shares the machine with the service and
PostgreSQL all the same, and the load average is printed with every figure. Not collected
by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import random
import statistics
import subprocess
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from uuid import UUID

import asyncpg

from deploy.stack import postgres
from ims_testkit.tokens import Issuer
from tests.bench.common import cpu_seconds, postgres_cpu, service_pids
from tests.harness import ServiceProcess, service_process
from tests.infra import TestStack, open_test_stack

NAME_PREFIXES = ("web", "db", "cache", "app", "ci", "build", "ml", "gw")


def owner_id(n: int) -> UUID:
    """The id of bench owner ``n``; the SQL loader derives the same (md5 of the text)."""
    return UUID(hashlib.md5(f"owner-{n}".encode()).hexdigest())


LOAD_SQL = """
INSERT INTO images (image_id, visibility, owner_account_id, name, description, status,
    progress, os, system_disk_gb, min_memory_mb, disk_format, size_bytes, virtual_size_bytes,
    checksum_sha256, location, source_host_id, source_host_name, publish_status,
    failure_code, failure_reason, created_at, updated_at, accepted_at, deleted_at)
SELECT gen_random_uuid(), 'private', md5('owner-' || (i % $2))::uuid,
    (ARRAY['web','db','cache','app','ci','build','ml','gw'])[1 + i % 8] || '-' || i,
    'bench image ' || i,
    CASE WHEN i % 50 = 0 THEN 'failed' WHEN i % 97 = 0 THEN 'deleted'
         WHEN i % 199 = 0 THEN 'creating' ELSE 'normal' END,
    100,
    CASE WHEN i % 3 = 0
        THEN '{"family": "windows", "distro": "Windows Server", "version": "2019 Datacenter"}'
        ELSE '{"family": "linux", "distro": "Ubuntu", "version": "22.04"}' END::jsonb,
    40, CASE WHEN i % 3 = 0 THEN 2048 ELSE 1024 END, 'raw',
    1073741824 + i, 42949672960, md5(i::text) || md5((i + 1)::text),
    '/images/' || i || '.raw', md5('host-' || (i % ($2 * 3)))::uuid, 'ecs-' || (i % ($2 * 3)),
    CASE WHEN i % 500 = 0 THEN 'published' ELSE 'unpublished' END,
    CASE WHEN i % 50 = 0 THEN 'host_running' END,
    CASE WHEN i % 50 = 0 THEN '云主机状态是“运行中”，请先关机。' END,
    now() - make_interval(secs => i * 30), now(), now() - make_interval(secs => i * 30),
    CASE WHEN i % 97 = 0 AND i % 50 <> 0 THEN now() END
FROM generate_series(1, $1) AS i
"""

PUBLIC_SQL = """
INSERT INTO images (image_id, visibility, name, status, progress, os, system_disk_gb,
    min_memory_mb, publish_status, created_at, updated_at, announced_at)
SELECT gen_random_uuid(), 'public', 'Public OS ' || i || ' 64bit', 'normal', 100,
    '{"family": "linux", "distro": "Public OS", "version": "1"}'::jsonb, 40, 1024,
    'published', now() - make_interval(days => i), now(), now()
FROM generate_series(1, $1) AS i
"""

# Accepted shares as the catalog keeps them from sharing's facts: the first ``$1`` normal
# private images, each shared with one other bench owner (about $1 / owners per recipient).
SHARES_SQL = """
INSERT INTO memberships (membership_id, image_id, owner_account_id, member_account_id,
    member_account_name, status, offered_at, changed_at)
SELECT gen_random_uuid(), image_id, owner_account_id, md5('owner-' || (n % $2))::uuid,
    'owner-' || (n % $2), 'accepted', now(), now()
FROM (SELECT image_id, owner_account_id, row_number() OVER () * 7 AS n FROM images
      WHERE visibility = 'private' AND status = 'normal' LIMIT $1) AS chosen
WHERE md5('owner-' || (n % $2))::uuid <> owner_account_id
"""

ACCOUNTS_SQL = """
INSERT INTO accounts (account_id, private_image_quota, stored_bytes, stored_images)
SELECT owner_account_id, 1000, sum(size_bytes), count(*) FROM images
WHERE visibility = 'private' AND status = 'normal' GROUP BY owner_account_id
"""


async def load(dsn: str, images: int, owners: int, public: int, shares: int) -> dict[str, float]:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "catalog"})
    try:
        started = time.monotonic()
        await conn.execute(LOAD_SQL, images, owners)
        await conn.execute(PUBLIC_SQL, public)
        await conn.execute(SHARES_SQL, shares, owners)
        await conn.execute(ACCOUNTS_SQL)
        loaded = time.monotonic()
        await conn.execute("VACUUM ANALYZE images")
        await conn.execute("VACUUM ANALYZE accounts")
        await conn.execute("VACUUM ANALYZE memberships")
        return {"load_s": loaded - started, "vacuum_s": time.monotonic() - loaded}
    finally:
        await conn.close()


async def sample_details(dsn: str, count: int) -> list[tuple[UUID, UUID]]:
    """(owner, image) pairs of visible private images, for the detail requests."""
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "catalog"})
    try:
        rows = await conn.fetch(
            """
            SELECT owner_account_id, image_id FROM images TABLESAMPLE SYSTEM (1)
            WHERE visibility = 'private' AND status <> 'deleted' LIMIT $1
            """,
            count,
        )
    finally:
        await conn.close()
    return [(r["owner_account_id"], r["image_id"]) for r in rows]


# --- a minimal HTTP/1.1 keep-alive client --------------------------------------------------


class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, token: str) -> tuple[int, int]:
        """(status, body bytes) of GET ``path``; reconnects when the server closed."""
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
            "Accept: application/json\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = dict(line.lower().split(":", 1) for line in lines[1:] if ":" in line)
        length = int(headers["content-length"])
        await self.reader.readexactly(length)
        return status, length

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@dataclass
class Workload:
    """Requests of one kind: a path and a token, chosen at random for each request."""

    name: str
    make: Callable[[random.Random], tuple[str, str]]


def workloads(issuer: Issuer, owners: int, details: list[tuple[UUID, UUID]]) -> list[Workload]:
    tokens = {n: issuer.token(owner_id(n), f"owner-{n}") for n in range(owners)}
    by_owner = {owner_id(n): tokens[n] for n in range(owners)}

    def private(rng: random.Random) -> tuple[str, str]:
        return "/v1/images?tab=private&limit=20", tokens[rng.randrange(owners)]

    def public(rng: random.Random) -> tuple[str, str]:
        return "/v1/images?tab=public&limit=20", tokens[rng.randrange(owners)]

    def shared(rng: random.Random) -> tuple[str, str]:
        return "/v1/images?tab=shared&limit=20", tokens[rng.randrange(owners)]

    def filtered(rng: random.Random) -> tuple[str, str]:
        family = rng.choice(("linux", "windows"))
        name = rng.choice(NAME_PREFIXES)
        path = f"/v1/images?tab=private&status=normal&os_family={family}&name={name}&limit=20"
        return path, tokens[rng.randrange(owners)]

    def detail(rng: random.Random) -> tuple[str, str]:
        owner, image = rng.choice(details)
        return f"/v1/images/{image}", by_owner[owner]

    return [
        Workload("private list", private),
        Workload("public list", public),
        Workload("shared list", shared),
        Workload("filtered list", filtered),
        Workload("detail", detail),
    ]


# --- CPU spent by the catalog process and by PostgreSQL, whatever else the machine runs ---


@dataclass
class CpuMeter:
    """CPU seconds of the catalog (with its helpers) and of PostgreSQL."""

    catalog_pid: int
    postgres_home: str

    def read(self) -> tuple[float, float]:
        # Looked up each time: the pool opens connections (backends) as load grows.
        catalog = cpu_seconds(service_pids(self.catalog_pid))
        return catalog, postgres_cpu(self.postgres_home)


@dataclass
class Result:
    name: str
    clients: int
    requests: int
    seconds: float
    latencies_ms: list[float]
    load_average: float
    catalog_cpu_s: float = 0.0
    postgres_cpu_s: float = 0.0

    def cpu_ms_per_request(self) -> tuple[float, float]:
        return (
            self.catalog_cpu_s * 1000 / self.requests,
            self.postgres_cpu_s * 1000 / self.requests,
        )

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))]

    def row(self) -> str:
        return (
            f"| {self.name} | {self.clients} | {self.requests} | {self.percentile(0.5):.2f} | "
            f"{self.percentile(0.99):.2f} | {statistics.fmean(self.latencies_ms):.2f} | "
            f"{self.throughput:.0f} | {self.cpu_ms_per_request()[0]:.2f} | "
            f"{self.cpu_ms_per_request()[1]:.2f} | {self.load_average:.2f} |"
        )


async def run_clients(
    port: int,
    pick: Callable[[random.Random], tuple[str, str]],
    *,
    clients: int,
    requests: int | None = None,
    seconds: float | None = None,
    seed: int = 7,
) -> tuple[int, float, list[float]]:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds if seconds else None
    budget = [requests or 0]

    async def client(n: int) -> None:
        rng, conn = random.Random(seed * 1000 + n), Connection(port)
        try:
            while True:
                if deadline is not None and time.monotonic() >= deadline:
                    return
                if deadline is None:
                    if budget[0] <= 0:
                        return
                    budget[0] -= 1
                path, token = pick(rng)
                started = time.perf_counter()
                status, _ = await conn.get(path, token)
                latencies.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    raise RuntimeError(f"{path}: HTTP {status}")
        finally:
            await conn.close()

    started = time.monotonic()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return len(latencies), time.monotonic() - started, latencies


async def measure(
    port: int,
    loads: list[Workload],
    meter: CpuMeter,
    *,
    requests: int,
    warmup: int,
    clients: int,
    seconds: float,
) -> list[Result]:
    results = []

    async def timed(
        name: str, pick: Callable[[random.Random], tuple[str, str]], n: int, **run: Any
    ) -> None:
        warm: dict[str, Any] = {"requests": warmup} if n == 1 else {"seconds": 3.0}
        await run_clients(port, pick, clients=n, seed=1, **warm)
        before = meter.read()
        count, took, latencies = await run_clients(port, pick, clients=n, **run)
        after = meter.read()
        results.append(
            Result(
                name, n, count, took, latencies, os.getloadavg()[0],
                after[0] - before[0], after[1] - before[1],
            )
        )  # fmt: skip
        print(results[-1].row(), flush=True)

    for workload in loads:
        await timed(workload.name, workload.make, 1, requests=requests)

    def mixed(rng: random.Random) -> tuple[str, str]:
        return rng.choice(loads).make(rng)

    for workload in loads[:1]:
        await timed(workload.name, workload.make, clients, seconds=seconds)
    await timed("mix of the five", mixed, clients, seconds=seconds)
    return results


def machine() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory_gib": f"{int(memory) / 1024 / 1024:.1f}",
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


async def explain(dsn: str, account: UUID) -> str:
    """The private tab's plan, for the record."""
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "catalog"})
    try:
        rows = await conn.fetch(
            """
            EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM images
            WHERE status <> 'deleted' AND visibility = 'private' AND owner_account_id = $1
            ORDER BY created_at DESC, image_id DESC LIMIT 21
            """,
            account,
        )
    finally:
        await conn.close()
    return "\n".join(r[0] for r in rows)


def git_head() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip()


def start_catalog(stack: TestStack, issuer: Issuer, extra_env: dict[str, str]) -> ServiceProcess:
    catalog = service_process(stack, "catalog", issuer=issuer)
    catalog.env.update(extra_env)
    catalog.migrate()
    return catalog


async def main(args: argparse.Namespace) -> None:
    issuer = Issuer.generate()
    with TemporaryDirectory(prefix="ims-bench-") as tmp, ExitStack() as stack_exit:
        print("starting Kafka and PostgreSQL ...", flush=True)
        stack = open_test_stack(stack_exit, Path(tmp), dict(os.environ))
        catalog = start_catalog(stack, issuer, dict(kv.split("=", 1) for kv in args.env))
        print(f"loading {args.images:,} images of {args.owners:,} owners ...", flush=True)
        timings = await load(
            stack.dsns["catalog"], args.images, args.owners, args.public, args.shares
        )
        print(f"loaded in {timings['load_s']:.0f} s, vacuumed in {timings['vacuum_s']:.0f} s")
        details = await sample_details(stack.dsns["catalog"], 5000)
        catalog.start()
        stack_exit.callback(catalog.stop)
        catalog.wait_healthy()
        await asyncio.sleep(5)  # let the consumer group settle before measuring
        loads = workloads(issuer, args.owners, details)
        print(
            "| what | clients | requests | p50 ms | p99 ms | mean ms | req/s "
            "| catalog CPU ms/req | PostgreSQL CPU ms/req | load avg |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        assert catalog.proc is not None
        meter = CpuMeter(catalog.proc.pid, str(postgres.choose_home(Path(tmp))))
        results = await measure(
            catalog.http_port,
            loads,
            meter,
            requests=args.requests,
            warmup=args.warmup,
            clients=args.clients,
            seconds=args.seconds,
        )
        plan = await explain(stack.dsns["catalog"], owner_id(1))
        report = {
            "machine": machine(),
            "images": args.images,
            "owners": args.owners,
            "public": args.public,
            "shares": args.shares,
            "timings": timings,
            "env": args.env,
            "results": [
                {
                    "name": r.name,
                    "clients": r.clients,
                    "requests": r.requests,
                    "p50_ms": round(r.percentile(0.5), 2),
                    "p99_ms": round(r.percentile(0.99), 2),
                    "req_per_s": round(r.throughput, 1),
                    "load_average": r.load_average,
                    "catalog_cpu_ms_per_req": round(r.cpu_ms_per_request()[0], 3),
                    "postgres_cpu_ms_per_req": round(r.cpu_ms_per_request()[1], 3),
                }
                for r in results
            ],
            "private_tab_plan": plan,
            "git": git_head(),
        }
        print(json.dumps(report["machine"]))
        if args.out:
            Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.catalog_lists")
    parser.add_argument("--images", type=int, default=1_000_000)
    parser.add_argument("--owners", type=int, default=10_000)
    parser.add_argument("--public", type=int, default=94, help="public images besides the 6 seeded")
    parser.add_argument(
        "--shares", type=int, default=200_000, help="accepted shares (the shared tab)"
    )
    parser.add_argument("--requests", type=int, default=2000, help="per kind, one client")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0, help="of the concurrent run")
    parser.add_argument("--env", action="append", default=[], help="IMS_X=value for the service")
    parser.add_argument("--out", help="write the report as JSON here")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
