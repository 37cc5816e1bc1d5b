"""The file systems on a raw disk: its partitions (util-linux's ``sfdisk --json``, MBR or
GPT) or the whole disk, each probed by ``blkid`` for its type, UUID and label."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.capture.adapters import tools

# MBR extended-partition containers hold logical partitions; they hold no file system.
_EXTENDED = {"5", "f", "85"}
_SECONDS = 20.0


@dataclass(frozen=True)
class Volume:
    """A file system (or swap area, or LVM member, ...) on the disk, where it starts."""

    offset: int
    size: int
    fs_type: str | None  # blkid's TYPE: ext4, xfs, swap, LVM2_member, ntfs, ...
    uuid: str | None = None
    label: str | None = None
    partuuid: str | None = None
    partlabel: str | None = None

    @property
    def is_ext(self) -> bool:
        return self.fs_type in ("ext2", "ext3", "ext4")


async def volumes(disk: Path) -> list[Volume]:
    """The disk's partitions, or the disk itself when it has no partition table."""
    listed = await tools.run("sfdisk", ["--json", str(disk)], seconds=_SECONDS)
    if not listed.ok:  # "does not contain a recognized partition table": a whole-disk fs
        size = await asyncio.to_thread(lambda: disk.stat().st_size)
        return [await _probe(disk, 0, size, None, None)]
    table: dict[str, Any] = json.loads(listed.stdout)["partitiontable"]
    sector = int(table.get("sectorsize", 512))
    found = []
    for part in table.get("partitions", []):
        if table["label"] == "dos" and str(part.get("type", "")).lower() in _EXTENDED:
            continue
        partuuid = _partuuid(table, part)
        found.append(
            await _probe(
                disk,
                int(part["start"]) * sector,
                int(part["size"]) * sector,
                partuuid,
                part.get("name"),
            )
        )
    return found


def _partuuid(table: dict[str, Any], part: dict[str, Any]) -> str | None:
    """What the guest's /etc/fstab calls PARTUUID: the GPT entry's GUID, or for MBR the
    disk signature and the partition number (``1a2b3c4d-01``)."""
    if table["label"] == "gpt":
        return str(part["uuid"]).lower() if part.get("uuid") else None
    number = re.search(r"(\d+)$", str(part.get("node", "")))
    signature = str(table.get("id", "")).lower().removeprefix("0x")
    if number is None or not signature:
        return None
    return f"{signature:0>8}-{int(number.group(1)):02x}"


async def _probe(
    disk: Path, offset: int, size: int, partuuid: str | None, partlabel: str | None
) -> Volume:
    probed = await tools.run(
        "blkid",
        ["-p", "-o", "export", "-O", str(offset), "-S", str(size), str(disk)],
        seconds=_SECONDS,
    )
    values = {}
    if probed.ok:  # 2: nothing recognised
        for line in probed.stdout.decode(errors="replace").splitlines():
            key, _, value = line.partition("=")
            values[key] = value
    uuid = values.get("UUID")
    return Volume(
        offset=offset,
        size=size,
        fs_type=values.get("TYPE"),
        uuid=uuid.lower() if uuid else None,
        label=values.get("LABEL"),
        partuuid=partuuid,
        partlabel=partlabel,
    )
