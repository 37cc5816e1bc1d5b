"""Real captures through Kafka, PostgreSQL and service processes: a sparse 1 GiB disk becomes
an identical qcow2 (K3), the guest preflight of real ext4 disks reaches the image and its
facts and strict mode refuses (K4), a Windows host's image keeps the source password (K5),
another tenant's host is refused (K1), and the hosts API shows a tenant only its own hosts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx

from ims_testkit.tokens import Issuer
from schemas.events import OperatingSystem
from tests.guest_disks import guest_disk
from tests.harness import Bus, ServiceProcess, body, eventually, token_for
from tests.integration import facts
from tests.integration.console import Console
from tests.stored_images import identical, sha256_of, stored_format

GIB, MIB = 1024**3, 1024**2
WINDOWS = OperatingSystem(family="windows", distro="Windows Server", version="2019 Datacenter")


def sparse_disk(directory: Path) -> Path:
    """A 1 GiB raw disk, mostly holes, with 1 MiB of random data at offsets a GiB apart
    from each other in proportion: its start, a quarter, two thirds and its last MiB."""
    path = directory / f"sparse-{uuid4()}.raw"
    with path.open("wb") as file:
        file.truncate(GIB)
        for offset in (0, GIB // 4 + 4096, 2 * GIB // 3, GIB - MIB):
            file.seek(offset)
            file.write(os.urandom(MIB))
    return path


async def announce(bus: Bus, account: UUID, disk: Path, **host: Any) -> UUID:
    host_id = uuid4()
    await bus.send(facts.host(account, host_id, disk, **host), subject=host_id, tenant=account)
    return host_id


async def request(bus: Bus, account: UUID, host_id: UUID, *, strict: bool = False) -> UUID:
    image_id = uuid4()
    capture = facts.capture(account, host_id, image_id, strict_preflight=strict)
    await bus.send(capture, subject=image_id, tenant=account)
    return image_id


async def finished(console: Console, image_id: UUID) -> dict[str, Any]:
    """The image's detail once its capture ended, normal or failed."""

    def probe() -> dict[str, Any] | None:
        response = console.image(image_id)
        if response.status_code == 200 and response.json()["status"] in ("normal", "failed"):
            return dict(response.json())
        return None

    found: dict[str, Any] = await eventually(probe, timeout=120)
    return found


async def fact(bus: Bus, event: str, image_id: UUID) -> dict[str, Any]:
    records = await bus.read(event, lambda rs: len(rs) >= 1, key=str(image_id))
    data: dict[str, Any] = body(records[0])["data"]
    return data


def store_of(system: dict[str, ServiceProcess]) -> Path:
    return Path(system["capture"].env["IMS_IMAGE_STORE"])


async def test_a_sparse_gib_disk_becomes_an_identical_qcow2(
    system: dict[str, ServiceProcess], bus: Bus, issuer: Issuer, tmp_path: Path
) -> None:
    alice = Console(system["catalog"], issuer)
    disk = sparse_disk(tmp_path)
    image_id = await request(bus, alice.account_id, await announce(bus, alice.account_id, disk))

    image = await finished(alice, image_id)

    assert image["status"] == "normal", image["failure"]
    stored = store_of(system) / f"{image_id}.qcow2"
    assert stored_format(stored) == "qcow2"
    assert identical(disk, stored)  # qemu-img compare: the guest sees the same disk
    assert image["checksum_sha256"] == sha256_of(stored)
    assert image["size_bytes"] == stored.stat().st_size
    assert image["size_bytes"] < 64 * MIB  # the holes are not stored
    ready = await fact(bus, "ImageReady", image_id)
    assert ready["virtual_size_bytes"] == GIB
    assert ready["checksum_sha256"] == image["checksum_sha256"]
    assert not list(store_of(system).glob(f".{image_id}.*"))  # nothing staged is left


async def test_the_guest_preflight_is_on_the_image_and_in_its_fact(
    system: dict[str, ServiceProcess], bus: Bus, issuer: Issuer, tmp_path: Path
) -> None:
    alice = Console(system["catalog"], issuer)
    dirty = guest_disk(tmp_path, "mbr", "fstab_data_disk")
    clean = guest_disk(tmp_path, "gpt")
    dirty_id = await request(bus, alice.account_id, await announce(bus, alice.account_id, dirty))
    clean_id = await request(bus, alice.account_id, await announce(bus, alice.account_id, clean))

    found, passed = await finished(alice, dirty_id), await finished(alice, clean_id)

    assert (found["status"], passed["status"]) == ("normal", "normal")  # not strict
    [finding] = found["preflight"]["findings"]
    assert (finding["code"], finding["path"]) == ("fstab_data_disk", "/etc/fstab")
    assert found["preflight"]["status"] == "findings"
    assert passed["preflight"] == {**passed["preflight"], "status": "passed", "findings": []}
    assert found["keeps_source_password"] is False
    assert found["password_notice"] is None
    ready = await fact(bus, "ImageReady", dirty_id)
    assert ready["preflight"]["status"] == "findings"
    assert [f["code"] for f in ready["preflight"]["findings"]] == ["fstab_data_disk"]
    assert ready["keeps_source_password"] is False
    # Lists stay small: the guest's findings are in the owner's detail only.
    [row] = [i for i in alice.private_tab()["items"] if i["id"] == str(dirty_id)]
    assert row["preflight"] is None


