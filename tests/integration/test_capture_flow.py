"""The walking skeleton end to end, through real Kafka, PostgreSQL and service processes:
CaptureRequested -> catalog (creating) -> capture -> ImageReady -> catalog (normal)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx

from ims_testkit.tokens import Issuer
from services.common.codec import encode
from tests.harness import Bus, ServiceProcess, body, eventually, token_for
from tests.integration import facts
from tests.stored_images import identical, sha256_of, stored_format


def get_image(
    catalog: ServiceProcess, issuer: Issuer, account: UUID, image_id: UUID
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token_for(issuer, account)}"}
    return httpx.get(catalog.url(f"/v1/images/{image_id}"), headers=headers, timeout=5)


async def stopped_host(bus: Bus, disks: Path) -> tuple[UUID, UUID]:
    """A new account's stopped host, announced as ECS would: (account id, host id)."""
    account, host_id = uuid4(), uuid4()
    disk = facts.make_disk(disks, 4096)
    await bus.send(facts.host(account, host_id, disk), subject=host_id, tenant=account)
    return account, host_id


async def wait_status(
    catalog: ServiceProcess, issuer: Issuer, account: UUID, image_id: UUID, status: str
) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        response = get_image(catalog, issuer, account, image_id)
        if response.status_code == 200 and response.json()["status"] == status:
            return dict(response.json())
        return None

    found: dict[str, Any] = await eventually(probe, timeout=90)
    return found


async def test_capture_of_a_stopped_host_reaches_normal(
    system: dict[str, ServiceProcess], bus: Bus, issuer: Issuer, tmp_path: Path
) -> None:
    account, host_id, image_id = uuid4(), uuid4(), uuid4()
    disk = facts.make_disk(tmp_path, 3 * 1024 * 1024 + 123)
    await bus.send(
        facts.account(account, f"acct-{account.hex[:8]}"), subject=account, tenant=account
    )
    await bus.send(
        facts.host(account, host_id, disk, name="TEST-G"), subject=host_id, tenant=account
    )
    await bus.send(facts.capture(account, host_id, image_id), subject=image_id, tenant=account)

    image = await wait_status(system["catalog"], issuer, account, image_id, "normal")

    assert image["status_label"] == "正常"
    stored = Path(system["capture"].env["IMS_IMAGE_STORE"]) / f"{image_id}.qcow2"
    assert image["disk_format"] == "qcow2"
    assert stored_format(stored) == "qcow2"
    assert identical(disk, stored)
    assert image["checksum_sha256"] == sha256_of(stored)
    assert image["size_bytes"] == stored.stat().st_size
    assert image["source"] == {"host_id": str(host_id), "host_name": "TEST-G"}
    assert image["os_label"] == "Ubuntu 22.04 64bit"
    assert image["system_disk_gb"] == 40
    assert image["publish_status_label"] == "未发布"
    ready = await bus.read("ImageReady", lambda rs: len(rs) >= 1, key=str(image_id))
    assert body(ready[0])["sequence"] > 1  # after CaptureAccepted and the progress reports
    # N4: the owner is told, and nobody else can see the private image.
    headers = {"Authorization": f"Bearer {token_for(issuer, account)}"}
    notices = await eventually(
        lambda: httpx.get(system["notifier"].url("/v1/notices"), headers=headers, timeout=5).json()
    )
    assert notices[0]["kind"] == "capture_succeeded"
    assert "创建成功" in notices[0]["text"]
    assert get_image(system["catalog"], issuer, uuid4(), image_id).status_code == 404
    stranger = {"Authorization": f"Bearer {token_for(issuer, uuid4())}"}
    notifier = system["notifier"]
    assert httpx.get(notifier.url("/v1/notices"), headers=stranger, timeout=5).json() == []
    mark = notifier.url(f"/v1/notices/{notices[0]['id']}/read")
    assert httpx.post(mark, headers=stranger, timeout=5).status_code == 404
    assert httpx.post(mark, headers=headers, timeout=5).status_code == 204


async def test_capture_of_a_running_host_fails_with_the_reason(
    system: dict[str, ServiceProcess], bus: Bus, issuer: Issuer, tmp_path: Path
) -> None:
    account, host_id, image_id = uuid4(), uuid4(), uuid4()
    disk = facts.make_disk(tmp_path, 64 * 1024)
    await bus.send(
        facts.host(account, host_id, disk, state="running"), subject=host_id, tenant=account
    )
    await bus.send(facts.capture(account, host_id, image_id), subject=image_id, tenant=account)

    image = await wait_status(system["catalog"], issuer, account, image_id, "failed")

    assert image["status_label"] == "失败"
    assert image["failure"]["code"] == "host_running"
    assert "请先关机" in image["failure"]["reason"]
    failed = await bus.read("CaptureFailed", lambda rs: len(rs) >= 1, key=str(image_id))
    assert body(failed[0])["data"]["code"] == "host_running"
    image_store = Path(system["capture"].env["IMS_IMAGE_STORE"])
    assert not list(image_store.glob(f"*{image_id}*"))


