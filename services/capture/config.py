"""Capture settings: the shared ones plus where images are stored."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.common.settings import ServiceSettings


class CaptureSettings(ServiceSettings):
    image_store: Path = Field(description="Directory of the image store (IMS_IMAGE_STORE)")
    block_storage: Path = Field(
        description="Where hosts' disk files live (IMS_BLOCK_STORAGE): capture reads only "
        "regular files below it, whatever path an event names"
    )
    host_facts_grace_seconds: float = Field(
        default=15.0,
        ge=0,
        description="How long a capture waits for ECS facts that say its host exists and is "
        "stopped, before it fails (the facts travel on another topic and may lag)",
    )
    capture_jobs_per_process: int = Field(
        default=2,
        ge=0,
        description="Captures one process runs at once; the rest wait in the queue, oldest "
        "first. 0: this process only consumes events (scale consumers and workers apart)",
    )
    job_lease_seconds: int = Field(
        default=60, ge=5, description="A running capture not renewed for this long is retried"
    )
    capture_read_mib_per_second: float = Field(
        default=0,
        ge=0,
        description="The most a capture reads from a disk, in MiB/s (0: unlimited), so that "
        "it does not starve the other hosts on the same block storage",
    )
