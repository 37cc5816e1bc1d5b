"""The image store and block storage on a real file system, with the real qemu-img: qcow2
staging, what a capture may read, cancelling, removing what a capture left behind."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import time
from pathlib import Path
from uuid import uuid4

import pytest

from schemas.events import HostDisk
from services.capture.adapters.disks import BlockStorage, DiskUnreadable
from services.capture.adapters.image_store import DirectoryImageStore
from services.capture.adapters.tools import tool_path

MIB = 1024 * 1024


def qemu_img(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool_path("qemu-img"), *args], capture_output=True, text=True, timeout=60
    )


def sparse_disk(path: Path, size: int, data_at: tuple[int, ...]) -> Path:
    """A raw disk of ``size`` bytes, holes but for 1 MiB of random data at each offset."""
    with path.open("wb") as file:
        file.truncate(size)
        for offset in data_at:
            file.seek(offset)
            file.write(os.urandom(MIB))
    return path


def host_disk(path: Path, disk_format: str = "raw") -> HostDisk:
    return HostDisk(disk_id=uuid4(), path=str(path), format=disk_format, size_gb=1)


async def test_a_raw_disk_is_staged_as_an_identical_qcow2_with_its_sizes_and_checksum(
    tmp_path: Path,
) -> None:
    disks = tmp_path / "disks"
    disks.mkdir()
    disk = sparse_disk(disks / "d.raw", 64 * MIB, (0, 20 * MIB, 63 * MIB))
    source = await BlockStorage(disks).open(host_disk(disk))
    store = DirectoryImageStore(tmp_path / "images")
    seen: list[int] = []

    async def progress(percent: int) -> None:
        seen.append(percent)

    staged = await store.stage(uuid4(), source, progress)

    assert staged.disk_format == "qcow2"
    assert staged.virtual_size_bytes == 64 * MIB
    assert staged.size_bytes == staged.staged.stat().st_size < 8 * MIB  # the holes stay holes
    assert staged.checksum_sha256 == hashlib.sha256(staged.staged.read_bytes()).hexdigest()
    assert (
        qemu_img("compare", "-f", "raw", "-F", "qcow2", str(disk), str(staged.staged)).returncode
        == 0
    )
    assert staged.staged.name.startswith(".")
    assert staged.staged.name.endswith(".partial")
    assert not staged.target.exists()
    assert seen == sorted(seen)
    assert seen[-1] == 100
    store.publish(staged)
    assert staged.target.exists()
    assert not staged.staged.exists()


async def test_a_qcow2_disk_is_read_through_its_backing_file_inside_block_storage(
    tmp_path: Path,
) -> None:
    disks = tmp_path / "disks"
    disks.mkdir()
    base = sparse_disk(disks / "base.raw", 16 * MIB, (MIB,))
    top = disks / "top.qcow2"
    assert qemu_img("create", "-f", "qcow2", "-b", str(base), "-F", "raw", str(top)).returncode == 0

    source = await BlockStorage(disks).open(host_disk(top, "qcow2"))
    staged = await DirectoryImageStore(tmp_path / "images").stage(uuid4(), source, _ignore)

    assert source.virtual_size == 16 * MIB
    assert (
        qemu_img("compare", "-f", "raw", "-F", "qcow2", str(base), str(staged.staged)).returncode
        == 0
    )
    assert qemu_img("info", str(staged.staged)).stdout.count("backing file") == 0  # flattened


async def test_block_storage_refuses_what_a_capture_may_not_read(tmp_path: Path) -> None:
    disks, elsewhere = tmp_path / "disks", tmp_path / "elsewhere"
    disks.mkdir()
    elsewhere.mkdir()
    secret = sparse_disk(elsewhere / "other-tenant.raw", MIB, (0,))
    sneaky = disks / "sneaky.qcow2"
    assert (
        qemu_img("create", "-f", "qcow2", "-b", str(secret), "-F", "raw", str(sneaky)).returncode
        == 0
    )
    storage = BlockStorage(disks)

    for path, disk_format in [
        (secret, "raw"),  # outside block storage
        (disks, "raw"),  # not a regular file
        (disks / "missing.raw", "raw"),
        (sneaky, "qcow2"),  # its backing file is outside
        (sparse_disk(disks / "raw-said-qcow2", MIB, (0,)), "qcow2"),  # not what ECS says
    ]:
        with pytest.raises(DiskUnreadable):
            await storage.open(host_disk(path, disk_format))


async def test_the_read_rate_slows_the_conversion_down(tmp_path: Path) -> None:
    disks = tmp_path / "disks"
    disks.mkdir()
    disk = sparse_disk(disks / "d.raw", 8 * MIB, tuple(range(0, 8 * MIB, MIB)))
    store = DirectoryImageStore(tmp_path / "images")
    timings = []
    for rate in (0, 8 * MIB):
        source = await BlockStorage(disks, read_bytes_per_second=rate).open(host_disk(disk))
        started = time.monotonic()
        await store.stage(uuid4(), source, _ignore)
        timings.append(time.monotonic() - started)
    unlimited, paced = timings
    assert paced >= 0.6  # 8 MiB at 8 MiB/s, less qemu-img's first burst
    assert unlimited < 0.6


async def test_a_cancelled_stage_kills_qemu_img_and_leaves_no_file(tmp_path: Path) -> None:
    disks = tmp_path / "disks"
    disks.mkdir()
    disk = sparse_disk(disks / "d.raw", 16 * MIB, tuple(range(0, 16 * MIB, MIB)))
    source = await BlockStorage(disks, read_bytes_per_second=MIB).open(host_disk(disk))
    store = DirectoryImageStore(tmp_path / "images")
    image = uuid4()
    staging = asyncio.create_task(store.stage(image, source, _ignore))
    await asyncio.sleep(1.5)

    staging.cancel()
    with pytest.raises(asyncio.CancelledError):
        await staging

    assert list((tmp_path / "images").iterdir()) == []
    assert not _qemu_img_running(str(disk))


def test_remove_staged_deletes_only_the_staged_files_of_that_image(tmp_path: Path) -> None:
    store = DirectoryImageStore(tmp_path / "images")
    (tmp_path / "images").mkdir()
    image, other = uuid4(), uuid4()
    mine = [store.scratch(image, "qcow2"), store.scratch(image, "inspect.raw")]
    kept = [
        store.path_of(image),  # published by an attempt that then crashed
        store.scratch(other, "qcow2"),  # another image's copy
        store.path_of(other),
    ]
    for path in mine + kept:
        path.write_bytes(b"x")

    assert store.remove_staged(image) == 2

    assert not any(path.exists() for path in mine)
    assert all(path.exists() for path in kept)
    assert store.remove_staged(image) == 0


async def _ignore(percent: int) -> None:
    pass


def _qemu_img_running(argument: str) -> bool:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(part.endswith(b"qemu-img") for part in cmdline) and argument.encode() in cmdline:
            return True
    return False
