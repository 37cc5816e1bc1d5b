"""The ims-testkit wheel other teams install: `ims_testkit`, with the event contract
(schemas/) inside it as `ims_testkit.schemas`, and nothing named services, schemas or
deploy at the top level, so it cannot collide with their own packages of those names."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from deploy.containers.build import project_version
from deploy.stack.config import repo_root
from deploy.stack.process import StackError

DISTRIBUTION = "ims-testkit"
DEPENDENCIES = ("testcontainers>=4.8", "pydantic>=2.7", "pyjwt[crypto]>=2.8")
# The contract: models, envelope, topic catalogue, and the generated JSON Schema/AsyncAPI.
CONTRACT = (
    "__init__.py",
    "envelope.py",
    "events.py",
    "topics.py",
    "access.py",
    "asyncapi.yaml",
    "README.md",
)
_ABSOLUTE = re.compile(r"^(\s*)(from|import) schemas(\.|\s|$)", re.MULTILINE)


def vendored(source: str) -> str:
    """`schemas.x` imports rewritten to `ims_testkit.schemas.x` (the contract's new home)."""
    return _ABSOLUTE.sub(r"\1\2 ims_testkit.schemas\3", source)


def _pyproject(version: str) -> str:
    deps = ", ".join(f'"{d}"' for d in DEPENDENCIES)
    return f"""[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "{DISTRIBUTION}"
version = "{version}"
description = "Start IMS (Kafka, PostgreSQL, its four services) in containers for your tests"
requires-python = ">=3.11"
dependencies = [{deps}]

[tool.setuptools.packages.find]
include = ["ims_testkit*"]

[tool.setuptools.package-data]
"*" = ["*.json", "*.yaml", "*.md", "py.typed"]
"""


def assemble(tree: Path) -> None:
    """The wheel's source tree: ims_testkit/ as it is, the contract copied in."""
    root = repo_root()
    package = tree / "ims_testkit"
    shutil.copytree(root / "ims_testkit", package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "py.typed").write_text("")
    contract = package / "schemas"
    contract.mkdir()
    for name in CONTRACT:
        text = (root / "schemas" / name).read_text()
        (contract / name).write_text(vendored(text) if name.endswith(".py") else text)
    shutil.copytree(root / "schemas" / "json", contract / "json")
    (tree / "pyproject.toml").write_text(_pyproject(project_version()))


def build_testkit_wheel(out: Path) -> Path:
    """Build the wheel into `out`; returns its path."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ims-testkit-") as tmp:
        tree = Path(tmp)
        assemble(tree)
        argv = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tree / "dist")]
        done = subprocess.run(
            [*argv, "--disable-pip-version-check", str(tree)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise StackError(f"building the testkit wheel failed:\n{done.stderr[-3000:]}")
        (wheel,) = (tree / "dist").glob("*.whl")
        target = out / wheel.name
        shutil.copy2(wheel, target)
    return target
