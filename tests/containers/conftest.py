"""IMS in containers, started by the testkit exactly as another team starts it.

The package's fixtures: a Docker engine (the one that answers, else a private one that
these tests start and, at the end, stop, checking it left no process, mount or network
interface behind), the three images (built, or found built), and one running IMS.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deploy.containers.build import build_all
from deploy.containers.docker_cli import DockerCli
from deploy.containers.engine import Engine, ensure_engine, stop_engine
from ims_testkit import Images, RunningIms, start_ims
from tests.harness import Bus

# Building the images from nothing happens in the first test's fixtures.
BUILD_TIMEOUT_S = 1500


@pytest.fixture(scope="package")
def docker_engine() -> Iterator[Engine]:
    engine = ensure_engine()
    saved = {k: os.environ.get(k) for k in ("DOCKER_HOST", "TESTCONTAINERS_RYUK_DISABLED")}
    # What another team sets in CI: where Docker is, and no reaper container (its image
    # comes from a registry, and it needs a published port on a bridge network).
    os.environ["DOCKER_HOST"] = engine.host
    os.environ["TESTCONTAINERS_RYUK_DISABLED"] = "true"
    try:
        yield engine
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        left = stop_engine(engine)  # only when these tests started it
        assert not left, "the Docker engine left behind:\n" + "\n".join(left)


@pytest.fixture(scope="package")
def images(docker_engine: Engine) -> Images:
    base = os.environ.get("IMS_IMAGE_BASE", "local")
    refs = build_all(DockerCli(docker_engine.host), base)
    return Images(ims=refs.ims, kafka=refs.kafka, postgres=refs.postgres)


@pytest.fixture(scope="package")
def ims(images: Images, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningIms]:
    # Short, so a failing flow does not wait long for host facts that never come.
    extra = {"IMS_HOST_FACTS_GRACE_SECONDS": "5"}
    workdir = tmp_path_factory.mktemp("ims-containers")
    with start_ims(images, workdir=workdir, service_env=extra) as running:
        yield running


@dataclass(frozen=True)
class _ContainersKafka:
    """The containers' broker for a Bus: topics carry no prefix there, and every client
    logs in (as the testkit hands out the principals' settings)."""

    ims: RunningIms
    topic_prefix: str = ""

    def kafka_client_config(self, principal: str = "admin") -> dict[str, Any]:
        return self.ims.aiokafka_config(principal)


@pytest.fixture
async def ims_bus(ims: RunningIms) -> AsyncIterator[Bus]:
    """A Kafka client on the containers' broker."""
    async with Bus(_ContainersKafka(ims)) as connected:
        yield connected


@pytest.fixture
def disks(ims: RunningIms) -> Path:
    return ims.block_storage
