"""Capture (K3) against a bare ``qemu-img convert`` of the same disk, and its peak memory.

    .venv/bin/python -m tests.bench.capture                   # 256 MiB and 4 GiB, 3 runs each
    .venv/bin/python -m tests.bench.capture --sizes 256 --runs 5
    .venv/bin/python -m tests.bench.capture --sizes 4096 --read-mib-per-second 200

On the local real stack (tests/infra.py: Kafka and PostgreSQL as for the tests), for each
disk size, one raw disk is written: half of it data (1 MiB blocks, every other MiB), half
holes, as a used system disk is. Then, per run, alternately:

- bare: ``qemu-img convert -f raw -O qcow2`` of the disk into the image store's directory,
  timed from start to exit (no fsync, no checksum: the tool alone); and, as a second
  reference, until its output is also fsynced and its SHA-256 read, as capture does;
- capture: a fresh capture service process; the bench announces the host (HostChanged) and
  plays the catalog (CaptureAccepted); the capture's own time is the ``seconds`` of its
  ``capture.finished`` log line (host check, guest preflight, conversion, fsync and SHA-256
  of the stored file, ``qemu-img info``). Peak memory is the high-water mark of resident
  memory (VmHWM) of the service process after the capture, and that of its qemu-img,
  polled while it runs.

Throughput is the disk's virtual size over the time; the ratio is bare time over capture
time. Prints one line per run and a JSON summary of medians at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from schemas.events import CaptureAccepted
from services.capture.adapters.tools import tool_path
from tests.bench.common import Bench, bench_stack, machine
from tests.harness import ServiceProcess, service_process
from tests.integration import facts

MIB = 1024 * 1024
POOL = os.urandom(64 * MIB)  # data blocks are slices of it: cheap to write, not zeros
JOB_TIMEOUT_S = 1800.0


@dataclass(frozen=True)
class Run:
    size_mib: int
    bare_s: float
    bare_fsync_sha256_s: float
    capture_s: float
    service_hwm_kib: int
    qemu_img_hwm_kib: int

    @property
    def ratio(self) -> float:
        return self.bare_s / self.capture_s


def write_disk(path: Path, size_mib: int) -> None:
    """Half data, half holes: a 1 MiB block of data at every even MiB."""
    with path.open("wb") as file:
        file.truncate(size_mib * MIB)
        for mib in range(0, size_mib, 2):
            start = (mib * 7919 % 63) * MIB
            file.seek(mib * MIB)
            file.write(POOL[start : start + MIB])
        os.fsync(file.fileno())


def bare_convert(disk: Path, store: Path, read_rate: int) -> tuple[float, float]:
    """Seconds of ``qemu-img convert`` alone, and of it then an fsync and a SHA-256 of its
    output (what a script would do to store the image durably with a checksum)."""
    target = store / f"bare-{uuid4()}.qcow2"
    argv = [tool_path("qemu-img"), "convert", "-f", "raw", "-O", "qcow2", "-o", "compat=1.1"]
    if read_rate:
        argv += ["-r", str(read_rate)]
    started = time.monotonic()
    subprocess.run([*argv, str(disk), str(target)], check=True, timeout=JOB_TIMEOUT_S)
    converted = time.monotonic() - started
    with target.open("rb") as file:
        os.fsync(file.fileno())
        hashlib.file_digest(file, "sha256")
    durable = time.monotonic() - started
    target.unlink()
    return converted, durable


def hwm_kib(pid: int) -> int:
    """VmHWM of a live process, in KiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == pid and cmdline.split(b"\0")[0].endswith(b"qemu-img"):
            found.append(int(entry.name))
    return found


@contextmanager
def capture_process(bench: Bench, read_mib: float) -> Iterator[ServiceProcess]:
    process = service_process(bench.stack, "capture", issuer=bench.issuer)
    process.env["IMS_CAPTURE_READ_MIB_PER_SECOND"] = str(read_mib)
    process.env["IMS_CAPTURE_JOBS_PER_PROCESS"] = "1"
    process.env["IMS_HOST_FACTS_GRACE_SECONDS"] = "30"
    try:
        process.start().wait_healthy()
        yield process
    finally:
        process.stop()


def finished_seconds(process: ServiceProcess, image_id: UUID) -> float | None:
    for line in process.log_path.read_text(errors="replace").splitlines():
        if '"capture.finished"' in line and str(image_id) in line:
            return float(json.loads(line)["seconds"])
        if '"capture.failed"' in line and str(image_id) in line:
            raise RuntimeError(f"capture {image_id} failed: {line}")
    return None


