"""The processes a test can see in /proc: which qemu-img conversions run, and for whom."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from uuid import UUID


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # the process ended meanwhile
        return b""


def conversions(image_ids: Iterable[UUID]) -> Counter[int]:
    """How many ``qemu-img convert`` run for these images, by parent pid (the capture
    service process that started them)."""
    wanted = [str(i).encode() for i in image_ids]
    running: Counter[int] = Counter()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        argv = _read(proc / "cmdline").split(b"\0")
        if not argv or not argv[0].endswith(b"qemu-img") or b"convert" not in argv:
            continue
        if not any(w in arg for arg in argv for w in wanted):
            continue
        stat = _read(proc / "stat")
        # pid (comm) state ppid ...: comm may hold spaces, so split after its ')'.
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1:
            running[int(fields[1])] += 1
    return running


def local_tcp_ports(pid: int, *, remote_port: int) -> set[int]:
    """The local ports of process ``pid``'s TCP sockets to ``remote_port`` (to a database
    server: PostgreSQL names each session's end ``client_port``)."""
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir() if fd_dir.exists() else ():
        try:
            target = fd.readlink().name
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("tcp", "tcp6"):
        for line in _read(Path(f"/proc/{pid}/net/{table}")).decode().splitlines()[1:]:
            # sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            fields = line.split()
            if len(fields) > 9 and fields[9] in inodes:
                local, remote = (int(f.rsplit(":", 1)[1], 16) for f in fields[1:3])
                if remote == remote_port:
                    ports.add(local)
    return ports
