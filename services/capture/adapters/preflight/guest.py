"""A guest's ext2/3/4 file system read without mounting it: e2fsprogs' ``debugfs``.

debugfs opens the file system read-only (``-c``: without its bitmaps, which reading files
does not need) at an offset into the raw disk (``disk?offset=N``), and runs one request
(``-R``). The guest's data is untrusted: every request is bounded in time and output, and
a file is read only if it is small.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from services.capture.adapters import tools

FILE_MAX_BYTES = 1024 * 1024
_SYMLINK_HOPS = 8
_SECONDS = 20.0
_FAST_LINK = re.compile(r'Fast link dest: "(.*)"')


class GuestUnreadable(Exception):
    """debugfs could not read the file system at all."""


@dataclass(frozen=True)
class Entry:
    name: str
    mode: int
    size: int

    @property
    def is_dir(self) -> bool:
        return self.mode & 0o170000 == 0o040000

    @property
    def is_file(self) -> bool:
        return self.mode & 0o170000 == 0o100000

    @property
    def is_symlink(self) -> bool:
        return self.mode & 0o170000 == 0o120000


class Guest:
    """The file system that starts ``offset`` bytes into the raw disk file ``disk``."""

    def __init__(self, disk: Path, offset: int) -> None:
        self._device = f"{disk}?offset={offset}"

    async def _debugfs(self, request: str) -> tools.ToolResult:
        result = await tools.run(
            "debugfs", ["-c", "-R", request, self._device], seconds=_SECONDS,
            output_max=FILE_MAX_BYTES + 4096,
        )  # fmt: skip
        if not result.ok or "Bad magic number" in result.stderr:
            raise GuestUnreadable(result.stderr or f"debugfs exited {result.returncode}")
        return result

    async def list(self, directory: str) -> dict[str, Entry] | None:
        """The entries of a directory (symlinks on the way followed), or None if the guest
        has no such directory."""
        if not _quotable(directory):
            return None
        result = await self._debugfs(f'ls -p "{directory}"')
        entries: dict[str, Entry] = {}
        # "/inode/mode/uid/gid/name/size/" per entry; a name cannot hold "/".
        for line in result.stdout.decode(errors="replace").splitlines():
            parts = line.split("/")
            if len(parts) != 8 or parts[5] in (".", ".."):
                continue
            try:
                entries[parts[5]] = Entry(parts[5], int(parts[2], 8), int(parts[6] or 0))
            except ValueError:
                continue
        if not entries and "not found" in result.stderr:
            return None
        return entries

    async def read(self, path: str) -> str | None:
        """A small regular file's text, symlinks followed inside the guest; None if the
        guest has no such file (or it is too large to be a configuration file)."""
        for _ in range(_SYMLINK_HOPS):
            parent, name = posixpath.split(posixpath.normpath(path))
            entry = (await self.list(parent) or {}).get(name)
            if entry is None:
                return None
            if entry.is_symlink:
                target = await self._link_target(path, entry)
                if target is None:
                    return None
                path = posixpath.join(parent, target)  # an absolute target replaces parent
                continue
            if not entry.is_file or entry.size > FILE_MAX_BYTES or not _quotable(path):
                return None
            result = await self._debugfs(f'cat "{path}"')
            return result.stdout.decode(errors="replace")
        return None  # a loop of links

    async def _link_target(self, path: str, entry: Entry) -> str | None:
        if not _quotable(path):
            return None
        stat = await self._debugfs(f'stat "{path}"')
        if (fast := _FAST_LINK.search(stat.stdout.decode(errors="replace"))) is not None:
            return fast.group(1)
        if entry.size > 4096:
            return None
        slow = await self._debugfs(f'cat "{path}"')  # a long target lives in a data block
        return slow.stdout.decode(errors="replace") or None


def _quotable(path: str) -> bool:
    """debugfs parses its request like a shell line: refuse what quoting cannot carry."""
    return '"' not in path and "\\" not in path and "\n" not in path
