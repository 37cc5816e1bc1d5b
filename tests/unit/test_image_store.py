"""The image store on a real file system: staging, removing what a capture left behind."""

from __future__ import annotations

import os
import time
from pathlib import Path
from uuid import uuid4

from schemas.events import HostDisk
from services.capture.image_store import ImageStore

MIB = 1024 * 1024


def test_remove_staged_deletes_only_the_staged_copies_of_that_image(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "images", tmp_path / "disks")
    (tmp_path / "images").mkdir()
    image, other = uuid4(), uuid4()
    mine = [tmp_path / "images" / f".{image}.raw.{uuid4().hex}.partial" for _ in range(2)]
    kept = [
        tmp_path / "images" / f"{image}.raw",  # published by an attempt that then crashed
        tmp_path / "images" / f".{other}.raw.{uuid4().hex}.partial",  # another image's copy
        tmp_path / "images" / f"{other}.raw",
    ]
    for path in mine + kept:
        path.write_bytes(b"x")

    assert store.remove_staged(image) == 2

    assert not any(path.exists() for path in mine)
    assert all(path.exists() for path in kept)
    assert store.remove_staged(image) == 0


async def test_stage_reads_no_faster_than_the_read_rate(tmp_path: Path) -> None:
    disks = tmp_path / "disks"
    disks.mkdir()
    disk = disks / "disk.raw"
    disk.write_bytes(os.urandom(MIB))
    host_disk = HostDisk(disk_id=uuid4(), path=str(disk), format="raw", size_gb=1)

    async def ignore(copied: int, total: int) -> None:
        pass

    timings = []
    for rate in (0, 4 * MIB):
        store = ImageStore(tmp_path / "images", disks, read_bytes_per_second=rate)
        started = time.monotonic()
        staged = await store.stage(uuid4(), host_disk, ignore)
        timings.append(time.monotonic() - started)
        assert staged.staged.read_bytes() == disk.read_bytes()
    unlimited, paced = timings
    assert paced >= 0.25  # 1 MiB at 4 MiB/s
    assert unlimited < 0.25
