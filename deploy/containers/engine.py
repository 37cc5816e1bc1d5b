"""A Docker engine for builds and tests: the one already running, or a private one.

The private engine is Debian's dockerd with everything that would touch the host's
network switched off (no bridge, no iptables, no forwarding, no masquerading), its own
data root, exec root, pid file and socket, so an engine that runs on the machine already
is never touched. Containers run with `--network host` and bind 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from deploy.stack.config import repo_root
from deploy.stack.process import StackError, exists, is_alive, read_pid, run_checked, wait_until

DEFAULT_SOCKET = Path("/var/run/docker.sock")
# dockerd's own flags that keep it off the host's network configuration.
NO_NETWORKING = (
    "--bridge=none",
    "--iptables=false",
    "--ip6tables=false",
    "--ip-forward=false",
    "--ip-masq=false",
)


def default_root() -> Path:
    """Where the private engine keeps images and layers: $IMS_DOCKER_ROOT, else
    .ims/cache/docker (a cache, which `ims-stack reset` keeps)."""
    env = os.environ.get("IMS_DOCKER_ROOT")
    return Path(env).resolve() if env else repo_root() / ".ims" / "cache" / "docker"


@dataclass(frozen=True)
class EnginePaths:
    """Every path the private engine uses; the runtime ones are short (socket path limits)."""

    root: Path

    @property
    def run_dir(self) -> Path:
        digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:10]
        return Path("/run") / f"ims-docker-{digest}"

    @property
    def data_root(self) -> Path:
        return self.root / "data"

    @property
    def exec_root(self) -> Path:
        return self.run_dir / "exec"

    @property
    def socket(self) -> Path:
        return self.run_dir / "docker.sock"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "dockerd.pid"

    @property
    def config(self) -> Path:
        return self.root / "daemon.json"

    @property
    def log(self) -> Path:
        return self.root / "dockerd.log"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"


@dataclass
class Engine:
    """An engine that answers on `host`; `started` says whether this process started it."""

    host: str
    started: bool
    paths: EnginePaths | None = None
    pid: int | None = None
    interfaces_before: frozenset[str] | None = None  # known when this process started it


def answers(host: str, timeout_s: float = 2.0) -> bool:
    """True when the engine at a unix:// host answers GET /_ping."""
    if not host.startswith("unix://"):
        return False
    path = host.removeprefix("unix://")
    if not Path(path).exists():
        return False
    conn = _UnixHTTPConnection(path, timeout_s)
    try:
        conn.request("GET", "/_ping")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout_s: float) -> None:
        super().__init__("localhost", timeout=timeout_s)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def running_engine(env: dict[str, str], paths: EnginePaths) -> str | None:
    """The host of an engine that already answers: $DOCKER_HOST, the default socket, ours."""
    candidates = [env.get("DOCKER_HOST", ""), f"unix://{DEFAULT_SOCKET}", paths.host]
    return next((host for host in candidates if host and answers(host)), None)


def ensure_installed() -> None:
    """dockerd from Debian's docker.io when missing (root and apt-get needed)."""
    if shutil.which("dockerd") is not None:
        return
    apt_install(["docker.io"], "installing Docker (docker.io)")
    if shutil.which("dockerd") is None:
        raise StackError("docker.io installed but dockerd is still missing")


