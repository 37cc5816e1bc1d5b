"""The local base image: Debian bookworm made with debootstrap and imported, for machines
that reach a Debian mirror but no image registry. The Dockerfiles take it as `BASE`."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from deploy.containers.docker_cli import DockerCli
from deploy.containers.engine import apt_install
from deploy.stack.process import StackError, run_checked

LOCAL_BASE = "ims-local/debian:bookworm-minbase"
SUITE = "bookworm"
FALLBACK_MIRROR = "http://deb.debian.org/debian"
APT_SOURCES = Path("/etc/apt")

# Like the official slim images: no docs, man pages or translations in layers.
_DPKG_EXCLUDES = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
"""


def host_mirrors(apt_dir: Path = APT_SOURCES) -> tuple[str, str | None]:
    """The Debian mirror (and security mirror) this machine's apt uses for bookworm."""
    main: str | None = None
    security: str | None = None
    for uri, suites in _sources(apt_dir):
        if main is None and SUITE in suites:
            main = uri
        if security is None and f"{SUITE}-security" in suites:
            security = uri
    return main or FALLBACK_MIRROR, security


def _sources(apt_dir: Path) -> list[tuple[str, list[str]]]:
    """(URI, suites) of every enabled Debian entry, deb822 (.sources) or one-line (.list)."""
    found: list[tuple[str, list[str]]] = []
    one_line = [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list"))]
    for path in one_line:
        for line in _lines(path):
            parts = [p for p in line.split() if not p.startswith("[")]
            if len(parts) >= 3 and parts[0] == "deb":
                found.append((parts[1], [parts[2]]))
    for path in sorted((apt_dir / "sources.list.d").glob("*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields = _deb822_fields(stanza)
            if "deb" in fields.get("Types", "").split() and fields.get("Enabled") != "no":
                for uri in fields.get("URIs", "").split():
                    found.append((uri, fields.get("Suites", "").split()))
    return found


def _deb822_fields(stanza: str) -> dict[str, str]:
    fields = {}
    for line in stanza.splitlines():
        if line and not line.startswith("#") and ":" in line:
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
    return fields


def _lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [ln.strip() for ln in path.read_text().splitlines() if ln.strip() and ln[0] != "#"]


def sources_list(mirror: str, security: str | None) -> str:
    lines = [f"deb {mirror} {SUITE} main", f"deb {mirror} {SUITE}-updates main"]
    if security:
        lines.append(f"deb {security} {SUITE}-security main")
    return "\n".join(lines) + "\n"


def ensure_local_base(docker: DockerCli, work_dir: Path) -> str:
    """The id of the local base image; made with debootstrap when the engine lacks it."""
    existing = docker.image_id(LOCAL_BASE)
    if existing:
        return existing
    if shutil.which("debootstrap") is None:
        apt_install(["debootstrap"], "installing debootstrap")
    mirror, security = host_mirrors()
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        run_checked(
            ["debootstrap", "--variant=minbase", SUITE, str(rootfs), mirror],
            f"debootstrap {SUITE} from {mirror}",
            1200.0,
        )
        (rootfs / "etc/apt/sources.list").write_text(sources_list(mirror, security))
        (rootfs / "etc/dpkg/dpkg.cfg.d/ims-slim").write_text(_DPKG_EXCLUDES)
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (rootfs / cache).glob("*"):
                if item.is_file():
                    item.unlink()
        docker.import_rootfs(rootfs, LOCAL_BASE, ['CMD ["/bin/bash"]'])
    base = docker.image_id(LOCAL_BASE)
    if base is None:
        raise StackError(f"{LOCAL_BASE} was imported but the engine does not list it")
    return base
