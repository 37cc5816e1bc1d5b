"""The guest preflight's rules (K4), without I/O: what in a guest's files the user guide's
preparation steps (2.4.1-2.4.4) say to change before a private image is made of it.

Each finding has a stable code, the guest file it comes from and what to do, in the guide's
words (zh-CN).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from schemas.events import OperatingSystem, Preflight, PreflightFinding

STATIC_IP = "static_ip"
PERSISTENT_NET_RULES = "persistent_net_rules"
SETPASSWD_MISSING = "setpasswd_missing"
FSTAB_DATA_DISK = "fstab_data_disk"

INTERFACES = "/etc/network/interfaces"
INTERFACES_D = "/etc/network/interfaces.d"
NETWORK_SCRIPTS = "/etc/sysconfig/network-scripts"
UDEV_RULES = "/etc/udev/rules.d"
RC_FILES = ("/etc/init.d/rc", "/etc/rc.d/rc")  # Ubuntu and SUSE; CentOS (guide 2.4.3)
FSTAB = "/etc/fstab"
SETPASSWD = "sh /etc/init.d/setpasswd.sh"

WINDOWS = (
    "Windows 云主机的系统盘不做预检；请确认已按 2.3 配置 Windows 云主机将网卡设置为 DHCP 方式。"
)
UNREADABLE = "无法读取系统盘的文件系统，未做预检。"
_RED_HAT = ("centos", "red hat", "rhel", "oracle", "euler", "fedora", "rocky", "alma")

_DHCP_HINT = "请将网卡设置为 DHCP 方式动态获取网络地址（参见 2.4.1 设置云主机的网卡属性）。"


def not_inspected(detail: str) -> Preflight:
    return Preflight(status="not_inspected", detail=detail)


def result(findings: list[PreflightFinding]) -> Preflight:
    return Preflight(status="findings" if findings else "passed", findings=findings)


def no_root(fs_types: Iterable[str]) -> Preflight:
    """A disk without an ext2/3/4 root file system: not inspected, saying what it holds."""
    kinds = "、".join(sorted(set(fs_types))) or "无"
    return not_inspected(
        f"未找到 ext2/ext3/ext4 格式的根文件系统（系统盘上的文件系统：{kinds}），未做预检。"
    )


def is_red_hat_family(os: OperatingSystem) -> bool:
    """The distributions whose rc file is /etc/rc.d/rc (guide 2.4.3)."""
    return any(word in os.distro.lower() for word in _RED_HAT)


def _finding(code: str, path: str, detail: str) -> PreflightFinding:
    return PreflightFinding(code=code, path=path, detail=detail)


def _lines(text: str) -> Iterable[str]:
    """The file's lines without comments and blank ones."""
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            yield line


def interfaces(path: str, text: str) -> list[PreflightFinding]:
    """Debian/Ubuntu: an ``iface <nic> inet static`` stanza (any NIC but loopback)."""
    static = []
    for line in _lines(text):
        words = line.split()
        is_static = len(words) >= 4 and words[0] == "iface" and words[3] == "static"
        if is_static and words[1] != "lo":
            static.append(words[1])
    if not static:
        return []
    nics = "、".join(static)
    return [_finding(STATIC_IP, path, f"网卡 {nics} 配置为静态 IP 地址。{_DHCP_HINT}")]


_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_TRUE = {"y", "yes", "1", "true"}


def ifcfg(path: str, text: str) -> list[PreflightFinding]:
    """Red Hat family: ``BOOTPROTO`` not dhcp, or dhcp without ``PERSISTENT_DHCLIENT="y"``."""
    values: dict[str, str] = {}
    for line in _lines(text):
        if (match := _ASSIGNMENT.match(line)) is not None:
            values[match.group(1).upper()] = match.group(2).strip().strip("'\"").lower()
    nic = path.rsplit("/", 1)[-1].removeprefix("ifcfg-")
    if values.get("BOOTPROTO", "none") not in ("dhcp", "bootp"):
        detail = f"网卡 {nic} 的 BOOTPROTO 为静态地址。{_DHCP_HINT}"
        return [_finding(STATIC_IP, path, detail)]
    if values.get("PERSISTENT_DHCLIENT", "") not in _TRUE:
        detail = (
            f'网卡 {nic} 的配置文件中缺少 PERSISTENT_DHCLIENT="y"，请添加'
            "（参见 2.4.1 设置云主机的网卡属性）。"
        )
        return [_finding(STATIC_IP, path, detail)]
    return []


def is_ifcfg_eth(name: str) -> bool:
    return re.fullmatch(r"ifcfg-eth[0-9]+(:[0-9]+)?", name) is not None


