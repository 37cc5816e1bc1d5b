"""K4 guest preflight: before a Linux host's system disk is captured, read its ext2/3/4 root
file system (a whole-disk file system, or a partition of an MBR or GPT disk) without
mounting it, and report what the user guide's preparation steps (2.4) say to change.

Windows disks and disks without a readable ext2/3/4 root are ``not_inspected``: never an
error, the capture goes on. A qcow2 disk is first converted into a sparse raw scratch file
(debugfs, sfdisk and blkid read raw disks only), which costs one more read of its data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import structlog

from schemas.events import OperatingSystem, Preflight, PreflightFinding
from services.capture.adapters import qemu, tools
from services.capture.adapters.disks import SourceDisk
from services.capture.adapters.preflight.guest import Guest, GuestUnreadable
from services.capture.adapters.preflight.volumes import Volume, volumes
from services.capture.domain import preflight as rules

_log = structlog.get_logger(__name__)


async def inspect(
    source: SourceDisk,
    os: OperatingSystem,
    scratch: Callable[[], Path],
) -> Preflight:
    """The guest's preflight. ``scratch`` names a temporary file for a qcow2 disk's raw
    view; it is removed before this returns (or by the worker, if the process dies)."""
    if os.family == "windows":
        return rules.not_inspected(rules.WINDOWS)
    if source.format == "raw":
        return await _inspect_raw(source.path, os)
    raw = scratch()
    try:

        async def ignore(_: float) -> None:
            pass

        conversion = qemu.Conversion(
            source.path, "qcow2", raw, target_format="raw",
            rate_bytes_per_second=source.read_rate,
        )  # fmt: skip
        try:
            await qemu.convert(conversion, ignore)
        except qemu.ConvertFailed as exc:
            _log.warning("capture.preflight_unreadable", detail=str(exc))
            return rules.not_inspected(rules.UNREADABLE)
        return await _inspect_raw(raw, os)
    finally:
        raw.unlink(missing_ok=True)


async def _inspect_raw(disk: Path, os: OperatingSystem) -> Preflight:
    try:
        found = await volumes(disk)
        root = await _root(disk, found)
        if root is None:
            return rules.no_root({v.fs_type for v in found if v.fs_type})
        return rules.result(await _check(Guest(disk, root.offset), found, os))
    except (GuestUnreadable, tools.ToolTimedOut, ValueError, KeyError) as exc:
        _log.warning("capture.preflight_unreadable", detail=repr(exc))
        return rules.not_inspected(rules.UNREADABLE)


async def _root(disk: Path, found: list[Volume]) -> Volume | None:
    """The ext volume holding /etc/fstab, else the first holding /etc (a separate /boot
    holds neither)."""
    with_etc = []
    for volume in (v for v in found if v.is_ext):
        etc = await Guest(disk, volume.offset).list("/etc")
        if etc is None:
            continue
        if "fstab" in etc:
            return volume
        with_etc.append(volume)
    return with_etc[0] if with_etc else None


async def _check(guest: Guest, found: list[Volume], os: OperatingSystem) -> list[PreflightFinding]:
    findings: list[PreflightFinding] = []
    if (text := await guest.read(rules.INTERFACES)) is not None:
        findings += rules.interfaces(rules.INTERFACES, text)
    for name in sorted(await guest.list(rules.INTERFACES_D) or {}):
        path = f"{rules.INTERFACES_D}/{name}"
        if (text := await guest.read(path)) is not None:
            findings += rules.interfaces(path, text)
    for name in sorted(await guest.list(rules.NETWORK_SCRIPTS) or {}):
        path = f"{rules.NETWORK_SCRIPTS}/{name}"
        if rules.is_ifcfg_eth(name) and (text := await guest.read(path)) is not None:
            findings += rules.ifcfg(path, text)
    findings += rules.udev_rules(rules.UDEV_RULES, await guest.list(rules.UDEV_RULES) or {})
    rc = {path: await guest.read(path) for path in rules.RC_FILES}
    findings += rules.rc_files(rc, red_hat_family=rules.is_red_hat_family(os))
    if (text := await guest.read(rules.FSTAB)) is not None:
        findings += rules.fstab(rules.FSTAB, text, _system_disk(found))
    return findings


def _system_disk(found: list[Volume]) -> rules.SystemDisk:
    return rules.SystemDisk(
        uuids=frozenset(v.uuid for v in found if v.uuid),
        labels=frozenset(v.label for v in found if v.label),
        partuuids=frozenset(v.partuuid for v in found if v.partuuid),
        partlabels=frozenset(v.partlabel for v in found if v.partlabel),
    )
