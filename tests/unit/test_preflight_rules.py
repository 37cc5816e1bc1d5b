"""The preflight's rules on file contents (no disks): what counts as each problem."""

from __future__ import annotations

from schemas.events import PreflightFinding
from services.capture.domain import preflight as rules

SYSTEM = rules.SystemDisk(
    uuids=frozenset(
        {"8964a32e-81a0-4f96-8ee1-74934fa82809", "5d23cc38-d4db-40c6-9548-1d9144e06c74"}
    ),
    labels=frozenset({"cloudimg-rootfs"}),
    partuuids=frozenset({"1a2b3c4d-01"}),
)


def codes(findings: list[PreflightFinding]) -> list[str]:
    return [f.code for f in findings]


def test_interfaces_static_stanzas_are_found_but_loopback_and_comments_are_not() -> None:
    text = "auto lo\niface lo inet loopback\n# iface eth0 inet static\niface eth0 inet dhcp\n"
    assert rules.interfaces("/etc/network/interfaces", text) == []
    text += "iface eth1 inet static\n  address 10.0.0.2\n"
    [finding] = rules.interfaces("/etc/network/interfaces", text)
    assert "eth1" in finding.detail
    assert "eth0" not in finding.detail


def test_ifcfg_needs_dhcp_and_a_persistent_dhclient() -> None:
    path = "/etc/sysconfig/network-scripts/ifcfg-eth0"
    assert rules.ifcfg(path, 'BOOTPROTO=dhcp\nPERSISTENT_DHCLIENT="y"\n') == []
    assert rules.ifcfg(path, "BOOTPROTO='dhcp'\nPERSISTENT_DHCLIENT=yes\n") == []
    assert codes(rules.ifcfg(path, "BOOTPROTO=dhcp\n")) == ["static_ip"]
    assert codes(rules.ifcfg(path, 'BOOTPROTO=static\nPERSISTENT_DHCLIENT="y"\n')) == ["static_ip"]
    assert codes(rules.ifcfg(path, "DEVICE=eth0\nIPADDR=10.0.0.2\n")) == ["static_ip"]  # none
    assert "PERSISTENT_DHCLIENT" in rules.ifcfg(path, "BOOTPROTO=dhcp\n")[0].detail
    assert rules.is_ifcfg_eth("ifcfg-eth0")
    assert rules.is_ifcfg_eth("ifcfg-eth12")
    assert not rules.is_ifcfg_eth("ifcfg-lo")
    assert not rules.is_ifcfg_eth("ifcfg-eth0.bak")


def test_udev_rules_named_persistent_and_net_are_found() -> None:
    names = ["70-persistent-net.rules", "30-net_persistent-names.rules", "99-local.rules",
             "70-persistent-cd.rules", "70-persistent-net.rules.bak"]  # fmt: skip
    found = rules.udev_rules("/etc/udev/rules.d", names)
    assert [f.path for f in found] == [
        "/etc/udev/rules.d/30-net_persistent-names.rules",
        "/etc/udev/rules.d/70-persistent-net.rules",
    ]


def test_setpasswd_in_any_rc_file_is_enough_and_a_comment_does_not_count() -> None:
    line = "sh /etc/init.d/setpasswd.sh\n"
    assert rules.rc_files({"/etc/init.d/rc": None, "/etc/rc.d/rc": line}, red_hat_family=True) == []
    commented = {"/etc/init.d/rc": "# " + line + "exit 0\n", "/etc/rc.d/rc": None}
    [finding] = rules.rc_files(commented, red_hat_family=False)
    assert (finding.code, finding.path) == ("setpasswd_missing", "/etc/init.d/rc")
    [centos] = rules.rc_files({"/etc/init.d/rc": None, "/etc/rc.d/rc": None}, red_hat_family=True)
    assert centos.path == "/etc/rc.d/rc"


def test_fstab_flags_only_disks_other_than_the_system_disk() -> None:
    fstab = """
proc /proc proc nodev,noexec,nosuid 0 0
UUID=8964a32e-81a0-4f96-8ee1-74934fa82809 / ext3 errors=remount-ro 0 1
UUID=5D23CC38-D4DB-40C6-9548-1D9144E06C74 none swap sw 0 0
LABEL=cloudimg-rootfs /srv ext4 defaults 0 2
PARTUUID=1a2b3c4d-01 /boot ext4 defaults 0 2
/dev/vda3 /var ext4 defaults 0 2
/dev/mapper/vg-data /data ext4 defaults 0 2
tmpfs /tmp tmpfs defaults 0 0
nfs.example:/export /mnt/nfs nfs defaults 0 0
"""
    assert rules.fstab("/etc/fstab", fstab, SYSTEM) == []
    data_disks = [
        "UUID=1924c5ad-d63f-4b0b-a658-2ae9e4d9a03d /mnt/test ext4 defaults 0 2",
        "/dev/xvde1 /mnt/test ext4 defaults 0 2",
        "/dev/vdb /data xfs defaults 0 0",
        "LABEL=data /data ext4 defaults,nofail 0 2",
        "/dev/disk/by-uuid/0000aaaa-0000-0000-0000-000000000000 /d ext4 defaults 0 2",
    ]
    for line in data_disks:
        [finding] = rules.fstab("/etc/fstab", fstab + line + "\n", SYSTEM)
        assert finding.code == "fstab_data_disk"
        assert line.split()[0] in finding.detail
