"""Capture jobs through real Kafka, PostgreSQL and service processes: the host changes
during the copy (K2), two processes share the queue within their bounds, a second worker
takes over a frozen worker's lease, a worker is killed mid-copy. Each test runs its own
processes on its own deployment.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import asyncpg
import httpx
from aiokafka import ConsumerRecord

from ims_testkit.tokens import Issuer
from services.common.failpoints import CRASH_EXIT_CODE
from tests.harness import Bus, ServiceProcess, body, eventually, token_for
from tests.infra import TestStack
from tests.integration import facts
from tests.integration.conftest import Spawn
from tests.processes import conversions, local_tcp_ports
from tests.stored_images import identical, sha256_of

MIB = 1024 * 1024
# Bigger than one copy chunk (4 MiB), so a capture can be caught half-way.
DISK_BYTES = 12 * MIB


async def capture_job(stack: TestStack, image_id: UUID) -> asyncpg.Record:
    conn = await asyncpg.connect(stack.dsns["capture"], server_settings={"search_path": "capture"})
    try:
        row = await conn.fetchrow("SELECT * FROM capture_jobs WHERE image_id = $1", image_id)
    finally:
        await conn.close()
    assert row is not None
    return row


async def wait_status(
    catalog: ServiceProcess, issuer: Issuer, account: UUID, image_id: UUID, status: str
) -> dict[str, Any]:
    """The image as the catalog's API shows its owner, once it has ``status``."""
    headers = {"Authorization": f"Bearer {token_for(issuer, account)}"}

    def probe() -> dict[str, Any] | None:
        response = httpx.get(catalog.url(f"/v1/images/{image_id}"), headers=headers, timeout=5)
        if response.status_code == 200 and response.json()["status"] == status:
            return dict(response.json())
        return None

    found: dict[str, Any] = await eventually(probe, timeout=45)
    return found


def image_store(capture: ServiceProcess) -> Path:
    return Path(capture.env["IMS_IMAGE_STORE"])


def staged_files(capture: ServiceProcess, image_id: UUID) -> list[Path]:
    return list(image_store(capture).glob(f".{image_id}.*.partial"))


def published_files(capture: ServiceProcess, image_id: UUID) -> list[Path]:
    return list(image_store(capture).glob(f"{image_id}.*"))


def event_ids(records: list[ConsumerRecord[bytes, bytes]]) -> set[str]:
    """Distinct CloudEvents ids: the relay is at-least-once, so one event may be sent twice."""
    return {body(r)["id"] for r in records}


def logged(process: ServiceProcess, event: str, image_id: UUID) -> bool:
    return any(
        f'"{event}"' in line and str(image_id) in line
        for line in process.log_path.read_text(errors="replace").splitlines()
    )


def second_instance(process: ServiceProcess) -> ServiceProcess:
    """Gives a second process of a service its own log and faust data dir."""
    home = process.log_path.parent.with_name(process.log_path.parent.name + "-2")
    home.mkdir(parents=True, exist_ok=True)
    process.log_path = home / "service.log"
    process.env["IMS_DATA_DIR"] = str(home / "data")
    return process


@asynccontextmanager
async def frozen(process: ServiceProcess, stack: TestStack) -> AsyncIterator[None]:
    """The process stopped with SIGSTOP for the block, and always thawed after it, also when
    the test fails inside (a stopped process would ignore the SIGTERM of the teardown).

    Stopped between statements: a session frozen idle in a transaction is ended by the
    database (``IMS_DB_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS``), freeing its locks, but one
    frozen mid-statement is not: asyncpg prepares with Parse/Describe/Flush, and until the
    Execute/Sync that follows, PostgreSQL 15 counts the session ``active`` and applies
    neither that timeout nor ``statement_timeout`` (docs/reliability.md). Caught there,
    it is thawed for a moment and stopped again."""
    assert process.proc is not None
    for _ in range(100):
        process.proc.send_signal(signal.SIGSTOP)
        if not await sessions_mid_statement(stack, process.proc.pid):
            break
        process.proc.send_signal(signal.SIGCONT)
        await asyncio.sleep(0.02)
    else:
        raise AssertionError(f"{process.name} never stopped between statements")
    try:
        yield
    finally:
        if process.proc.poll() is None:
            process.proc.send_signal(signal.SIGCONT)


async def sessions_mid_statement(stack: TestStack, pid: int) -> int:
    """How many of process ``pid``'s database sessions are inside a statement."""
    ports = local_tcp_ports(pid, remote_port=urlsplit(stack.admin_dsn).port or 5432)
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        states = await conn.fetch(
            "SELECT state FROM pg_stat_activity WHERE client_port = ANY($1::int[])",
            sorted(ports),
        )
    finally:
        await conn.close()
    assert states, f"no database session of process {pid} found"
    return sum(row["state"] not in ("idle", "idle in transaction") for row in states)


