"""Another team's project (examples/other_team: a backup service with its own top-level
`services` and `schemas`) tests against IMS in its own virtualenv, where the ims-testkit
wheel is all it has of IMS: its own test, written from the README, and the README's
example test itself, under the README's conftest."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.containers.engine import Engine
from deploy.containers.testkit_wheel import DEPENDENCIES, build_testkit_wheel
from deploy.stack.config import repo_root
from ims_testkit import Images
from tests.containers.conftest import BUILD_TIMEOUT_S
from tests.readme import readme_example_files

pytestmark = [pytest.mark.containers, pytest.mark.timeout(BUILD_TIMEOUT_S)]

PROJECT = repo_root() / "examples" / "other_team"
THEIR_TOOLS = ("pytest>=8", "confluent-kafka>=2.4")


def _run(argv: list[str], what: str, timeout_s: float, **kwargs: object) -> str:
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout_s, check=False, **kwargs
    )  # type: ignore[call-overload]
    output = str(done.stdout) + str(done.stderr)
    assert done.returncode == 0, f"{what} exited {done.returncode}:\n{output[-6000:]}"
    return output


def _their_venv(wheel: Path) -> Path:
    """A virtualenv with their tools, kept between runs; the wheel is installed afresh."""
    key = hashlib.sha256("\n".join((*DEPENDENCIES, *THEIR_TOOLS)).encode()).hexdigest()[:12]
    venv = repo_root() / ".ims" / "cache" / "other-team" / f"venv-{key}"
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        shutil.rmtree(venv, ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(venv)], "venv", 300)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        _run([*pip, str(wheel), *THEIR_TOOLS], "installing their tools", 900)
        (venv / ".complete").write_text("")
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    _run([*pip, "--no-deps", "--force-reinstall", str(wheel)], "installing ims-testkit", 300)
    return python


def test_another_teams_project_passes_with_the_readme_example(
    docker_engine: Engine, images: Images, tmp_path: Path
) -> None:
    example = readme_example_files()
    assert set(example) == {"tests/conftest.py", "tests/test_ims_capture.py"}
    assert (PROJECT / "tests" / "conftest.py").read_text() == example["tests/conftest.py"]
    python = _their_venv(build_testkit_wheel(tmp_path / "dist"))
    project = tmp_path / "backup-service"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
    (project / "tests" / "test_ims_capture.py").write_text(example["tests/test_ims_capture.py"])
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "DOCKER_HOST": docker_engine.host,
        "TESTCONTAINERS_RYUK_DISABLED": "true",
        "IMS_TESTKIT_IMS_IMAGE": images.ims,
        "IMS_TESTKIT_KAFKA_IMAGE": images.kafka,
        "IMS_TESTKIT_POSTGRES_IMAGE": images.postgres,
    }

    output = _run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA"],
        "their pytest",
        900,
        cwd=project,
        env=env,
    )

    assert "3 passed" in output, output[-3000:]
