"""Networking stays on loopback: every socket the containers listen on is 127.0.0.1, and
the engine runs them on the host network (no bridge, so no interface of its own)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from deploy.containers.engine import Engine, network_interfaces
from ims_testkit import SERVICES, RunningIms
from tests.containers.conftest import BUILD_TIMEOUT_S

pytestmark = [pytest.mark.containers, pytest.mark.timeout(BUILD_TIMEOUT_S)]

LISTEN = "0A"


def _listening() -> dict[int, str]:
    """inode -> local address of every listening TCP socket of the host's network."""
    found: dict[int, str] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == LISTEN:
                found[int(fields[9])] = _address(fields[1])
    return found


def _address(hex_address: str) -> str:
    """/proc/net/tcp's `0100007F:1F90` as `127.0.0.1:8080`; an IPv4-mapped IPv6 address
    (Java's sockets) as the IPv4 address it is."""
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    # The kernel prints each 32-bit word in host (little-endian) byte order.
    ordered = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(ordered)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return f"{address}:{int(port, 16)}"


def _processes_of(container_id: str) -> list[Path]:
    """Every process of a container: their cgroups name the container's id."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and container_id in (entry / "cgroup").read_text():
                found.append(entry)
        except OSError:
            continue
    return found


def _socket_inodes(process: Path) -> set[int]:
    inodes = set()
    for fd in (process / "fd").glob("*"):
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def test_every_container_listens_on_127_0_0_1_only(ims: RunningIms) -> None:
    listening = _listening()
    for component in ("kafka", "postgres", *SERVICES):
        processes = _processes_of(ims.container_id(component))
        assert processes, f"no process found for {component}"
        inodes = set().union(*(_socket_inodes(p) for p in processes))
        addresses = sorted(listening[i] for i in inodes if i in listening)
        assert addresses, f"{component} listens nowhere"
        assert all(a.startswith("127.0.0.1:") for a in addresses), (component, addresses)


def test_the_engine_added_no_network_interface(docker_engine: Engine, ims: RunningIms) -> None:
    if docker_engine.interfaces_before is None:
        pytest.skip("an engine that was already running: its interfaces are not ours to judge")
    assert network_interfaces() == docker_engine.interfaces_before
