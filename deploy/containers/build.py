"""Build the three images (IMS, Kafka, PostgreSQL), reusing what is built already.

Each image is tagged with a digest of what goes into it: its directory under
deploy/images/, the base it builds on, and its extra inputs (the Kafka jars; the
project's sources and pinned dependencies). A tag the engine has is not built again.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from deploy.containers.base import ensure_local_base
from deploy.containers.docker_cli import DockerCli
from deploy.stack.config import default_jar_dir, repo_root
from deploy.stack.kafka import ensure_jars
from deploy.stack.process import StackError, run_checked

IMAGES_DIR = repo_root() / "deploy" / "images"
KAFKA_VERSION = "4.1.1"
PG_VERSION = "15"
# What the project's wheel is made of (setuptools package data included).
SOURCE_DIRS = ("services", "schemas", "deploy", "ims_testkit")
SOURCE_SUFFIXES = frozenset(
    {".py", ".json", ".yaml", ".xml", ".sql", ".ini", ".mako", ".properties", ".typed"}
)

Say = Callable[[str], None]


@dataclass(frozen=True)
class ImageRefs:
    """The three images a deployment (or the testkit) runs."""

    ims: str
    kafka: str
    postgres: str

    def env(self) -> dict[str, str]:
        """The variables the testkit reads (ims_testkit.Images.from_env)."""
        return {
            "IMS_TESTKIT_IMS_IMAGE": self.ims,
            "IMS_TESTKIT_KAFKA_IMAGE": self.kafka,
            "IMS_TESTKIT_POSTGRES_IMAGE": self.postgres,
        }


def default_cache() -> Path:
    return repo_root() / ".ims" / "cache" / "images"


def _quiet(_: str) -> None:
    pass


def build_all(
    docker: DockerCli, base: str = "local", cache: Path | None = None, say: Say = _quiet
) -> ImageRefs:
    """Build (or find) every image. `base`: "local" (debootstrap, no registry needed),
    "official" (the Dockerfiles' defaults), or an image to build all three on."""
    cache = cache or default_cache()
    base_args, base_id = _base(docker, base, cache, say)
    jars = ensure_jars(default_jar_dir())
    refs = ImageRefs(
        ims=_ensure(
            docker, "ims", project_version(), base_args, base_id, _ims_inputs(), cache, say
        ),
        kafka=_ensure(
            docker, "kafka", KAFKA_VERSION, base_args, base_id, _jar_inputs(jars), cache, say
        ),
        postgres=_ensure(docker, "postgres", PG_VERSION, base_args, base_id, [], cache, say),
    )
    env_file = cache / "images.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in refs.env().items()))
    return refs


def _base(docker: DockerCli, base: str, cache: Path, say: Say) -> tuple[dict[str, str], str]:
    """Build args and an identity of the base for the digests."""
    if base == "official":
        return {}, "official"
    if base == "local":
        say("base: Debian bookworm (debootstrap), made once and kept in the engine")
        image_id = ensure_local_base(docker, cache)
        return {"BASE": image_id}, image_id
    return {"BASE": base}, docker.image_id(base) or base


@dataclass(frozen=True)
class _Input:
    """One file of an image's build context: where it goes, where it comes from."""

    target: str
    source: Path
    hashed: bool = True  # False: copied, but a change does not make a new image


def _dir_inputs(directory: Path) -> list[_Input]:
    return [
        _Input(str(p.relative_to(directory)), p)
        for p in sorted(directory.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    ]


def _jar_inputs(jar_dir: Path) -> list[_Input]:
    return [_Input(f"jars/{jar.name}", jar) for jar in sorted(jar_dir.glob("*.jar"))]


def _ims_inputs() -> list[_Input]:
    """The project's sources: the wheel is built from exactly these files."""
    root = repo_root()
    # The README is only the wheel's long description: editing it needs no new image.
    found = [_Input("src/pyproject.toml", root / "pyproject.toml")]
    found.append(_Input("src/README.md", root / "README.md", hashed=False))
    for top in SOURCE_DIRS:
        for path in sorted((root / top).rglob("*")):
            if (
                path.is_file()
                and path.suffix in SOURCE_SUFFIXES
                and "__pycache__" not in path.parts
                and path.relative_to(root).parts[:2] != ("deploy", "images")
            ):
                found.append(_Input(f"src/{path.relative_to(root)}", path))
    return found


def _digest(name: str, base_id: str, inputs: Iterable[_Input]) -> str:
    h = hashlib.sha256(f"{name}\0{base_id}\0".encode())
    for item in sorted((i for i in inputs if i.hashed), key=lambda i: i.target):
        h.update(item.target.encode() + b"\0")
        with item.source.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()


def _ensure(
    docker: DockerCli,
    name: str,
    version: str,
    build_args: dict[str, str],
    base_id: str,
    extra: list[_Input],
    cache: Path,
    say: Say,
) -> str:
    inputs = _dir_inputs(IMAGES_DIR / name) + extra
    if name == "ims":
        inputs.append(_Input("constraints.txt", _constraints(cache)))
    tag = f"ims/{name}:{version}-{_digest(name, base_id, inputs)[:12]}"
    if docker.image_id(tag):
        say(f"{name}: {tag} (built already)")
        return tag
    say(f"{name}: building {tag}")
    contexts = cache / "contexts"
    contexts.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=contexts, prefix=f"{name}-") as tmp:
        context = Path(tmp)
        for item in inputs:
            if item.target.startswith("src/") or item.target == "constraints.txt":
                continue  # the wheels are built from these, not copied
            (context / item.target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item.source, context / item.target)
        if name == "ims":
            _wheels(inputs, context / "wheels", cache)
        docker.build(context, tag, build_args, cache / "logs" / f"{name}.log", 1800.0)
    return tag


def project_version() -> str:
    project = tomllib.loads((repo_root() / "pyproject.toml").read_text())["project"]
    return str(project["version"])


# -- the IMS image's wheels ----------------------------------------------------------------


def _constraints(cache: Path) -> Path:
    """The versions this environment runs the tests with: the image gets the same ones."""
    frozen = run_checked(
        [
            sys.executable,
            "-m",
            "pip",
            "freeze",
            "--exclude-editable",
            "--disable-pip-version-check",
        ],
        "pip freeze",
        120.0,
    )
    pins = sorted(ln for ln in frozen.splitlines() if "==" in ln and " @ " not in ln)
    path = cache / "constraints.txt"
    cache.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{pin}\n" for pin in pins)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def _wheels(inputs: list[_Input], out: Path, cache: Path) -> None:
    """wheels/ims: the project; wheels/deps: its dependencies, cached by what pins them."""
    with tempfile.TemporaryDirectory(dir=cache, prefix="src-") as tmp:
        src = Path(tmp)
        for item in inputs:
            if item.target.startswith("src/"):
                dest = src / item.target.removeprefix("src/")
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(item.source, dest)
        constraints = cache / "constraints.txt"
        deps = _deps_wheelhouse(src, constraints, cache)
        shutil.copytree(deps, out / "deps")
        _pip_wheel(["--no-deps", "-w", str(out / "ims"), str(src)], "building the IMS wheel")


def _deps_wheelhouse(src: Path, constraints: Path, cache: Path) -> Path:
    # Keyed by what decides the set of wheels, so other edits of pyproject.toml reuse it.
    project = tomllib.loads((src / "pyproject.toml").read_text())["project"]
    pinned = json.dumps(project["dependencies"]).encode() + b"\0" + constraints.read_bytes()
    key = hashlib.sha256(pinned).hexdigest()[:16]
    house = cache / "wheels" / key
    if (house / ".complete").exists():
        return house
    staging = house.with_name(house.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    _pip_wheel(["-c", str(constraints), "-w", str(staging), str(src)], "building dependency wheels")
    for own in staging.glob("ims-*.whl"):
        own.unlink()
    (staging / ".complete").write_text(key + "\n")
    shutil.rmtree(house, ignore_errors=True)
    staging.rename(house)
    return house


def _pip_wheel(args: list[str], what: str) -> None:
    argv = [sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=1200, check=False)
    if done.returncode != 0:
        raise StackError(f"{what} failed:\n{(done.stdout + done.stderr)[-4000:]}")
