"""The image store: where captured images are written, atomically and streaming.

A capture is copied in fixed-size chunks (memory stays flat for any disk size) into a
hidden temporary file in the store, fsynced, then renamed into place: a reader never sees a
half-written image. The checksum and sizes are computed on the way.
(The walking skeleton copies the disk in its own format; conversion to qcow2 is K3.)
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from uuid import UUID, uuid4

from schemas.events import HostDisk

CHUNK_BYTES = 4 * 1024 * 1024
# Called after every chunk with (bytes copied, total bytes); it may raise to abort the copy.
ProgressCallback = Callable[[int, int], Awaitable[None]]


class DiskUnreadable(Exception):
    """The host's system disk file cannot be read."""


@dataclass(frozen=True)
class StoredImage:
    location: str
    disk_format: str
    size_bytes: int
    virtual_size_bytes: int
    checksum_sha256: str


class ImageStore:
    def __init__(self, root: Path) -> None:
        self._root = root

    def path_of(self, image_id: UUID, disk_format: str) -> Path:
        return self._root / f"{image_id}.{disk_format}"

    async def capture(
        self, image_id: UUID, disk: HostDisk, on_progress: ProgressCallback
    ) -> StoredImage:
        """Copy ``disk`` into the store as ``image_id``, reporting progress per chunk."""
        source = Path(disk.path)
        target = self.path_of(image_id, disk.format)
        # Each attempt writes its own file: two workers never write into one.
        partial = target.with_name(f".{target.name}.{uuid4().hex}.partial")
        await asyncio.to_thread(self._root.mkdir, parents=True, exist_ok=True)
        try:
            src = await asyncio.to_thread(source.open, "rb")
        except OSError as exc:
            raise DiskUnreadable(f"cannot read system disk {source}: {exc.strerror}") from exc
        try:
            total = os.fstat(src.fileno()).st_size
            digest = hashlib.sha256()
            with partial.open("wb") as dst:
                await _copy(src, dst, digest, total, on_progress)
                await asyncio.to_thread(os.fsync, dst.fileno())
            await asyncio.to_thread(os.replace, partial, target)
        except OSError as exc:
            raise DiskUnreadable(f"copy of {source} failed: {exc}") from exc
        finally:
            src.close()
            partial.unlink(missing_ok=True)
        return StoredImage(
            location=str(target),
            disk_format=disk.format,
            size_bytes=total,
            virtual_size_bytes=total if disk.format == "raw" else disk.size_gb * 1024**3,
            checksum_sha256=digest.hexdigest(),
        )

    def remove(self, image_id: UUID) -> None:
        """Delete whatever is stored for ``image_id`` (a failed capture keeps nothing)."""
        for path in self._root.glob(f"{image_id}.*"):
            path.unlink(missing_ok=True)
        for path in self._root.glob(f".{image_id}.*.partial"):
            path.unlink(missing_ok=True)


async def _copy(
    src: BinaryIO,
    dst: BinaryIO,
    digest: hashlib._Hash,
    total: int,
    on_progress: ProgressCallback,
) -> None:
    copied = 0
    while chunk := await asyncio.to_thread(src.read, CHUNK_BYTES):
        digest.update(chunk)
        await asyncio.to_thread(dst.write, chunk)
        copied += len(chunk)
        await on_progress(copied, total)
