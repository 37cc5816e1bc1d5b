"""Throughput of the event mechanics, on the local real stack (issue 9).

    .venv/bin/python -m tests.bench.throughput                  # everything, 50,000 events
    .venv/bin/python -m tests.bench.throughput --events 10000 --only absorb:sharing

Each measurement gets a deployment of its own (database, roles, prefixed topics) on one
Kafka and PostgreSQL, started as for the tests (tests/infra.py: external ones named by
IMS_TEST_KAFKA_BOOTSTRAP / IMS_TEST_POSTGRES_DSN, else local processes):

- absorb:<service>: a backlog of N input facts on one of the service's topics, produced
  before the service starts; then the service runs, and the rate is N over the time between
  the first and the last effect committed (inbox rows' ``handled_at``);
- relay: N rows committed to the catalog's outbox before it starts; the rate is N over the
  time between the first and the last row marked sent (``sent_at``);
- pipeline: N CaptureRequested through the catalog (image registered, CaptureAccepted in
  its outbox, relayed) into capture's inbox (job queued; its capture workers are off):
  N over the time from the first catalog effect to the last capture effect.

Prints one line per measurement and a JSON summary at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import dataclasses
import json
import os
import platform
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from tempfile import mkdtemp
from uuid import UUID, uuid4

import asyncpg
from aiokafka import AIOKafkaProducer

from ims_testkit.tokens import Issuer
from schemas.envelope import Envelope
from schemas.events import (
    AccountChanged,
    CaptureFailed,
    CaptureProgressed,
    CaptureRequested,
    Event,
    HostChanged,
    HostDisk,
    OperatingSystem,
)
from schemas.topics import topic_name
from services.common.codec import build_envelope, encode
from services.common.stream import app_id
from tests.bench.common import stack_cpu
from tests.harness import ServiceProcess, service_process
from tests.infra import TestStack, free_port, open_test_stack
from tests.integration.conftest import own_deployment

UBUNTU = OperatingSystem(family="linux", distro="Ubuntu", version="22.04")
ISSUER = Issuer.generate()  # the services need keys to start; this bench sends no requests
POLL_S = 0.5
TIMEOUT_S = 900.0


@dataclass(frozen=True)
class Result:
    name: str
    events: int
    seconds: float  # first to last effect
    wall_seconds: float  # from the service's start to the last effect
    # CPU milliseconds per event of each component, from the first effect seen to the last:
    # what the machine's other tenants cannot inflate much, unlike the rate.
    cpu_ms: dict[str, float]

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")

    def line(self) -> str:
        return (
            f"{self.name:<22} {self.events:>7} events  {self.rate:>9,.0f}/s "
            f"(first→last {self.seconds:6.2f} s, from start {self.wall_seconds:6.2f} s)  "
            f"CPU ms/event: " + ", ".join(f"{name} {ms:.2f}" for name, ms in self.cpu_ms.items())
        )


# -- inputs --------------------------------------------------------------------------------


def capture_requested(account: UUID) -> tuple[Event, UUID, UUID]:
    image_id = uuid4()
    data = CaptureRequested(image_id=image_id, account_id=account, host_id=uuid4(), name="bench")
    return data, image_id, account


def host_changed(_: UUID) -> tuple[Event, UUID, UUID]:
    host_id, account = uuid4(), uuid4()
    disk = HostDisk(disk_id=uuid4(), path="/nowhere/disk.raw", format="raw", size_gb=40)
    data = HostChanged(
        host_id=host_id,
        account_id=account,
        name="bench",
        os=UBUNTU,
        state="stopped",
        memory_mb=2048,
        system_disk=disk,
    )
    return data, host_id, account


def account_changed(_: UUID) -> tuple[Event, UUID, UUID]:
    account = uuid4()
    return AccountChanged(account_id=account, name=f"acct-{account.hex[:12]}"), account, account


def capture_failed(_: UUID) -> tuple[Event, UUID, UUID]:
    image_id, account = uuid4(), uuid4()
    data = CaptureFailed(
        image_id=image_id,
        account_id=account,
        host_id=uuid4(),
        name="bench",
        code="host_running",
        reason="云主机状态是“运行中”，请先关机。",
        failed_at=datetime.now(UTC),
    )
    return data, image_id, account


# service -> the input it absorbs (one of its topics)
INPUTS: dict[str, Callable[[UUID], tuple[Event, UUID, UUID]]] = {
    "catalog": capture_requested,
    "capture": host_changed,
    "sharing": account_changed,
    "notifier": capture_failed,
}


async def produce(
    stack: TestStack,
    count: int,
    make: Callable[[UUID], tuple[Event, UUID, UUID]],
    per_account: int = 1,
) -> None:
    """``count`` events on their topic, as fast as the broker takes them; ``per_account``
    of them for each account where the event names one the benchmark chooses."""
    producer = AIOKafkaProducer(
        **stack.kafka_client_config(),
        enable_idempotence=True,
        acks="all",
        linger_ms=20,
        max_batch_size=256 * 1024,
    )
    await producer.start()
    try:
        accounts = [uuid4() for _ in range(max(1, count // per_account))]
        pending = []
        for i in range(count):
            data, subject, tenant = make(accounts[i % len(accounts)])
            envelope: Envelope[Event] = build_envelope(
                data, source="/bench", subject=str(subject), tenant=str(tenant), sequence=1
            )
            pending.append(
                await producer.send(
                    topic_name(data.NAME, stack.topic_prefix),
                    encode(envelope),
                    key=str(subject).encode(),
                )
            )
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


# -- measuring -----------------------------------------------------------------------------


@dataclass
class CpuMeter:
    """CPU seconds of the measured services, PostgreSQL and Kafka of one bench stack."""

    stack: TestStack
    processes: dict[str, ServiceProcess]

    def read(self) -> dict[str, float]:
        return stack_cpu(self.stack, self.processes)


async def wait_for_count(
    dsn: str, schema: str, sql: str, want: int, meter: CpuMeter
) -> dict[str, float]:
    """Wait until ``sql`` counts ``want``; the CPU milliseconds per counted row each
    component spent from the first poll that saw a row to the last."""
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        deadline = time.monotonic() + TIMEOUT_S
        first: tuple[int, dict[str, float]] | None = None
        while (seen := await conn.fetchval(sql)) < want:
            if first is None and seen > 0:
                first = (seen, meter.read())
            if time.monotonic() > deadline:
                raise TimeoutError(f"{schema}: fewer than {want} after {TIMEOUT_S:.0f}s")
            await asyncio.sleep(POLL_S)
    finally:
        await conn.close()
    after = meter.read()
    counted, before = first if first is not None else (0, {name: 0.0 for name in after})
    rows = max(1, want - counted)
    return {name: round((after[name] - before[name]) * 1000 / rows, 3) for name in after}


async def span(dsn: str, schema: str, sql: str) -> tuple[datetime, datetime]:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        row = await conn.fetchrow(sql)
    finally:
        await conn.close()
    assert row is not None
    return row[0], row[1]


def started_service(stack: TestStack, name: str, tmp: Path, **env: str) -> ServiceProcess:
    process = service_process(stack, name, issuer=ISSUER)
    process.env.update(env)
    process.migrate()
    return process


@contextmanager
def running(process: ServiceProcess) -> Iterator[ServiceProcess]:
    try:
        yield process.start()
    finally:
        process.stop()


def inbox_count(consumer: str) -> str:
    return f"SELECT count(*) FROM inbox WHERE consumer = '{consumer}'"


def inbox_span(consumer: str) -> str:
    return f"SELECT min(handled_at), max(handled_at) FROM inbox WHERE consumer = '{consumer}'"


async def absorb(
    stack: TestStack, service: str, count: int, tmp: Path, per_account: int, instances: int
) -> Result:
    await produce(stack, count, INPUTS[service], per_account)
    extra = {"IMS_CAPTURE_JOBS_PER_PROCESS": "0"} if service == "capture" else {}
    processes = [started_service(stack, service, tmp, **extra)]
    for n in range(1, instances):  # more instances in the consumer group, as on a cluster
        port = free_port()
        other = dataclasses.replace(
            processes[0],
            http_port=port,
            env=dict(processes[0].env, IMS_HTTP_PORT=str(port)),
            log_path=processes[0].log_path.with_suffix(f".{n}.log"),
        )
        other.env["IMS_DATA_DIR"] = f"{other.env['IMS_DATA_DIR']}-{n}"
        processes.append(other)
    consumer = app_id(service, stack.topic_prefix)
    dsn = stack.dsns[service]
    start = time.monotonic()
    names = [service] if instances == 1 else [f"{service}-{i}" for i in range(instances)]
    meter = CpuMeter(stack, dict(zip(names, processes, strict=True)))
    with ExitStack() as runs:
        for process in processes:
            runs.enter_context(running(process))
        cpu = await wait_for_count(dsn, service, inbox_count(consumer), count, meter)
        wall = time.monotonic() - start
        batches = sum(p.metric("ims_consumer_batch_size_count") for p in processes)
        print(f"  {service}: mean batch {count / max(batches, 1):.0f} records", flush=True)
    first, last = await span(dsn, service, inbox_span(consumer))
    name = f"absorb:{service}" + (f" x{instances}" if instances > 1 else "")
    return Result(name, count, (last - first).total_seconds(), wall, cpu)


async def relay(stack: TestStack, count: int, tmp: Path) -> Result:
    process = started_service(stack, "catalog", tmp)
    dsn = stack.dsns["catalog"]
    await fill_outbox(stack, dsn, count)
    start = time.monotonic()
    meter = CpuMeter(stack, {"catalog": process})
    with running(process):
        cpu = await wait_for_count(
            dsn, "catalog", "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL", count, meter
        )
        wall = time.monotonic() - start
    first, last = await span(dsn, "catalog", "SELECT min(sent_at), max(sent_at) FROM outbox")
    return Result("relay:catalog", count, (last - first).total_seconds(), wall, cpu)


async def fill_outbox(stack: TestStack, dsn: str, count: int) -> None:
    """``count`` CaptureProgressed events committed to the outbox, as handlers would."""
    rows = []
    for _ in range(count):
        image_id = uuid4()
        envelope: Envelope[Event] = build_envelope(
            CaptureProgressed(image_id=image_id, account_id=uuid4(), percent=50),
            source="/ims/catalog",
            subject=str(image_id),
            tenant=str(uuid4()),
            sequence=2,
        )
        rows.append(
            (
                envelope.id,
                topic_name("CaptureProgressed", stack.topic_prefix),
                str(image_id),
                encode(envelope),
            )
        )
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "catalog"})
    try:
        await conn.copy_records_to_table(
            "outbox", records=rows, columns=["event_id", "topic", "message_key", "payload"]
        )
    finally:
        await conn.close()


async def pipeline(stack: TestStack, count: int, tmp: Path, per_account: int) -> Result:
    await produce(stack, count, capture_requested, per_account)
    catalog = started_service(stack, "catalog", tmp)
    capture = started_service(stack, "capture", tmp, IMS_CAPTURE_JOBS_PER_PROCESS="0")
    start = time.monotonic()
    meter = CpuMeter(stack, {"catalog": catalog, "capture": capture})
    with running(catalog), running(capture):
        consumer = app_id("capture", stack.topic_prefix)
        cpu = await wait_for_count(
            stack.dsns["capture"], "capture", inbox_count(consumer), count, meter
        )
        wall = time.monotonic() - start
    first, _ = await span(
        stack.dsns["catalog"], "catalog", inbox_span(app_id("catalog", stack.topic_prefix))
    )
    _, last = await span(stack.dsns["capture"], "capture", inbox_span(consumer))
    return Result("pipeline:catalog→capture", count, (last - first).total_seconds(), wall, cpu)


# -- main ----------------------------------------------------------------------------------


def measurements(only: list[str]) -> list[str]:
    every = [f"absorb:{s}" for s in INPUTS] + ["relay", "pipeline"]
    return [m for m in every if not only or m in only]


def machine() -> dict[str, object]:
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in load],
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--only", action="append", default=[], help="e.g. absorb:sharing")
    parser.add_argument(
        "--per-account",
        type=int,
        default=1,
        help="CaptureRequested per account (catalog): above 1, requests of one account "
        "contend for its quota lock across partitions",
    )
    parser.add_argument(
        "--instances",
        type=int,
        default=1,
        help="service processes in the consumer group for absorb (topics have 3 partitions)",
    )
    args = parser.parse_args()
    tmp = Path(mkdtemp(prefix="ims-bench-"))
    atexit.register(shutil.rmtree, tmp, True)
    results: list[Result] = []
    with ExitStack() as stack_exit:
        stack = open_test_stack(stack_exit, tmp, dict(os.environ))
        for name in measurements(args.only):
            with own_deployment(stack) as deployment:
                if name.startswith("absorb:"):
                    service = name.split(":", 1)[1]
                    work = absorb(
                        deployment, service, args.events, tmp, args.per_account, args.instances
                    )
                elif name == "relay":
                    work = relay(deployment, args.events, tmp)
                else:
                    work = pipeline(deployment, args.events, tmp, args.per_account)
                result = asyncio.run(work)
            print(result.line(), flush=True)
            results.append(result)
    summary = {
        "machine": machine(),
        "per_account": args.per_account,
        "results": [
            {
                "name": r.name,
                "events": r.events,
                "per_second": round(r.rate),
                "seconds": r.seconds,
                "cpu_ms_per_event": r.cpu_ms,
            }
            for r in results
        ],
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
