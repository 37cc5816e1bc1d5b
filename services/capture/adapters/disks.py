"""Hosts' disks in ECS's block storage, as capture may read them.

An event can name any path, and capture must never read, say, another tenant's image or a
file of its own host: a disk is read only if it is a regular file below block storage, in
the format ECS says it has, and (for qcow2) only if every backing file of its chain is one
too.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

from schemas.events import DiskFormat, HostDisk
from services.capture.adapters import qemu


class DiskUnreadable(Exception):
    """The host's system disk cannot be read (the message is for operators, not tenants)."""


@dataclass(frozen=True)
class SourceDisk:
    """A host's system disk that capture checked it may read."""

    path: Path
    format: DiskFormat
    virtual_size: int  # bytes, as the disk file says
    read_rate: int = 0  # the most a capture may read of it, bytes/s; 0: unlimited


class BlockStorage:
    def __init__(self, root: Path, *, read_bytes_per_second: float = 0) -> None:
        self._root = root.resolve()
        # Clouds cap how fast a capture reads, so that it does not starve the other hosts
        # on the same block storage (IMS_CAPTURE_READ_MIB_PER_SECOND).
        self._read_rate = int(read_bytes_per_second)

    async def open(self, disk: HostDisk) -> SourceDisk:
        """The disk, checked; raises DiskUnreadable when capture may not or cannot read it."""
        path = self._regular_file_inside(disk.path)
        try:
            chain = await qemu.info_chain(path, disk.format)
        except qemu.ConvertFailed as exc:
            raise DiskUnreadable(f"{path} is not a readable {disk.format} disk: {exc}") from exc
        for layer in chain:
            self._regular_file_inside(layer.filename)
            if layer.data_file is not None:
                raise DiskUnreadable(f"{layer.filename} keeps its data in another file")
        return SourceDisk(
            path=path,
            format=disk.format,
            virtual_size=chain[0].virtual_size,
            read_rate=self._read_rate,
        )

    def _regular_file_inside(self, name: str) -> Path:
        path = Path(name).resolve()
        if not path.is_relative_to(self._root):
            raise DiskUnreadable(f"{path} is outside block storage {self._root}")
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            raise DiskUnreadable(f"cannot stat {path}: {exc.strerror}") from exc
        if not stat.S_ISREG(mode):
            raise DiskUnreadable(f"{path} is not a regular file")
        return path