async def test_a_host_changed_during_the_copy_fails_the_capture_and_leaves_no_file(
    deployment: TestStack, spawn: Spawn, issuer: Issuer, tmp_path: Path
) -> None:
    catalog, capture = spawn(deployment, "catalog"), spawn(deployment, "capture")
    capture.env["IMS_CAPTURE_READ_MIB_PER_SECOND"] = "1"  # about 24 s for the whole disk
    account, host_id, image_id = uuid4(), uuid4(), uuid4()
    disk = facts.make_disk(tmp_path, 2 * DISK_BYTES)
    async with Bus(deployment) as bus:
        await bus.send(facts.host(account, host_id, disk), subject=host_id, tenant=account)
        await bus.send(facts.capture(account, host_id, image_id), subject=image_id, tenant=account)
        catalog.start()
        capture.start()
        catalog.wait_healthy()
        capture.wait_healthy()

        await bus.read("CaptureProgressed", lambda rs: len(rs) >= 1, key=str(image_id))
        assert conversions([image_id]) == {capture.pid: 1}
        started = facts.host(account, host_id, disk, state="running")
        sent_at = time.monotonic()
        await bus.send(started, subject=host_id, tenant=account, sequence=2, source="/ecs")
        await eventually(lambda: not conversions([image_id]), timeout=30, interval=0.1)
        stopped_after = time.monotonic() - sent_at

        failed = await bus.read("CaptureFailed", lambda rs: len(rs) >= 1, key=str(image_id))
        image = await wait_status(catalog, issuer, account, image_id, "failed")
        ready = await bus.read("ImageReady", lambda rs: True, key=str(image_id))

    # The fact travels through Kafka, then the watcher sees it within a second; the copy
    # itself had about 20 s to go. The bound is loose: the machine is shared and noisy.
    assert stopped_after < 8, f"the copy ran on {stopped_after:.1f} s after the host started"
    assert [body(r)["data"]["code"] for r in failed] == ["host_changed"]
    assert image["failure"]["code"] == "host_changed"
    assert "未保留任何镜像文件" in image["failure"]["reason"]
    assert ready == []
    assert staged_files(capture, image_id) == []
    assert published_files(capture, image_id) == []
    job = await capture_job(deployment, image_id)
    assert (job["status"], job["failure_code"]) == ("failed", "host_changed")


async def test_two_processes_share_the_queue_each_running_its_bounded_number(
    deployment: TestStack, spawn: Spawn, issuer: Issuer, tmp_path: Path
) -> None:
    catalog = spawn(deployment, "catalog")
    wide, narrow = spawn(deployment, "capture"), second_instance(spawn(deployment, "capture"))
    wide.env["IMS_CAPTURE_JOBS_PER_PROCESS"] = "2"
    narrow.env["IMS_CAPTURE_JOBS_PER_PROCESS"] = "1"
    for capture in (wide, narrow):
        capture.env["IMS_CAPTURE_READ_MIB_PER_SECOND"] = "2"  # a few seconds a capture
    account = uuid4()
    captures = [(uuid4(), uuid4(), facts.make_disk(tmp_path, 6 * MIB)) for _ in range(6)]
    image_ids = [image_id for _, image_id, _ in captures]
    async with Bus(deployment) as bus:
        for host_id, image_id, disk in captures:
            await bus.send(facts.host(account, host_id, disk), subject=host_id, tenant=account)
            capture_request = facts.capture(account, host_id, image_id)
            await bus.send(capture_request, subject=image_id, tenant=account)
        for process in (catalog, wide, narrow):
            process.start()
        for process in (catalog, wide, narrow):
            process.wait_healthy()

        most: Counter[int] = Counter()

        async def all_done() -> bool:
            for pid, running in conversions(image_ids).items():
                most[pid] = max(most[pid], running)
            jobs = [await capture_job(deployment, image_id) for image_id in image_ids]
            return all(job["status"] == "succeeded" for job in jobs)

        await eventually(all_done, timeout=120, interval=0.2)
        for image_id in image_ids:
            await wait_status(catalog, issuer, account, image_id, "normal")

    assert most[wide.pid] == 2  # its bound, reached: the queue was longer than it
    assert most[narrow.pid] == 1
    assert set(most) == {wide.pid, narrow.pid}
    finished_by = {
        image_id: [p for p in (wide, narrow) if logged(p, "capture.finished", image_id)]
        for image_id in image_ids
    }
    assert all(len(by) == 1 for by in finished_by.values())  # each job ran once
    assert {p.pid for by in finished_by.values() for p in by} == {wide.pid, narrow.pid}


