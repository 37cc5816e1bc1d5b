"""Capture rules without I/O: may this host be captured for this request, and why not;
what spoils a capture that runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard, get_args
from uuid import UUID

from schemas.events import CaptureFailureCode, HostDisk, OperatingSystem, Preflight
from services.common.i18n import Text
from services.common.refusals import Refusal


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
    data_disks: tuple[HostDisk, ...] = ()


@dataclass(frozen=True)
class CaptureRequest:
    """A capture the catalog accepted, to be queued as a job."""

    image_id: UUID
    account_id: UUID
    host_id: UUID
    name: str
    description: str
    strict_preflight: bool
    correlation_id: UUID | None


@dataclass(frozen=True)
class Job:
    """A queued capture as a worker claimed it."""

    image_id: UUID
    account_id: UUID
    host_id: UUID
    name: str
    description: str
    attempts: int
    age_seconds: float
    correlation_id: UUID | None
    strict_preflight: bool = False


def _zh(code: str, zh: str) -> Refusal:
    """A refusal in the console's words (zh-CN); the events carry the zh text as reason."""
    return Refusal(code, Text(zh, zh))


# Messages in the console's words (seed 2.2 step 7 and FAQ 4.6).
HOST_UNKNOWN = _zh("host_unknown", "云主机不存在。")
HOST_DELETED = _zh("host_deleted", "云主机已被删除。")
HOST_RUNNING = _zh(
    "host_running",
    "云主机状态是“运行中”，请先关机。当前关机状态的云主机才可以用来创建私有镜像。"
    "运行状态下的云主机，其内存可能会缓存正准备写入的数据，为了避免您制作的镜像出现数据丢失"
    "问题，请您在制作镜像前关闭云主机。",
)
HOST_CHANGED = _zh(
    "host_changed", "创建镜像过程中云主机被启动、修改或删除，镜像创建失败，未保留任何镜像文件。"
)
MAX_ATTEMPTS = 5
TOO_MANY_ATTEMPTS = _zh("internal_error", "多次尝试创建镜像均未完成，镜像创建失败。")
# What the tenant reads; the details (paths, errno) go to the log, not to the tenant.
DISK_UNREADABLE = _zh("disk_unreadable", "无法读取云主机系统盘，镜像创建失败。")


def reason_of(refusal: Refusal) -> str:
    """The reason a CaptureFailed (and the job's row) carries: the console's words."""
    return refusal.message.zh


def failure_code(refusal: Refusal) -> CaptureFailureCode:
    """The code a CaptureFailed carries: one of the contract's, or a bug."""
    if not _is_failure_code(refusal.code):
        raise ValueError(f"{refusal.code} is not a CaptureFailureCode")
    return refusal.code


def _is_failure_code(code: str) -> TypeGuard[CaptureFailureCode]:
    return code in get_args(CaptureFailureCode)


def crashed(exc: BaseException) -> Refusal:
    """A bug, in the copy or in its watch: the capture fails cleanly, not forever."""
    return _zh("internal_error", f"内部错误（{type(exc).__name__}）。")


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


def may_wait_for_host_facts(refusal: Refusal, job: Job, grace_seconds: float) -> bool:
    """Host facts travel on another topic and may lag the request: a refusal they may
    still lift waits for them, within the grace period, instead of failing the capture."""
    return refusal.code in MAY_CHANGE_SOON and job.age_seconds < grace_seconds


def changed_during_capture(started: Host, now: Host | None) -> bool:
    """K2: a host started, changed or deleted while its capture ran spoils the capture."""
    return now is None or now.version != started.version or now.state != "stopped"


def preflight_refused(preflight: Preflight) -> Refusal:
    """K4 strict mode: the findings, each with its code and file, in the failure's reason."""
    found = "；".join(f"[{f.code}] {f.path}：{f.detail}" for f in preflight.findings)
    return _zh(
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
