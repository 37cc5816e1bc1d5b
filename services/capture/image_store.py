"""The image store: where captured images are written, atomically and streaming.

A capture is copied in fixed-size chunks (memory stays flat for any disk size), no faster
than the configured read rate, into a hidden file of its own in the store and fsynced: the
image is *staged*. Only when the capture's outcome is being committed is the staged file
renamed into place (*published*), so a reader never sees a half-written image, and a worker
that lost its job never overwrites the image of the worker that took it over.
(The walking skeleton copies the disk in its own format; conversion to qcow2 is K3.)
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from uuid import UUID, uuid4

from schemas.events import DiskFormat, HostDisk
from services.capture.pacing import ReadPacer
from services.common.failpoints import failpoint

CHUNK_BYTES = 4 * 1024 * 1024
# Called after every chunk with (bytes copied, total bytes); it may raise to abort the copy.
ProgressCallback = Callable[[int, int], Awaitable[None]]


class DiskUnreadable(Exception):
    """The host's system disk cannot be read (the message is for operators, not tenants)."""


@dataclass(frozen=True)
class StagedImage:
    """A complete, fsynced copy, not yet visible under its image's name."""

    staged: Path
    target: Path
    disk_format: DiskFormat
    size_bytes: int
    virtual_size_bytes: int
    checksum_sha256: str

    @property
    def location(self) -> str:
        return str(self.target)


class ImageStore:
    def __init__(
        self, root: Path, block_storage: Path, *, read_bytes_per_second: float = 0
    ) -> None:
        self._root = root
        self._block_storage = block_storage.resolve()
        self._read_rate = read_bytes_per_second  # 0: unlimited

    def path_of(self, image_id: UUID, disk_format: str) -> Path:
        return self._root / f"{image_id}.{disk_format}"

    async def stage(
        self, image_id: UUID, disk: HostDisk, on_progress: ProgressCallback
    ) -> StagedImage:
        """Copy ``disk`` into a staged file, reporting progress after every chunk, reading
        no faster than the store's read rate.

        Raises DiskUnreadable when the source is not a readable disk file in block storage;
        an OSError of the store itself (full, read-only) propagates as a transient failure.
        """
        source = await asyncio.to_thread(self._source_file, disk.path)
        target = self.path_of(image_id, disk.format)
        staged = target.with_name(f".{target.name}.{uuid4().hex}.partial")
        await asyncio.to_thread(self._root.mkdir, parents=True, exist_ok=True)
        try:
            src = await asyncio.to_thread(source.open, "rb")
        except OSError as exc:
            raise DiskUnreadable(f"cannot open {source}: {exc.strerror}") from exc
        try:
            total = os.fstat(src.fileno()).st_size
            digest = hashlib.sha256()
            with staged.open("wb") as dst:
                pacer = ReadPacer(self._read_rate)
                await _copy(src, dst, digest, total, on_progress, pacer)
                await asyncio.to_thread(os.fsync, dst.fileno())
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        finally:
            src.close()
        return StagedImage(
            staged=staged,
            target=target,
            disk_format=disk.format,
            size_bytes=total,
            virtual_size_bytes=total if disk.format == "raw" else disk.size_gb * 1024**3,
            checksum_sha256=digest.hexdigest(),
        )

    def publish(self, image: StagedImage) -> None:
        """Make the staged copy the image (an atomic rename)."""
        os.replace(image.staged, image.target)

    def discard(self, image: StagedImage) -> None:
        image.staged.unlink(missing_ok=True)

    def remove(self, image_id: UUID) -> None:
        """Delete whatever is stored for ``image_id`` (a failed capture keeps nothing)."""
        for path in self._root.glob(f"{image_id}.*"):
            path.unlink(missing_ok=True)
        self.remove_staged(image_id)

    def remove_staged(self, image_id: UUID) -> int:
        """Delete the staged (unpublished) copies of ``image_id``; how many there were.
        The caller must know that no live capture is still writing one (see the worker)."""
        removed = 0
        for path in self._root.glob(f".{image_id}.*.partial"):
            path.unlink(missing_ok=True)
            removed += 1
        return removed

    def _source_file(self, path: str) -> Path:
        """The disk file, which must be a regular file inside block storage: an event can
        name any path, and capture must never read e.g. another tenant's image."""
        source = Path(path).resolve()
        if not source.is_relative_to(self._block_storage):
            raise DiskUnreadable(f"{source} is outside block storage {self._block_storage}")
        try:
            mode = source.stat().st_mode
        except OSError as exc:
            raise DiskUnreadable(f"cannot stat {source}: {exc.strerror}") from exc
        if not stat.S_ISREG(mode):
            raise DiskUnreadable(f"{source} is not a regular file")
        return source


async def _copy(
    src: BinaryIO,
    dst: BinaryIO,
    digest: hashlib._Hash,
    total: int,
    on_progress: ProgressCallback,
    pacer: ReadPacer,
) -> None:
    copied = 0
    while True:
        try:
            chunk = await asyncio.to_thread(src.read, CHUNK_BYTES)
        except OSError as exc:
            raise DiskUnreadable(f"read failed after {copied} bytes: {exc.strerror}") from exc
        if not chunk:
            return
        digest.update(chunk)
        await asyncio.to_thread(dst.write, chunk)
        copied += len(chunk)
        if copied < total:
            failpoint("capture.mid_copy")  # killed with a staged file half written
        await on_progress(copied, total)
        await pacer.after_read(len(chunk))