async def test_the_same_capture_request_twice_has_one_effect(
    system: dict[str, ServiceProcess], bus: Bus, issuer: Issuer, tmp_path: Path
) -> None:
    catalog = system["catalog"]
    (account, host_id), image_id = await stopped_host(bus, tmp_path), uuid4()
    request = facts.capture(account, host_id, image_id)
    duplicates_before = catalog.metric("ims_events_duplicate_total")

    first = await bus.send(request, subject=image_id, tenant=account)
    await bus.send_raw("CaptureRequested", str(image_id), encode(first))  # redelivery: same id
    await bus.send(request, subject=image_id, tenant=account)  # a retry: new id, same image

    await wait_status(catalog, issuer, account, image_id, "normal")
    await eventually(lambda: catalog.metric("ims_events_duplicate_total") >= duplicates_before + 1)
    accepted = await bus.read("CaptureAccepted", lambda rs: len(rs) >= 1, key=str(image_id))
    ready = await bus.read("ImageReady", lambda rs: len(rs) >= 1, key=str(image_id))
    assert len(accepted) == 1
    assert len(ready) == 1


async def test_a_malformed_record_is_dead_lettered_and_the_stream_moves_on(
    system: dict[str, ServiceProcess], bus: Bus, issuer: Issuer, tmp_path: Path
) -> None:
    poison_key = f"poison-{uuid4()}"
    poison = b'{"specversion": "1.0", "type": "ims.CaptureRequested.v1", "oops'
    # Kafka headers may repeat a key and may carry no value at all.
    headers: list[tuple[str, bytes | None]] = [("trace", None), ("trace", b"\xff")]
    await bus.send_raw("CaptureRequested", poison_key, poison, headers)
    (account, host_id), image_id = await stopped_host(bus, tmp_path), uuid4()
    await bus.send(facts.capture(account, host_id, image_id), subject=image_id, tenant=account)

    await wait_status(system["catalog"], issuer, account, image_id, "normal")

    def is_ours(records: list[Any]) -> bool:
        return any(body(r)["data"]["key_base64"] == _b64(poison_key.encode()) for r in records)

    letters = [body(r) for r in await bus.read("DeadLetter", is_ours)]
    letter = next(x for x in letters if x["data"]["key_base64"] == _b64(poison_key.encode()))
    assert letter["data"]["value_base64"] == _b64(poison)
    assert letter["data"]["value_size"] == len(poison)
    assert letter["data"]["headers"] == [
        {"key": "trace"},  # null fields are left out on the wire
        {"key": "trace", "value_base64": _b64(b"\xff")},
    ]
    assert letter["data"]["reason"].startswith("not JSON")
    assert letter["data"]["topic"] == bus.topic("CaptureRequested")
    assert letter["data"]["consumer"].endswith("ims-catalog")


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


async def test_a_disk_outside_block_storage_is_never_read(
    system: dict[str, ServiceProcess], bus: Bus, issuer: Issuer
) -> None:
    account, host_id, image_id = uuid4(), uuid4(), uuid4()
    ecs_says = facts.host(account, host_id, Path("/etc/hostname"))
    await bus.send(ecs_says, subject=host_id, tenant=account)
    await bus.send(facts.capture(account, host_id, image_id), subject=image_id, tenant=account)

    image = await wait_status(system["catalog"], issuer, account, image_id, "failed")

    assert image["failure"]["code"] == "disk_unreadable"
    assert "/etc" not in image["failure"]["reason"]  # no internal paths for tenants


async def test_a_request_for_someone_elses_image_id_is_dead_lettered(
    system: dict[str, ServiceProcess], bus: Bus, issuer: Issuer, tmp_path: Path
) -> None:
    (owner, host_id), image_id = await stopped_host(bus, tmp_path), uuid4()
    await bus.send(facts.capture(owner, host_id, image_id), subject=image_id, tenant=owner)
    await wait_status(system["catalog"], issuer, owner, image_id, "normal")
    intruder = uuid4()
    sent = await bus.send(
        facts.capture(intruder, uuid4(), image_id), subject=image_id, tenant=intruder
    )

    def is_ours(records: list[Any]) -> bool:
        return any(body(r)["data"].get("event_id") == str(sent.id) for r in records)

    letters = [body(r) for r in await bus.read("DeadLetter", is_ours)]
    letter = next(x for x in letters if x["data"].get("event_id") == str(sent.id))
    assert letter["data"]["error_type"] == "Rejected"
    assert "taken by another image" in letter["data"]["reason"]
    assert get_image(system["catalog"], issuer, owner, image_id).json()["status"] == "normal"


async def test_a_stale_host_fact_does_not_undo_a_newer_one(
    system: dict[str, ServiceProcess], bus: Bus, issuer: Issuer, tmp_path: Path
) -> None:
    account, host_id, image_id = uuid4(), uuid4(), uuid4()
    disk = facts.make_disk(tmp_path, 4096)
    stopped = facts.host(account, host_id, disk, state="stopped")
    running = facts.host(account, host_id, disk, state="running")
    await bus.send(stopped, subject=host_id, tenant=account, sequence=2, source="/ecs")
    await bus.send(running, subject=host_id, tenant=account, sequence=1, source="/ecs")  # late
    await bus.send(facts.capture(account, host_id, image_id), subject=image_id, tenant=account)

    await wait_status(system["catalog"], issuer, account, image_id, "normal")