def udev_rules(directory: str, names: Iterable[str]) -> list[PreflightFinding]:
    """A rules file whose name holds both "persistent" and "net" (guide 2.4.2)."""
    return [
        _finding(
            PERSISTENT_NET_RULES,
            f"{directory}/{name}",
            "网络规则目录下残留文件名同时包含“persistent”和“net”的规则文件，请删除"
            "（参见 2.4.2 清理网络规则文件）。",
        )
        for name in sorted(names)
        if name.endswith(".rules") and "persistent" in name and "net" in name
    ]


_SETPASSWD_LINE = re.compile(r"^sh\s+/etc/init\.d/setpasswd\.sh(\s|;|$)")


def rc_files(found: Mapping[str, str | None], *, red_hat_family: bool) -> list[PreflightFinding]:
    """``sh /etc/init.d/setpasswd.sh`` in the rc file (guide 2.4.3). ``found`` maps each rc
    file to its text, or None where the guest has none."""
    present = {path: text for path, text in found.items() if text is not None}
    for text in present.values():
        if any(_SETPASSWD_LINE.match(line) for line in _lines(text)):
            return []
    # Neither exists: name the one the guide names for this distribution.
    expected = RC_FILES[1] if red_hat_family else RC_FILES[0]
    path = next(iter(present)) if present else expected
    detail = (
        f"rc 文件中不包含“{SETPASSWD}”语句，由私有镜像创建的云主机将无法设置密码；请在文件"
        f"最后的“exit 0”前一行（无“exit 0”时在最后一行）输入“{SETPASSWD}”"
        "（参见 2.4.3 配置云主机的密码属性）。"
    )
    return [_finding(SETPASSWD_MISSING, path, detail)]


@dataclass(frozen=True)
class SystemDisk:
    """How the guest may name file systems on the system disk: its partitions' UUIDs and
    labels, and the file systems' (and swap areas') UUIDs and labels."""

    uuids: frozenset[str] = field(default_factory=frozenset)
    labels: frozenset[str] = field(default_factory=frozenset)
    partuuids: frozenset[str] = field(default_factory=frozenset)
    partlabels: frozenset[str] = field(default_factory=frozenset)


# Not disks: kernel, memory and network file systems.
_NOT_DISKS = {
    "proc", "sysfs", "devpts", "tmpfs", "devtmpfs", "cgroup", "cgroup2", "securityfs",
    "debugfs", "hugetlbfs", "mqueue", "pstore", "bpf", "efivarfs", "configfs", "fusectl",
    "binfmt_misc", "autofs", "nfs", "nfs4", "cifs", "smbfs", "glusterfs", "ceph", "9p",
    "fuse.sshfs", "none", "overlay",
}  # fmt: skip
# The system disk's own device names (first virtio, SCSI/SATA, Xen or IDE disk); LVM and
# device-mapper names say nothing of the disk beneath them.
_SYSTEM_DEVICE = re.compile(r"^/dev/((vda|sda|xvda|hda)[0-9]*|nvme0n1(p[0-9]+)?)$")
_OTHER_DISK = re.compile(r"^/dev/((vd|sd|xvd|hd)[a-z]+[0-9]*|nvme[0-9]+n[0-9]+(p[0-9]+)?)$")


def fstab(path: str, text: str, disk: SystemDisk) -> list[PreflightFinding]:
    """An entry for a disk other than the system disk (guide 2.4.4)."""
    findings = []
    for line in _lines(text):
        fields = line.split()
        if len(fields) < 3 or fields[2] in _NOT_DISKS or fields[1] == "/":
            continue
        if _is_data_disk(fields[0], disk):
            findings.append(
                _finding(
                    FSTAB_DATA_DISK,
                    path,
                    f"/etc/fstab 中有数据盘的配置信息（{fields[0]} {fields[1]}），由私有镜像"
                    "创建的云主机可能无法使用；请卸载数据盘并删除其在 fstab 文件中的配置信息"
                    "（参见 2.4.4 卸载云主机的数据盘）。",
                )
            )
    return findings


def _is_data_disk(spec: str, disk: SystemDisk) -> bool:
    key, _, value = spec.partition("=")
    if value:
        known = {
            "UUID": disk.uuids,
            "LABEL": disk.labels,
            "PARTUUID": disk.partuuids,
            "PARTLABEL": disk.partlabels,
        }.get(key.upper())
        if known is None:
            return False
        name = value.strip("\"'")
        return (name.lower() if key.upper() in ("UUID", "PARTUUID") else name) not in known
    for prefix, known in (
        ("/dev/disk/by-uuid/", disk.uuids),
        ("/dev/disk/by-label/", disk.labels),
        ("/dev/disk/by-partuuid/", disk.partuuids),
    ):
        if spec.startswith(prefix):
            name = spec.removeprefix(prefix)
            return (name if prefix.endswith("label/") else name.lower()) not in known
    return _OTHER_DISK.match(spec) is not None and _SYSTEM_DEVICE.match(spec) is None