def apt_install(packages: list[str], what: str) -> None:
    """apt-get install that never starts a service: a policy-rc.d says no while it runs."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise StackError(f"{what}: needs root and apt-get; install {' '.join(packages)} yourself")
    policy = Path("/usr/sbin/policy-rc.d")
    ours = not policy.exists()
    if ours:
        policy.write_text("#!/bin/sh\n# IMS: no service starts while packages install\nexit 101\n")
        policy.chmod(0o755)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        run_checked(["apt-get", "update", "-qq"], "apt-get update", 600.0, env=env)
        run_checked(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
            what,
            900.0,
            env=env,
        )
    finally:
        if ours:
            policy.unlink(missing_ok=True)


def network_interfaces() -> frozenset[str]:
    return frozenset(p.name for p in Path("/sys/class/net").iterdir())


def ensure_engine(paths: EnginePaths | None = None, timeout_s: float = 60.0) -> Engine:
    """An engine that answers: one already running is used as it is; else ours is started."""
    paths = paths or EnginePaths(default_root())
    host = running_engine(dict(os.environ), paths)
    if host is not None:
        return Engine(host, started=False, paths=paths if host == paths.host else None)
    ensure_installed()
    before = network_interfaces()
    pid = _start_dockerd(paths)
    engine = Engine(paths.host, True, paths, pid, before)
    deadline = time.monotonic() + timeout_s
    while not answers(paths.host):
        if not exists(pid) or time.monotonic() > deadline:
            stop_engine(engine)
            raise StackError(f"dockerd did not answer on {paths.host}:\n{_tail(paths.log)}")
        time.sleep(0.2)
    return engine


def _start_dockerd(paths: EnginePaths) -> int:
    for directory in (paths.data_root, paths.exec_root):
        directory.mkdir(parents=True, exist_ok=True)
    # Our own (empty) configuration: a machine-wide /etc/docker/daemon.json must not apply.
    paths.config.write_text(json.dumps({}) + "\n")
    argv = [
        "dockerd",
        f"--config-file={paths.config}",
        f"--host={paths.host}",
        f"--data-root={paths.data_root}",
        f"--exec-root={paths.exec_root}",
        f"--pidfile={paths.pid_file}",
        *NO_NETWORKING,
        "--log-level=warn",
    ]
    with paths.log.open("ab") as log:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return proc.pid


def stop_engine(engine: Engine, grace_s: float = 60.0) -> list[str]:
    """Stop an engine this process started (others are left alone); returns what is left
    behind: processes, mounts and network interfaces that were not there before."""
    if not engine.started or engine.paths is None:
        return []
    paths, pid = engine.paths, engine.pid
    # exists(), not is_alive(): a dockerd that has not exec'd yet shows our command line.
    if pid is not None and exists(pid):
        os.kill(pid, signal.SIGTERM)
        if not wait_until(lambda: _gone(pid), grace_s):
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: _gone(pid), 10.0)
    wait_until(lambda: not _processes_using(paths), 30.0)
    for mount in reversed(_mounts_under(paths)):  # innermost first
        subprocess.run(["umount", "-l", mount], check=False, capture_output=True)
    shutil.rmtree(paths.run_dir, ignore_errors=True)
    return leftovers(engine)


def leftovers(engine: Engine) -> list[str]:
    """What the engine left: its processes, its mounts, network interfaces it added."""
    if engine.paths is None:
        return []
    left = [f"process {pid}: {cmd}" for pid, cmd in _processes_using(engine.paths)]
    left += [f"mount {m}" for m in _mounts_under(engine.paths)]
    if engine.interfaces_before is not None:
        new = network_interfaces() - engine.interfaces_before
        left += [f"network interface {name}" for name in sorted(new)]
    return left


def _gone(pid: int) -> bool:
    """True once `pid` has exited; reaps it when it is our child (no zombie left)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return not exists(pid)


def _processes_using(paths: EnginePaths) -> list[tuple[int, str]]:
    """dockerd, its containerd and shims: every process whose command line names our dirs."""
    markers = (str(paths.run_dir), str(paths.data_root))
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        cmd = raw.replace(b"\0", b" ").decode(errors="replace").strip()
        if state != "Z" and any(marker in cmd for marker in markers):
            found.append((int(entry.name), cmd))
    return found


def _mounts_under(paths: EnginePaths) -> list[str]:
    roots = (str(paths.run_dir), str(paths.root))
    mounts = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        target = line.split()[1].replace("\\040", " ")
        if any(target == r or target.startswith(r + "/") for r in roots):
            mounts.append(target)
    return mounts


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def our_pid(paths: EnginePaths) -> int | None:
    """The pid of our private dockerd when it runs (started earlier, e.g. by `ims-images`)."""
    pid = read_pid(paths.pid_file)
    return pid if is_alive(pid, "dockerd") else None
