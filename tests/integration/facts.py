"""Facts other platform services publish (ECS hosts, IAM accounts), built for tests."""

from __future__ import annotations

import os
from pathlib import Path
from uuid import UUID, uuid4

from schemas.events import AccountChanged, CaptureRequested, HostChanged, HostDisk, OperatingSystem

UBUNTU = OperatingSystem(family="linux", distro="Ubuntu", version="22.04")


def make_disk(directory: Path, size_bytes: int) -> Path:
    """A small raw system disk with real (random) content."""
    path = directory / f"disk-{uuid4()}.raw"
    path.write_bytes(os.urandom(size_bytes))
    return path


def host(
    account_id: UUID,
    host_id: UUID,
    disk: Path,
    *,
    state: str = "stopped",
    name: str = "ecs-test",
    os: OperatingSystem = UBUNTU,
) -> HostChanged:
    return HostChanged(
        host_id=host_id,
        account_id=account_id,
        name=name,
        os=os,
        state=state,
        memory_mb=2048,
        system_disk=HostDisk(disk_id=uuid4(), path=str(disk), format="raw", size_gb=40),
    )


def account(account_id: UUID, name: str) -> AccountChanged:
    return AccountChanged(account_id=account_id, name=name)


def capture(
    account_id: UUID,
    host_id: UUID,
    image_id: UUID,
    name: str = "TEST-G",
    *,
    strict_preflight: bool = False,
) -> CaptureRequested:
    return CaptureRequested(
        image_id=image_id,
        account_id=account_id,
        host_id=host_id,
        name=name,
        description="demo",
        strict_preflight=strict_preflight,
    )
