"""qemu-img, the tool that reads and writes disk images (Debian's qemu-utils).

The format of a source disk is always stated (``-f``), never guessed: a raw disk whose guest
wrote a qcow2 header into its first sector would otherwise be read as a qcow2 image naming
any file of the host as its backing file.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.capture.adapters import tools

# qemu-img -p prints "    (12.34/100%)\r" at every step of at least 1 %.
_PROGRESS = re.compile(rb"\((\d+(?:\.\d+)?)/100%\)")
_INFO_SECONDS = 30.0

# Called with the percent done (0-100) as qemu-img reports it; it may raise to stop.
PercentCallback = Callable[[float], Awaitable[None]]


class ConvertFailed(RuntimeError):
    """qemu-img convert exited with an error (its message says why)."""


@dataclass(frozen=True)
class ImageInfo:
    """One file of an image, as ``qemu-img info`` reads it from the file itself."""

    filename: str
    format: str
    virtual_size: int
    actual_size: int
    backing_filename: str | None
    data_file: str | None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ImageInfo:
        specific = raw.get("format-specific", {}).get("data", {})
        return cls(
            filename=str(raw["filename"]),
            format=str(raw["format"]),
            virtual_size=int(raw["virtual-size"]),
            actual_size=int(raw.get("actual-size", 0)),
            backing_filename=raw.get("full-backing-filename") or raw.get("backing-filename"),
            data_file=specific.get("data-file"),
        )


async def info_chain(path: Path, disk_format: str) -> list[ImageInfo]:
    """The image and every backing file below it, top first. Raises ConvertFailed when
    qemu-img cannot read the image as ``disk_format``."""
    args = ["info", "--output=json", "--backing-chain", "-f", disk_format, str(path)]
    result = await tools.run("qemu-img", args, seconds=_INFO_SECONDS)
    if not result.ok:
        raise ConvertFailed(result.stderr or f"qemu-img info exited {result.returncode}")
    parsed = json.loads(result.stdout)
    return [ImageInfo.from_json(entry) for entry in parsed]


async def info(path: Path, disk_format: str) -> ImageInfo:
    result = await tools.run(
        "qemu-img", ["info", "--output=json", "-f", disk_format, str(path)], seconds=_INFO_SECONDS
    )
    if not result.ok:
        raise ConvertFailed(result.stderr or f"qemu-img info exited {result.returncode}")
    return ImageInfo.from_json(json.loads(result.stdout))


@dataclass(frozen=True)
class Conversion:
    source: Path
    source_format: str
    target: Path
    target_format: str = "qcow2"
    rate_bytes_per_second: int = 0  # 0: unlimited
    stall_seconds: float = 600.0  # no progress for this long: the tool is deemed stuck


async def convert(job: Conversion, on_percent: PercentCallback) -> None:
    """Convert ``job.source`` into ``job.target`` (which must not exist), reporting the
    tool's own progress. Cancelling the caller kills qemu-img at once.

    The target is written with qemu-img's default cache mode for convert (no flush per
    write); the caller fsyncs it once it is complete."""
    args = ["convert", "-p", "-f", job.source_format, "-O", job.target_format]
    if job.target_format == "qcow2":
        args += ["-o", "compat=1.1"]
    if job.rate_bytes_per_second:
        args += ["-r", str(job.rate_bytes_per_second)]
    args += [str(job.source), str(job.target)]
    messages = bytearray()
    async with tools.started("qemu-img", args, stderr_to_stdout=True) as process:
        assert process.stdout is not None
        pending = b""
        while True:
            try:
                chunk = await asyncio.wait_for(process.stdout.read(4096), job.stall_seconds)
            except TimeoutError as exc:
                raise tools.ToolTimedOut(
                    f"qemu-img convert made no progress for {job.stall_seconds} s"
                ) from exc
            if not chunk:
                break
            pending += chunk
            *lines, pending = re.split(rb"[\r\n]", pending)
            for line in lines:
                if (match := _PROGRESS.search(line)) is not None:
                    await on_percent(float(match.group(1)))
                elif line.strip() and len(messages) < 8192:
                    messages += line.strip() + b"\n"
        returncode = await process.wait()
    if returncode != 0:
        text = messages.decode(errors="replace").strip()
        raise ConvertFailed(text or f"qemu-img convert exited {returncode}")