async def capture_once(bench: Bench, disk: Path, read_mib: float) -> tuple[float, int, int]:
    """One capture by a fresh capture process: (its seconds, service VmHWM, qemu-img's)."""
    account, host_id, image_id = uuid4(), uuid4(), uuid4()
    with capture_process(bench, read_mib) as process:
        async with bench.bus() as bus:
            host = facts.host(account, host_id, disk)
            await bus.send(host, subject=host_id, tenant=account, source="/ecs")
            accepted = CaptureAccepted(
                image_id=image_id, account_id=account, host_id=host_id, name="bench",
                requested_at=datetime.now(UTC),
            )  # fmt: skip
            await bus.send(accepted, subject=image_id, tenant=account, source="/ims/catalog")
        tool_hwm, deadline = 0, time.monotonic() + JOB_TIMEOUT_S
        while (seconds := finished_seconds(process, image_id)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"capture {image_id} did not finish")
            for child in children(process.pid):
                tool_hwm = max(tool_hwm, hwm_kib(child))
            await asyncio.sleep(0.05)
        service_hwm = hwm_kib(process.pid)
    stored = bench.stack.tmp_dir / "images" / f"{image_id}.qcow2"
    stored.unlink(missing_ok=True)
    return seconds, service_hwm, tool_hwm


async def measure(bench: Bench, size_mib: int, runs: int, read_mib: float) -> list[Run]:
    store = bench.stack.tmp_dir / "images"
    store.mkdir(parents=True, exist_ok=True)
    disks = bench.stack.tmp_dir / "disks"  # below block storage (its parent)
    disks.mkdir(exist_ok=True)
    disk = disks / f"disk-{size_mib}.raw"
    try:
        write_disk(disk, size_mib)
        results = []
        for i in range(runs):
            bare, durable = bare_convert(disk, store, int(read_mib * MIB))
            seconds, service_hwm, tool_hwm = await capture_once(bench, disk, read_mib)
            run = Run(size_mib, bare, durable, seconds, service_hwm, tool_hwm)
            print(
                f"{size_mib} MiB run {i + 1}: bare {bare:.2f} s (+ fsync + sha256 "
                f"{durable:.2f} s), capture {seconds:.2f} s "
                f"(ratio {run.ratio:.2f}); peak RSS service {service_hwm // 1024} MiB, "
                f"qemu-img {tool_hwm // 1024} MiB",
                flush=True,
            )
            results.append(run)
        return results
    finally:
        disk.unlink(missing_ok=True)


def medians(runs: list[Run]) -> dict[str, Any]:
    size = runs[0].size_mib

    def median(values: list[float]) -> float:
        return round(statistics.median(values), 3)

    bare = median([r.bare_s for r in runs])
    captured = median([r.capture_s for r in runs])
    return {
        "size_mib": size,
        "runs": len(runs),
        "bare_s": bare,
        "bare_fsync_sha256_s": median([r.bare_fsync_sha256_s for r in runs]),
        "capture_s": captured,
        "bare_mib_per_s": round(size / bare, 1),
        "capture_mib_per_s": round(size / captured, 1),
        "ratio": median([r.ratio for r in runs]),
        "ratio_to_bare_fsync_sha256": median([r.bare_fsync_sha256_s / r.capture_s for r in runs]),
        "service_hwm_mib": median([r.service_hwm_kib / 1024 for r in runs]),
        "qemu_img_hwm_mib": median([r.qemu_img_hwm_kib / 1024 for r in runs]),
        "all": [asdict(r) for r in runs],
    }


async def main(sizes: list[int], runs: int, read_mib: float) -> dict[str, Any]:
    with bench_stack([]) as bench:
        migrator = service_process(bench.stack, "capture", issuer=bench.issuer)
        migrator.migrate()
        results = [medians(await measure(bench, size, runs, read_mib)) for size in sizes]
    summary: dict[str, Any] = {"machine": machine(), "read_mib_per_s": read_mib, "results": results}
    if len(results) >= 2:
        small, large = results[0], results[-1]
        summary["service_hwm_growth"] = round(
            large["service_hwm_mib"] / small["service_hwm_mib"] - 1, 3
        )
        summary["total_hwm_growth"] = round(
            (large["service_hwm_mib"] + large["qemu_img_hwm_mib"])
            / (small["service_hwm_mib"] + small["qemu_img_hwm_mib"])
            - 1,
            3,
        )
    return summary


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="256,4096", help="disk sizes in MiB, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--read-mib-per-second",
        type=float,
        default=0,
        help="read rate of both (qemu-img -r, IMS_CAPTURE_READ_MIB_PER_SECOND); 0: unlimited",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    summary = asyncio.run(main(sizes, args.runs, args.read_mib_per_second))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    cli()
