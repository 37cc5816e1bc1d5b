"""Capture rules: which hosts may be captured (K1) and what spoils a running capture (K2)."""

from __future__ import annotations

import dataclasses
from uuid import uuid4

from schemas.events import HostDisk, OperatingSystem
from services.capture.domain import (
    HOST_DELETED,
    HOST_RUNNING,
    HOST_UNKNOWN,
    Host,
    changed_during_capture,
    min_memory_mb,
    refusal_for,
)

LINUX = OperatingSystem(family="linux", distro="Debian", version="12")


def host(state: str = "stopped", version: int = 3) -> Host:
    return Host(
        host_id=uuid4(),
        account_id=uuid4(),
        name="ecs-1",
        os=LINUX,
        state=state,
        memory_mb=1024,
        system_disk=HostDisk(disk_id=uuid4(), path="/d", format="raw", size_gb=40),
        version=version,
    )


def test_a_stopped_host_of_the_tenant_may_be_captured() -> None:
    stopped = host()
    assert refusal_for(stopped, stopped.account_id) is None


def test_a_running_host_is_refused_with_the_consoles_words() -> None:
    running = host("running")
    assert refusal_for(running, running.account_id) is HOST_RUNNING
    assert "请先关机" in HOST_RUNNING.message.zh


def test_another_tenants_host_looks_exactly_like_a_missing_one() -> None:
    assert refusal_for(host(), uuid4()) is HOST_UNKNOWN
    assert refusal_for(None, uuid4()) is HOST_UNKNOWN


def test_a_deleted_host_is_refused() -> None:
    deleted = host("deleted")
    assert refusal_for(deleted, deleted.account_id) is HOST_DELETED


def test_any_change_of_the_host_during_the_capture_spoils_it() -> None:
    started = host()
    assert not changed_during_capture(started, started)
    assert changed_during_capture(started, dataclasses.replace(started, version=4))
    assert changed_during_capture(started, dataclasses.replace(started, state="running"))
    assert changed_during_capture(started, None)


def test_windows_images_want_two_gigabytes() -> None:
    windows = OperatingSystem(family="windows", distro="Windows Server", version="2019")
    assert min_memory_mb(windows) == 2048
    assert min_memory_mb(LINUX) == 1024
