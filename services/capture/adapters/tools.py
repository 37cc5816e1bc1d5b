"""Running capture's disk tools (qemu-img, sfdisk, blkid, debugfs) as subprocesses.

Every tool runs without a shell, with a bounded time and bounded output, and dies with the
service: ``setpriv --pdeathsig KILL`` makes the kernel kill it when the process that
started it dies (a capture killed mid-copy must not leave a qemu-img writing on). A tool
whose caller is cancelled (the host was started meanwhile) is killed at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

# Debian keeps debugfs, sfdisk and blkid in /sbin and /usr/sbin, which a service user's
# PATH may lack.
_SBIN = ("/usr/sbin", "/sbin")
_OUTPUT_MAX = 4 * 1024 * 1024
_KILL_WAIT_SECONDS = 5.0


class ToolMissing(RuntimeError):
    """A disk tool is not installed (a deployment error: ``deploy/bootstrap.sh``)."""


class ToolTimedOut(RuntimeError):
    """A tool ran longer than its bound, or its output grew past its bound; it was killed."""


@dataclass(frozen=True)
class ToolResult:
    returncode: int
    stdout: bytes
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def tool_path(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=os.pathsep.join(_SBIN))
    if found is None:
        raise ToolMissing(f"{name} is not installed")
    return found


def _argv(tool: str, args: Sequence[str]) -> list[str]:
    return [tool_path("setpriv"), "--pdeathsig", "KILL", "--", tool_path(tool), *args]


@contextlib.asynccontextmanager
async def started(
    tool: str, args: Sequence[str], *, stderr_to_stdout: bool = False
) -> AsyncIterator[asyncio.subprocess.Process]:
    """The tool running, with its stdout piped; killed if the block ends before it does."""
    process = await asyncio.create_subprocess_exec(
        *_argv(tool, args),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT if stderr_to_stdout else asyncio.subprocess.PIPE,
        env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"},
    )
    try:
        yield process
    finally:
        await _kill(process)


async def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    # Shielded: a cancelled caller still reaps its child, so no zombie is left.
    with contextlib.suppress(TimeoutError, asyncio.CancelledError):
        await asyncio.shield(asyncio.wait_for(process.wait(), _KILL_WAIT_SECONDS))


async def run(
    tool: str, args: Sequence[str], *, seconds: float = 30.0, output_max: int = _OUTPUT_MAX
) -> ToolResult:
    """Run a short tool to its end and collect what it printed."""
    async with started(tool, args) as process:
        try:
            async with asyncio.timeout(seconds):
                stdout, stderr = await asyncio.gather(
                    _read_bounded(process.stdout, output_max, tool),
                    _read_bounded(process.stderr, 64 * 1024, tool, cut=True),
                )
                returncode = await process.wait()
        except TimeoutError as exc:
            raise ToolTimedOut(f"{tool} {' '.join(args)} ran over {seconds} s") from exc
    return ToolResult(returncode, stdout, stderr.decode(errors="replace").strip())


async def _read_bounded(
    stream: asyncio.StreamReader | None, limit: int, tool: str, *, cut: bool = False
) -> bytes:
    """Everything the stream says up to ``limit`` bytes; past it, either the rest is
    dropped (``cut``) or the tool is deemed runaway."""
    if stream is None:
        return b""
    chunks: list[bytes] = []
    size = 0
    while chunk := await stream.read(64 * 1024):
        if size < limit:
            chunks.append(chunk[: limit - size])
        size += len(chunk)
        if size > limit and not cut:
            raise ToolTimedOut(f"{tool} printed more than {limit} bytes")
    return b"".join(chunks)
