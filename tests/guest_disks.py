"""Real guest disks for the tests: an ext4 root file system made with ``mkfs.ext4 -d`` from a
root tree, as a whole disk or as a partition of an MBR or GPT disk (``sfdisk``), prepared as
the user guide says (2.4) or carrying exactly one of the problems the preflight reports.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Literal
from uuid import uuid4

from services.capture.adapters.tools import tool_path

Layout = Literal["whole", "mbr", "gpt"]
Problem = Literal["static_ip", "persistent_net_rules", "setpasswd_missing", "fstab_data_disk"]
LAYOUTS: tuple[Layout, ...] = ("whole", "mbr", "gpt")
PROBLEMS: tuple[Problem, ...] = (
    "static_ip",
    "persistent_net_rules",
    "setpasswd_missing",
    "fstab_data_disk",
)
MIB = 1024 * 1024
SECTOR = 512
BOOT_MIB, ROOT_MIB = 4, 16
MBR_SIGNATURE = "1a2b3c4d"
# The user guide's example of a data disk left in /etc/fstab (2.4.4).
DATA_DISK_LINE = "UUID=1924c5ad-d63f-4b0b-a658-2ae9e4d9a03d /mnt/test ext4 defaults 0 2\n"


def _run(*argv: str, stdin: str | None = None) -> None:
    subprocess.run(
        [tool_path(argv[0]), *argv[1:]], input=stdin, text=True, check=True,
        capture_output=True, timeout=60,
    )  # fmt: skip


def _write(root: Path, path: str, text: str) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def root_tree(root: Path, fstab: str, problem: Problem | None) -> Path:
    """A Debian-like guest, prepared as the guide says, but for ``problem``."""
    interfaces = "auto lo\niface lo inet loopback\nauto eth0\niface eth0 inet dhcp\n"
    if problem == "static_ip":  # the guide's own example (2.4.1)
        interfaces = (
            "auto lo\niface lo inet loopback\nauto eth0\n#iface eth0 inet dhcp\n"
            "iface eth0 inet static\naddress 192.168.1.109\nnetmask 255.255.255.0\n"
            "gateway 192.168.1.1\n"
        )
    _write(root, "/etc/network/interfaces", interfaces)
    _write(root, "/etc/udev/rules.d/99-local.rules", 'KERNEL=="vd*", OPTIONS+="last_rule"\n')
    if problem == "persistent_net_rules":
        _write(
            root,
            "/etc/udev/rules.d/70-persistent-net.rules",
            'SUBSYSTEM=="net", ATTR{address}=="fa:16:3e:00:00:01", NAME="eth0"\n',
        )
    rc = "#!/bin/sh\n# runlevel changes\n"
    if problem != "setpasswd_missing":
        rc += "sh /etc/init.d/setpasswd.sh\n"
    _write(root, "/etc/init.d/rc", rc + "exit 0\n")
    _write(root, "/etc/init.d/setpasswd.sh", "#!/bin/sh\n")
    if problem == "fstab_data_disk":
        fstab += DATA_DISK_LINE
    _write(root, "/etc/fstab", fstab)
    _write(root, "/etc/hostname", "ecs-test\n")
    return root


def guest_disk(directory: Path, layout: Layout, problem: Problem | None = None) -> Path:
    """A raw guest disk in ``directory`` (fresh file names, so tests can share one)."""
    work = directory / f"guest-{uuid4().hex[:8]}"
    work.mkdir(parents=True)
    root_uuid, boot_partuuid = str(uuid4()), str(uuid4())
    fstab = (
        "# /etc/fstab: static file system information.\n"
        "proc /proc proc nodev,noexec,nosuid 0 0\n"
        f"UUID={root_uuid} / ext4 errors=remount-ro 0 1\n"
    )
    if layout == "gpt":
        fstab += f"PARTUUID={boot_partuuid} /boot ext4 defaults 0 2\n"
    elif layout == "mbr":
        fstab += f"PARTUUID={MBR_SIGNATURE}-01 /boot ext4 defaults 0 2\n"
    tree = root_tree(work / "root", fstab, problem)
    root_fs = work / "root.ext4"
    _run("mkfs.ext4", "-q", "-F", "-U", root_uuid, "-d", str(tree), str(root_fs), f"{ROOT_MIB}M")
    disk = work / "disk.raw"
    if layout == "whole":
        root_fs.rename(disk)
        return disk
    (work / "boot" / "grub").mkdir(parents=True)
    boot_fs = work / "boot.ext4"
    _run("mkfs.ext4", "-q", "-F", "-d", str(work / "boot"), str(boot_fs), f"{BOOT_MIB}M")
    boot_start, root_start = MIB // SECTOR, (1 + BOOT_MIB) * MIB // SECTOR
    with disk.open("wb") as file:
        file.truncate((2 + BOOT_MIB + ROOT_MIB) * MIB)  # room for GPT's backup at the end
    if layout == "mbr":
        script = (
            f"label: dos\nlabel-id: 0x{MBR_SIGNATURE}\n"
            f"start={boot_start}, size={BOOT_MIB * MIB // SECTOR}, type=83\n"
            f"start={root_start}, size={ROOT_MIB * MIB // SECTOR}, type=83\n"
        )
    else:
        script = (
            "label: gpt\n"
            f"start={boot_start}, size={BOOT_MIB * MIB // SECTOR}, type=L, uuid={boot_partuuid}\n"
            f"start={root_start}, size={ROOT_MIB * MIB // SECTOR}, type=L\n"
        )
    _run("sfdisk", "-q", str(disk), stdin=script)
    _copy_into(boot_fs, disk, boot_start * SECTOR)
    _copy_into(root_fs, disk, root_start * SECTOR)
    return disk


def _copy_into(source: Path, disk: Path, offset: int) -> None:
    with source.open("rb") as src, disk.open("r+b") as dst:
        dst.seek(offset)
        while chunk := src.read(MIB):
            dst.write(chunk)
