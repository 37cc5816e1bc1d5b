"""Capture rules without I/O: may this host be captured for this request, and why not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from schemas.events import CaptureFailureCode, HostDisk, OperatingSystem, Preflight


@dataclass(frozen=True)
class Host:
    """What capture knows of an ECS host, from its latest HostChanged."""

    host_id: UUID
    account_id: UUID
    name: str
    os: OperatingSystem
    state: str
    memory_mb: int
    system_disk: HostDisk
    version: int

    @classmethod
    def from_row(cls, row: Any) -> Host:
        return cls(
            host_id=row["host_id"],
            account_id=row["account_id"],
            name=row["name"],
            os=OperatingSystem.model_validate(row["os"]),
            state=row["state"],
            memory_mb=row["memory_mb"],
            system_disk=HostDisk.model_validate(row["system_disk"]),
            version=row["version"],
        )


@dataclass(frozen=True)
class Refusal:
    code: CaptureFailureCode
    reason: str


# Messages in the console's words (seed 2.2 step 7 and FAQ 4.6).
HOST_UNKNOWN = Refusal("host_unknown", "云主机不存在。")
HOST_DELETED = Refusal("host_deleted", "云主机已被删除。")
HOST_RUNNING = Refusal(
    "host_running",
    "云主机状态是“运行中”，请先关机。当前关机状态的云主机才可以用来创建私有镜像。"
    "运行状态下的云主机，其内存可能会缓存正准备写入的数据，为了避免您制作的镜像出现数据丢失"
    "问题，请您在制作镜像前关闭云主机。",
)
HOST_CHANGED = Refusal(
    "host_changed", "创建镜像过程中云主机被启动、修改或删除，镜像创建失败，未保留任何镜像文件。"
)


def refusal_for(host: Host | None, account_id: UUID) -> Refusal | None:
    """Why ``host`` cannot be captured for ``account_id`` now, or None if it can (K1)."""
    if host is None:
        return HOST_UNKNOWN
    if host.account_id != account_id:
        # Answered like a missing host: a tenant learns nothing of others' hosts.
        return HOST_UNKNOWN
    if host.state == "deleted":
        return HOST_DELETED
    if host.state != "stopped":
        return HOST_RUNNING
    return None


# Refusals that a lagging HostChanged may still lift.
MAY_CHANGE_SOON = frozenset({"host_unknown", "host_running"})


def changed_during_capture(started: Host, now: Host | None) -> bool:
    """K2: a host started, changed or deleted while its capture ran spoils the capture."""
    return now is None or now.version != started.version or now.state != "stopped"


def preflight_refused(preflight: Preflight) -> Refusal:
    """K4 strict mode: the findings, each with its code and file, in the failure's reason."""
    found = "；".join(f"[{f.code}] {f.path}：{f.detail}" for f in preflight.findings)
    return Refusal(
        "preflight_refused",
        f"镜像预检发现 {len(preflight.findings)} 个问题，已按严格预检拒绝创建镜像，未保留任何"
        f"镜像文件。请按用户指南 2.4 配置云主机后重试：{found}",
    )


def keeps_source_password(os: OperatingSystem) -> bool:
    """K5 (FAQ 4.7): a host made from a Windows private image keeps the source host's
    password; the console cannot set another."""
    return os.family == "windows"


def min_memory_mb(os: OperatingSystem) -> int:
    """The minimum memory a host from the image should have (C3); Windows wants 2 GB."""
    return 2048 if os.family == "windows" else 1024