async def test_a_lease_taken_over_by_a_second_worker_is_finished_once(
    deployment: TestStack, spawn: Spawn, issuer: Issuer, tmp_path: Path
) -> None:
    catalog = spawn(deployment, "catalog")
    first, second = spawn(deployment, "capture"), second_instance(spawn(deployment, "capture"))
    for capture in (first, second):
        capture.env["IMS_JOB_LEASE_SECONDS"] = "6"
        # A frozen instance's open transaction (an outbox batch, a progress report) is ended
        # by the database after this long, so it cannot block the other instance.
        capture.env["IMS_KAFKA_REQUEST_TIMEOUT_SECONDS"] = "3"
        capture.env["IMS_DB_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS"] = "5"
    # Slow (16 s a chunk), so the first is still copying when it is frozen after its first
    # chunk, and not in a transaction; the second copies at full speed.
    first.env["IMS_CAPTURE_READ_MIB_PER_SECOND"] = "0.25"
    account, host_id, image_id = uuid4(), uuid4(), uuid4()
    disk = facts.make_disk(tmp_path, DISK_BYTES)
    async with Bus(deployment) as bus:
        await bus.send(facts.host(account, host_id, disk), subject=host_id, tenant=account)
        await bus.send(facts.capture(account, host_id, image_id), subject=image_id, tenant=account)
        catalog.start()
        first.start()
        catalog.wait_healthy()
        first.wait_healthy()
        await bus.read("CaptureProgressed", lambda rs: len(rs) >= 1, key=str(image_id))

        async with frozen(first, deployment):
            job = await capture_job(deployment, image_id)
            assert (job["status"], job["attempts"]) == ("running", 1)
            assert len(staged_files(first, image_id)) == 1  # frozen mid-copy

            second.start().wait_healthy()  # takes the job once the first one's lease ran out

            async def finished() -> bool:
                job = await capture_job(deployment, image_id)
                return bool(job["status"] == "succeeded")

            await eventually(finished, timeout=30)
            # Published while the first is still frozen: had it been frozen inside an
            # outbox batch, the database has ended that transaction and freed the relay lock.
            image = await wait_status(catalog, issuer, account, image_id, "normal")
            ready = await bus.read("ImageReady", lambda rs: len(rs) >= 1, key=str(image_id))

        # Thawed: the first finds its lease lost, drops its copy and announces nothing.
        await eventually(lambda: logged(first, "capture.lease_lost", image_id), timeout=30)
        ready = await bus.read("ImageReady", lambda rs: len(rs) >= 1, key=str(image_id))
        failed = await bus.read("CaptureFailed", lambda rs: True, key=str(image_id))

    assert len(event_ids(ready)) == 1
    assert failed == []
    [stored] = published_files(first, image_id)
    assert image["checksum_sha256"] == sha256_of(stored)
    assert identical(disk, stored)
    assert staged_files(first, image_id) == []
    assert logged(second, "capture.finished", image_id)
    assert not logged(first, "capture.finished", image_id)
    job = await capture_job(deployment, image_id)
    assert (job["status"], job["attempts"]) == ("succeeded", 2)


async def test_a_capture_killed_mid_copy_is_finished_by_its_successor_without_orphans(
    deployment: TestStack, spawn: Spawn, issuer: Issuer, tmp_path: Path
) -> None:
    catalog, capture = spawn(deployment, "catalog"), spawn(deployment, "capture")
    capture.env["IMS_JOB_LEASE_SECONDS"] = "6"  # the successor may take the job soon
    account, host_id, image_id = uuid4(), uuid4(), uuid4()
    disk = facts.make_disk(tmp_path, DISK_BYTES)
    async with Bus(deployment) as bus:
        await bus.send(facts.host(account, host_id, disk), subject=host_id, tenant=account)
        await bus.send(facts.capture(account, host_id, image_id), subject=image_id, tenant=account)
        catalog.start().wait_healthy()

        capture.start(failpoints="capture.mid_copy")
        assert capture.wait_exit(timeout=45) == CRASH_EXIT_CODE
        assert len(staged_files(capture, image_id)) == 1  # what the crash left behind

        capture.start().wait_healthy()
        image = await wait_status(catalog, issuer, account, image_id, "normal")
        ready = await bus.read("ImageReady", lambda rs: len(rs) >= 1, key=str(image_id))

    assert len(event_ids(ready)) == 1
    [stored] = published_files(capture, image_id)
    assert image["checksum_sha256"] == sha256_of(stored)
    assert image["size_bytes"] == stored.stat().st_size
    assert identical(disk, stored)
    assert staged_files(capture, image_id) == []
    assert logged(capture, "capture.orphans_removed", image_id)
    job = await capture_job(deployment, image_id)
    assert (job["status"], job["attempts"]) == ("succeeded", 2)
