"""The image store: where captured images are written, as qcow2, atomically.

A capture converts the host's system disk (raw or qcow2) with ``qemu-img convert`` into a
hidden file of its own in the store, fsyncs it and computes its SHA-256 reading it in
chunks (memory stays flat for any disk size): the image is *staged*. Only when the
capture's outcome is being committed is the staged file renamed into place (*published*),
so a reader never sees a half-written image, and a worker that lost its job never
overwrites the image of the worker that took it over.

:class:`ImageStore` is what the worker needs of a store; :class:`DirectoryImageStore` keeps
images in a directory (a volume every capture instance mounts). An object store would
stage by converting into local scratch space and uploading under a temporary key, and
publish by copying to the final key.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from uuid import UUID, uuid4

from schemas.events import DiskFormat
from services.capture.adapters import qemu
from services.capture.adapters.disks import DiskUnreadable, SourceDisk
from services.common.failpoints import failpoint

HASH_CHUNK_BYTES = 4 * 1024 * 1024
STORED_FORMAT: DiskFormat = "qcow2"
# Called with the percent done (0-100) as the conversion goes; it may raise to stop it.
ProgressCallback = Callable[[int], Awaitable[None]]


@dataclass(frozen=True)
class StagedImage:
    """A complete, durable copy, not yet visible under its image's name."""

    staged: Path
    target: Path
    disk_format: DiskFormat
    size_bytes: int  # bytes stored (billed, C9)
    virtual_size_bytes: int  # the disk's size as a host made from the image sees it
    checksum_sha256: str

    @property
    def location(self) -> str:
        return str(self.target)


class ImageStore(Protocol):
    async def stage(
        self, image_id: UUID, source: SourceDisk, on_progress: ProgressCallback
    ) -> StagedImage:
        """Convert ``source`` into a staged qcow2 image; whatever ends it early (an error,
        a cancellation) leaves nothing staged."""
        ...

    def scratch(self, image_id: UUID, suffix: str) -> Path:
        """A path for a temporary file of this image's capture, removed with its staged
        files (remove_staged) if the capture dies before removing it."""
        ...

    def publish(self, image: StagedImage) -> None: ...

    def discard(self, image: StagedImage) -> None: ...

    def remove(self, image_id: UUID) -> None:
        """Delete whatever is stored for ``image_id`` (a failed capture keeps nothing)."""
        ...

    def remove_staged(self, image_id: UUID) -> int:
        """Delete the staged (unpublished) files of ``image_id``; how many there were. The
        caller must know that no live capture is still writing one (see the worker)."""
        ...


class DirectoryImageStore:
    """Images as ``<root>/<image_id>.qcow2``; staged and scratch files hidden beside them
    as ``.<image_id>.<...>.partial``, on the same file system so that a rename publishes."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def path_of(self, image_id: UUID) -> Path:
        return self._root / f"{image_id}.{STORED_FORMAT}"

    def scratch(self, image_id: UUID, suffix: str) -> Path:
        return self._root / f".{image_id}.{suffix}.{uuid4().hex}.partial"

    async def stage(
        self, image_id: UUID, source: SourceDisk, on_progress: ProgressCallback
    ) -> StagedImage:
        staged = self.scratch(image_id, STORED_FORMAT)
        await asyncio.to_thread(self._root.mkdir, parents=True, exist_ok=True)
        try:
            await _convert(source, staged, _whole_percents(on_progress))
            checksum, _ = await asyncio.gather(
                asyncio.to_thread(sha256_of, staged), asyncio.to_thread(_fsync, staged)
            )
            written = await qemu.info(staged, STORED_FORMAT)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        return StagedImage(
            staged=staged,
            target=self.path_of(image_id),
            disk_format=STORED_FORMAT,
            size_bytes=staged.stat().st_size,
            virtual_size_bytes=written.virtual_size,
            checksum_sha256=checksum,
        )

    def publish(self, image: StagedImage) -> None:
        """Make the staged copy the image (an atomic rename), durably."""
        os.replace(image.staged, image.target)
        _fsync_directory(image.target.parent)

    def discard(self, image: StagedImage) -> None:
        image.staged.unlink(missing_ok=True)

    def remove(self, image_id: UUID) -> None:
        for path in self._root.glob(f"{image_id}.*"):
            path.unlink(missing_ok=True)
        self.remove_staged(image_id)

    def remove_staged(self, image_id: UUID) -> int:
        removed = 0
        for path in self._root.glob(f".{image_id}.*.partial"):
            path.unlink(missing_ok=True)
            removed += 1
        return removed


def _whole_percents(on_progress: ProgressCallback) -> qemu.PercentCallback:
    """qemu-img's percents, passed on once per whole percent."""
    reported = -1

    async def percent(done: float) -> None:
        nonlocal reported
        if int(done) == reported:
            return
        reported = int(done)
        if 0 < done < 100:
            failpoint("capture.mid_copy")  # killed with a staged file half written
        await on_progress(reported)

    return percent


async def _convert(source: SourceDisk, staged: Path, on_percent: qemu.PercentCallback) -> None:
    """``source`` converted into ``staged``; a failure to write the store is an OSError
    (transient for capture), one to read the disk is DiskUnreadable."""
    conversion = qemu.Conversion(
        source=source.path,
        source_format=source.format,
        target=staged,
        rate_bytes_per_second=source.read_rate,
        stall_seconds=_stall_seconds(source.virtual_size, source.read_rate),
    )
    try:
        await qemu.convert(conversion, on_percent)
    except qemu.ConvertFailed as exc:
        if _store_failed(exc, staged):
            raise OSError(f"writing {staged} failed: {exc}") from exc
        raise DiskUnreadable(f"converting {source.path} failed: {exc}") from exc


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in fixed chunks (flat memory for any size)."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    # Beside the hashing, which reads the same pages: the two overlap (I/O and CPU).
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _store_failed(exc: qemu.ConvertFailed, staged: Path) -> bool:
    """Did qemu-img fail writing the store (full, read-only: transient for capture) rather
    than reading the disk (the capture fails)?"""
    text = str(exc)
    return str(staged) in text or "No space left" in text or "Read-only file system" in text


def _stall_seconds(virtual_size: int, read_rate: int) -> float:
    """How long qemu-img may go without a progress step (1 %) before it is deemed stuck:
    ten minutes, plus the time 1 % takes at the read rate."""
    step = virtual_size / 100 / read_rate if read_rate else 0.0
    return 600.0 + step
