"""K4 on real disks: ext4 root file systems made by mkfs.ext4 -d, as a whole disk and
inside MBR and GPT partition tables, each carrying one of the problems of the user guide's
preparation steps (2.4), read by the preflight with sfdisk, blkid and debugfs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from schemas.events import OperatingSystem
from services.capture.adapters.disks import SourceDisk
from services.capture.adapters.preflight import inspect
from services.capture.adapters.tools import tool_path
from tests.guest_disks import LAYOUTS, PROBLEMS, Layout, Problem, guest_disk

UBUNTU = OperatingSystem(family="linux", distro="Ubuntu", version="22.04")
WINDOWS = OperatingSystem(family="windows", distro="Windows Server", version="2019 Datacenter")
PATHS = {
    "static_ip": "/etc/network/interfaces",
    "persistent_net_rules": "/etc/udev/rules.d/70-persistent-net.rules",
    "setpasswd_missing": "/etc/init.d/rc",
    "fstab_data_disk": "/etc/fstab",
}


def raw(path: Path) -> SourceDisk:
    return SourceDisk(path=path, format="raw", virtual_size=path.stat().st_size)


def scratch_in(directory: Path) -> Path:
    return directory / "scratch.raw"


def qcow2_of(disk: Path) -> Path:
    qcow2 = disk.with_suffix(".qcow2")
    convert = [tool_path("qemu-img"), "convert", "-f", "raw", "-O", "qcow2", str(disk), str(qcow2)]
    subprocess.run(convert, check=True, timeout=60)
    return qcow2


def make_swap(path: Path) -> None:
    subprocess.run([tool_path("mkswap"), str(path)], check=True, capture_output=True, timeout=30)


@pytest.mark.parametrize("layout", LAYOUTS)
async def test_a_prepared_guest_passes(tmp_path: Path, layout: Layout) -> None:
    disk = guest_disk(tmp_path, layout)

    preflight = await inspect(raw(disk), UBUNTU, lambda: scratch_in(tmp_path))

    assert (preflight.status, preflight.findings) == ("passed", [])


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("problem", PROBLEMS)
async def test_each_problem_is_found_alone_with_its_file(
    tmp_path: Path, layout: Layout, problem: Problem
) -> None:
    disk = guest_disk(tmp_path, layout, problem)

    preflight = await inspect(raw(disk), UBUNTU, lambda: scratch_in(tmp_path))

    assert preflight.status == "findings"
    assert [(f.code, f.path) for f in preflight.findings] == [(problem, PATHS[problem])]
    assert "参见 2.4" in preflight.findings[0].detail


async def test_a_qcow2_disk_is_inspected_through_a_raw_scratch_copy_that_goes_away(
    tmp_path: Path,
) -> None:
    disk = guest_disk(tmp_path, "gpt", "fstab_data_disk")
    qcow2 = qcow2_of(disk)
    source = SourceDisk(path=qcow2, format="qcow2", virtual_size=disk.stat().st_size)

    preflight = await inspect(source, UBUNTU, lambda: scratch_in(tmp_path))

    assert [f.code for f in preflight.findings] == ["fstab_data_disk"]
    assert not scratch_in(tmp_path).exists()


async def test_a_windows_disk_is_not_inspected(tmp_path: Path) -> None:
    disk = guest_disk(tmp_path, "mbr", "static_ip")  # would have a finding, if read

    preflight = await inspect(raw(disk), WINDOWS, lambda: scratch_in(tmp_path))

    assert preflight.status == "not_inspected"
    assert preflight.findings == []
    assert "Windows" in preflight.detail


async def test_an_unreadable_disk_is_not_inspected_not_an_error(tmp_path: Path) -> None:
    noise = tmp_path / "noise.raw"
    noise.write_bytes(os.urandom(2 * 1024 * 1024))

    preflight = await inspect(raw(noise), UBUNTU, lambda: scratch_in(tmp_path))

    assert preflight.status == "not_inspected"
    assert "ext2/ext3/ext4" in preflight.detail


async def test_a_swap_only_disk_says_what_it_found(tmp_path: Path) -> None:
    swap = tmp_path / "swap.raw"
    swap.write_bytes(bytes(4 * 1024 * 1024))
    make_swap(swap)

    preflight = await inspect(raw(swap), UBUNTU, lambda: scratch_in(tmp_path))

    assert preflight.status == "not_inspected"
    assert "swap" in preflight.detail
