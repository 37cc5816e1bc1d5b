"""What the benchmarks share: a stack of their own (Kafka, PostgreSQL, the services as real
processes, exactly as in the integration tests), accounts and images announced as IAM, the
catalog and capture announce them, percentiles, and the machine they ran on."""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from deploy.stack import postgres
from ims_testkit.tokens import Issuer
from schemas.events import AccountChanged, ImageReady, ImageSource
from tests.harness import Bus, ServiceProcess, service_process, token_for
from tests.infra import TestStack, open_test_stack
from tests.integration import facts
from tests.integration.sharing_kit import Tenant


@dataclass(frozen=True)
class Bench:
    stack: TestStack
    issuer: Issuer
    services: dict[str, ServiceProcess]

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each service, PostgreSQL and Kafka."""
        return stack_cpu(self.stack, self.services)

    def bus(self) -> Bus:
        return Bus(self.stack)

    async def count(self, service: str, sql: str, *args: object) -> int:
        conn = await asyncpg.connect(
            self.stack.dsns[service], server_settings={"search_path": service}
        )
        try:
            return int(await conn.fetchval(sql, *args))
        finally:
            await conn.close()

    async def until(self, service: str, sql: str, want: int, *args: object) -> None:
        """Wait until ``sql`` counts ``want`` in the service's schema."""
        while True:
            if await self.count(service, sql, *args) >= want:
                return
            await asyncio.sleep(0.2)


@contextmanager
def bench_stack(
    services: Sequence[str],
    env: dict[str, dict[str, str]] | None = None,
    *,
    kafka_auth: bool = True,
) -> Iterator[Bench]:
    """Kafka and PostgreSQL (local processes unless IMS_TEST_* name others) and the given
    services (with extra environment per service), migrated and healthy; all gone
    afterwards. ``kafka_auth=False``: a local broker without logins nor ACLs."""
    with ExitStack() as exit_stack:
        tmp = Path(tempfile.mkdtemp(prefix="ims-bench-"))
        exit_stack.callback(shutil.rmtree, tmp, True)
        stack = open_test_stack(exit_stack, tmp, dict(os.environ), kafka_auth=kafka_auth)
        issuer = Issuer.generate()
        processes = {name: service_process(stack, name, issuer=issuer) for name in services}
        for name, extra in (env or {}).items():
            processes[name].env.update(extra)
        for process in processes.values():
            process.migrate()
            exit_stack.callback(process.stop)
            process.start()
        for process in processes.values():
            process.wait_healthy()
        yield Bench(stack, issuer, processes)


async def announce_accounts(bus: Bus, issuer: Issuer, count: int, prefix: str) -> list[Tenant]:
    tenants = []
    for i in range(count):
        account_id, name = uuid4(), f"{prefix}-{i:05d}"
        await bus.send(
            AccountChanged(account_id=account_id, name=name),
            subject=account_id, tenant=account_id, source="/iam",
        )  # fmt: skip
        tenants.append(Tenant(account_id, name, token_for(issuer, account_id, name)))
    return tenants


async def announce_images(bench: Bench, bus: Bus, owner: UUID, count: int) -> list[UUID]:
    """Private images as the console (CaptureRequested) and capture (ImageReady, sequence 2,
    once the catalog registered them) announce them: `normal` in catalog and sharing."""
    images = [uuid4() for _ in range(count)]
    for i, image_id in enumerate(images):
        await bus.send(
            facts.capture(owner, uuid4(), image_id, f"bench-{i}"),
            subject=image_id, tenant=owner, source="/console",
        )  # fmt: skip
    # Capture reports only on what the catalog accepted: ImageReady must not overtake it.
    sql = "SELECT count(*) FROM images WHERE image_id = ANY($1::uuid[])"
    await bench.until("catalog", sql, count, images)
    for i, image_id in enumerate(images):
        await bus.send(
            ImageReady(
                image_id=image_id, account_id=owner, name=f"bench-{i}",
                source=ImageSource(host_id=uuid4(), host_name="ecs-bench"), os=facts.UBUNTU,
                system_disk_gb=40, min_memory_mb=1024, disk_format="raw", size_bytes=4096,
                virtual_size_bytes=40 * 1024**3, checksum_sha256="0" * 64,
                location=f"/images/{image_id}.raw", finished_at=datetime.now(UTC),
            ),
            subject=image_id, tenant=owner, sequence=2, source="/ims/capture",
        )  # fmt: skip
    return images


def stack_cpu(stack: TestStack, services: dict[str, ServiceProcess]) -> dict[str, float]:
    """CPU seconds used so far by each running service (with its HTTP helpers), by the
    stack's PostgreSQL and by its Kafka: what other tenants of the machine cannot inflate
    much, unlike latency."""
    used = {
        name: cpu_seconds(service_pids(process.proc.pid))
        for name, process in services.items()
        if process.proc is not None
    }
    used["postgres"] = postgres_cpu(str(postgres.choose_home(stack.tmp_dir)))
    used["kafka"] = kafka_cpu(stack.tmp_dir)
    return used


def cpu_ms_per(before: dict[str, float], after: dict[str, float], units: int) -> dict[str, float]:
    """CPU milliseconds each component spent per unit of work (a pair, an offer)."""
    return {name: round((after[name] - before[name]) * 1000 / units, 2) for name in after}


_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # from the 3rd field on (state, ppid, ...)


def cpu_seconds(pids: list[int], *, reaped: bool = False) -> float:
    """User + system CPU seconds of the live processes ``pids``; with ``reaped``, also of
    their children that have exited (a PostgreSQL backend's time goes to the postmaster)."""
    total = 0.0
    for pid in pids:
        try:
            fields = _stat(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime
        if reaped:
            total += (int(fields[13]) + int(fields[14])) / _TICK  # cutime + cstime
    return total


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found[int(entry.name)] = (int(_stat(int(entry.name))[1]), cmdline)
            except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
                continue
    return found


def postgres_cpu(home: str) -> float:
    """CPU seconds of the postmaster whose command line names ``home``: its own, its live
    backends' and those of the backends that have exited."""
    procs = _processes()
    roots = [p for p, (_, cmd) in procs.items() if "postgres" in cmd and home in cmd]
    live = [p for p, (ppid, _) in procs.items() if ppid in roots]
    return cpu_seconds(roots, reaped=True) + cpu_seconds(live)


def kafka_cpu(tmp_dir: Path) -> float:
    """CPU seconds of the broker whose command line names the bench's state dir."""
    return cpu_seconds(
        [p for p, (_, cmd) in _processes().items() if "java" in cmd and str(tmp_dir) in cmd]
    )


def service_pids(pid: int) -> list[int]:
    """A service process and its HTTP helpers (IMS_HTTP_PROCESSES)."""
    return [pid] + [p for p, (ppid, _) in _processes().items() if ppid == pid]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(latencies_s: Sequence[float]) -> dict[str, float]:
    ms = [v * 1000 for v in latencies_s]
    return {
        "p50_ms": round(percentile(ms, 50), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1) if ms else float("nan"),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan"),
    }


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average": tuple(round(v, 2) for v in os.getloadavg()),
        "at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