async def test_strict_preflight_refuses_a_guest_with_findings_and_keeps_nothing(
    system: dict[str, ServiceProcess], bus: Bus, issuer: Issuer, tmp_path: Path
) -> None:
    alice = Console(system["catalog"], issuer)
    dirty = guest_disk(tmp_path, "whole", "setpasswd_missing")
    clean = guest_disk(tmp_path, "whole")
    refused_id = await request(
        bus, alice.account_id, await announce(bus, alice.account_id, dirty), strict=True
    )
    clean_id = await request(
        bus, alice.account_id, await announce(bus, alice.account_id, clean), strict=True
    )

    refused, passed = await finished(alice, refused_id), await finished(alice, clean_id)

    assert refused["status"] == "failed"
    assert refused["failure"]["code"] == "preflight_refused"
    assert "[setpasswd_missing] /etc/init.d/rc" in refused["failure"]["reason"]
    assert [f["code"] for f in refused["preflight"]["findings"]] == ["setpasswd_missing"]
    failed = await fact(bus, "CaptureFailed", refused_id)
    assert failed["code"] == "preflight_refused"
    assert [f["path"] for f in failed["preflight"]["findings"]] == ["/etc/init.d/rc"]
    assert not list(store_of(system).glob(f"*{refused_id}*"))
    assert passed["status"] == "normal"  # strict mode refuses findings, not clean guests
    assert passed["preflight"]["status"] == "passed"


async def test_a_windows_host_keeps_its_password_and_is_not_inspected(
    system: dict[str, ServiceProcess], bus: Bus, issuer: Issuer, tmp_path: Path
) -> None:
    alice = Console(system["catalog"], issuer)
    disk = facts.make_disk(tmp_path, 2 * MIB)
    host_id = await announce(bus, alice.account_id, disk, os=WINDOWS, name="win-01")
    image_id = await request(bus, alice.account_id, host_id, strict=True)

    image = await finished(alice, image_id)

    assert image["status"] == "normal"  # not inspected is no finding, even when strict
    assert image["keeps_source_password"] is True
    assert "源云主机的密码" in image["password_notice"]
    assert image["preflight"]["status"] == "not_inspected"
    assert image["preflight"]["findings"] == []
    english = Console(system["catalog"], issuer, alice.account_id, language="en")
    assert "password of the host" in english.image(image_id).json()["password_notice"]
    ready = await fact(bus, "ImageReady", image_id)
    assert ready["keeps_source_password"] is True
    assert ready["preflight"]["status"] == "not_inspected"
    assert ready["min_memory_mb"] == 2048


async def test_another_tenants_host_is_refused_like_a_missing_one(
    system: dict[str, ServiceProcess], bus: Bus, issuer: Issuer, tmp_path: Path
) -> None:
    owner, intruder = uuid4(), Console(system["catalog"], issuer)
    host_id = await announce(bus, owner, facts.make_disk(tmp_path, MIB), name="not-yours")
    image_id = await request(bus, intruder.account_id, host_id)

    image = await finished(intruder, image_id)

    assert image["status"] == "failed"
    assert image["failure"]["code"] == "host_unknown"  # nothing said of whose host it is
    assert "not-yours" not in image["failure"]["reason"]
    assert not list(store_of(system).glob(f"*{image_id}*"))
    assert (await fact(bus, "CaptureFailed", image_id))["code"] == "host_unknown"


async def test_the_hosts_api_lists_my_hosts_only(
    system: dict[str, ServiceProcess], bus: Bus, issuer: Issuer, tmp_path: Path
) -> None:
    capture, alice = system["capture"], uuid4()
    disk = facts.make_disk(tmp_path, 4096)
    stopped = await announce(bus, alice, disk, name="a-stopped")
    await announce(bus, alice, disk, name="b-running", state="running")
    await announce(bus, alice, disk, name="c-win", os=WINDOWS)
    await announce(bus, alice, disk, name="d-deleted", state="deleted")
    await announce(bus, uuid4(), disk, name="e-someone-elses")
    headers = {"Authorization": f"Bearer {token_for(issuer, alice)}"}

    def hosts(**params: Any) -> httpx.Response:
        return httpx.get(capture.url("/v1/hosts"), headers=headers, params=params, timeout=5)

    def all_three() -> list[dict[str, Any]] | None:
        listed: list[dict[str, Any]] = hosts().json()["items"]
        return listed if len(listed) == 3 else None

    items = await eventually(all_three)

    assert [h["name"] for h in items] == ["a-stopped", "b-running", "c-win"]
    assert items[0] == {
        **items[0],
        "host_id": str(stopped),
        "state": "stopped",
        "state_label": "关机",
        "capturable": True,
        "os_label": "Ubuntu 22.04 64bit",
        "system_disk_gb": 40,
    }
    assert (items[1]["state_label"], items[1]["capturable"]) == ("运行中", False)
    assert items[2]["os"]["family"] == "windows"
    assert [h["name"] for h in hosts(state="stopped").json()["items"]] == ["a-stopped", "c-win"]
    first = hosts(limit=2).json()
    rest = hosts(limit=2, cursor=first["next_cursor"]).json()
    assert [h["name"] for h in first["items"] + rest["items"]] == [
        "a-stopped",
        "b-running",
        "c-win",
    ]
    assert rest["next_cursor"] is None

    anonymous = httpx.get(capture.url("/v1/hosts"), timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    bad_cursor = hosts(cursor="not-a-cursor")
    assert (bad_cursor.status_code, bad_cursor.json()["code"]) == (400, "invalid_cursor")
    assert bad_cursor.headers["content-type"].startswith("application/problem+json")
    stranger = {"Authorization": f"Bearer {token_for(issuer, uuid4())}"}
    assert httpx.get(capture.url("/v1/hosts"), headers=stranger, timeout=5).json()["items"] == []
