"""C6: the private image quota, with two catalog processes and no capture running (so every
accepted image stays `creating` and holds its slot):

- never exceeded under concurrency, from the API (20 creates at once with 10 free: exactly
  10 accepted) and from CaptureRequested events other services produce alike (over quota
  they become failed images with code quota_exceeded, a CaptureRefused fact, and a notice);
- the 11th image is refused with the seed's words; the private tab says what is left;
- an admin raises an account's quota; a tenant cannot (403), nor call any admin route;
- a `creating` image can be neither modified nor deleted (409): it is capture's until it ends.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from aiokafka.partitioner import DefaultPartitioner

from ims_testkit.tokens import Issuer
from schemas.topics import TOPICS
from tests.harness import Bus, ServiceProcess, body, eventually, service_process
from tests.infra import TestStack
from tests.integration import facts
from tests.integration.announced import seeded_images_announced_once
from tests.integration.conftest import Spawn, own_deployment
from tests.integration.console import Console


@pytest.fixture(scope="module")
def quota_deployment(stack: TestStack) -> Iterator[TestStack]:
    with own_deployment(stack) as own:
        yield own


@pytest.fixture(scope="module")
def catalogs(
    quota_deployment: TestStack, issuer: Issuer
) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    """Two catalog processes of one deployment (one consumer group, one database), shared
    by this module's tests, each of which works with accounts of its own."""
    pair = [service_process(quota_deployment, "catalog", issuer=issuer) for _ in "12"]
    try:
        for process in pair:
            process.start()
        for process in pair:
            process.wait_healthy()
        yield pair[0], pair[1]
    finally:
        for process in pair:
            process.stop()


async def count_held(stack: TestStack, account_id: UUID) -> dict[str, int]:
    conn = await asyncpg.connect(stack.dsns["catalog"], server_settings={"search_path": "catalog"})
    try:
        rows = await conn.fetch(
            "SELECT status, count(*) FROM images WHERE owner_account_id = $1 GROUP BY status",
            account_id,
        )
    finally:
        await conn.close()
    return {row["status"]: row["count"] for row in rows}


async def test_twenty_concurrent_creates_with_ten_free_accept_exactly_ten(
    quota_deployment: TestStack,
    catalogs: tuple[ServiceProcess, ServiceProcess],
    issuer: Issuer,
) -> None:
    alice = Console(catalogs[0], issuer)
    host_id = uuid4()  # no host facts: nothing runs the captures here anyway

    async def create(catalog: ServiceProcess, n: int) -> httpx.Response:
        async with httpx.AsyncClient(headers=alice.headers, timeout=30) as client:
            return await client.post(
                catalog.url("/v1/images"), json={"host_id": str(host_id), "name": f"img-{n}"}
            )

    responses = await asyncio.gather(*(create(catalogs[n % 2], n) for n in range(20)))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {202: 10, 409: 10}, [r.text for r in responses]
    refused = [r.json() for r in responses if r.status_code == 409]
    assert {p["code"] for p in refused} == {"quota_exceeded"}
    assert refused[0]["quota"] == {"limit": 10, "used": 10, "remaining": 0}
    assert await count_held(quota_deployment, alice.account_id) == {"creating": 10}

    # Each accepted request went out as CaptureRequested and came back accepted, once.
    accepted_ids = {r.json()["image_id"] for r in responses if r.status_code == 202}
    async with Bus(quota_deployment) as bus:
        records = await bus.read(
            "CaptureAccepted",
            lambda rs: accepted_ids <= {body(r)["data"]["image_id"] for r in rs},
        )
    event_ids: dict[str, set[str]] = {}
    for record in records:
        event_ids.setdefault(body(record)["subject"], set()).add(body(record)["id"])
    assert set(event_ids) == accepted_ids
    assert {len(ids) for ids in event_ids.values()} == {1}  # one fact each, however sent

    # The 11th, later and alone, is refused just the same, in the seed's words.
    eleventh = alice.create(host_id, "img-11")
    assert eleventh.status_code == 409
    problem = eleventh.json()
    assert eleventh.headers["content-type"] == "application/problem+json"
    assert problem["code"] == "quota_exceeded"
    assert "您还可以创建0个私有镜像" in problem["detail"]
    assert "提交工单" in problem["detail"]
    english = Console(catalogs[1], issuer, alice.account_id, language="en")
    assert "submit a ticket" in english.create(host_id, "img-11").json()["detail"]
    page = alice.private_tab()
    assert page["quota"] == {
        "limit": 10,
        "used": 10,
        "remaining": 0,
        "text": "您还可以创建0个私有镜像。",
    }
    assert len(page["items"]) == 10


def spread_over_partitions(per_partition: int) -> list[UUID]:
    """Image ids whose records land ``per_partition`` on each partition of CaptureRequested
    (keyed by image id, placed as the producer's default partitioner places them)."""
    partitions = list(range(next(t for t in TOPICS if t.name == "CaptureRequested").partitions))
    placed: dict[int, list[UUID]] = {p: [] for p in partitions}
    while any(len(ids) < per_partition for ids in placed.values()):
        image_id = uuid4()
        ids = placed[DefaultPartitioner()(str(image_id).encode(), partitions, partitions)]
        if len(ids) < per_partition:
            ids.append(image_id)
    return [image_id for ids in placed.values() for image_id in ids]


async def test_capture_requests_from_other_services_hold_the_quota_too(
    deployment: TestStack, spawn: Spawn, issuer: Issuer
) -> None:
    """24 requests for one account with 3 free slots, 8 on each partition, sent at once to
    two catalog processes. Each partition's batch is one transaction, and each pauses half
    way through (the failpoint), its admissions uncommitted: without the account's lock
    the other batches, in both processes, count none of them and admit as many again."""
    catalogs = [spawn(deployment, "catalog") for _ in "12"]
    for catalog in catalogs:
        catalog.start(failpoints="consumer.mid_batch:pause")
    for catalog in catalogs:
        catalog.wait_healthy()
    notifier = spawn(deployment, "notifier").start()
    admin = Console(catalogs[0], issuer, admin=True)
    bob = Console(catalogs[1], issuer)
    assert admin.request(
        "PUT", f"/v1/accounts/{bob.account_id}/quota", json={"private_images": 3}
    ).json()["private_images"] == {
        "limit": 3,
        "used": 0,
        "remaining": 3,
        "text": "您还可以创建3个私有镜像。",
    }
    image_ids = spread_over_partitions(8)
    wanted = {str(i) for i in image_ids}
    async with Bus(deployment) as bus:
        await asyncio.gather(
            *(
                bus.send(
                    facts.capture(bob.account_id, uuid4(), image_id, f"ext-{n}"),
                    subject=image_id,
                    tenant=bob.account_id,
                )
                for n, image_id in enumerate(image_ids)
            )
        )

        # Generous: with the lock, the paused batches of one account take turns.
        async def all_decided() -> bool:
            return sum((await count_held(deployment, bob.account_id)).values()) == len(wanted)

        await eventually(all_decided, timeout=300)
        held = await count_held(deployment, bob.account_id)
        refused = await bus.read(
            "CaptureRefused",
            lambda rs: len({body(r)["subject"] for r in rs} & wanted) >= held.get("failed", 0),
        )
        accepted = await bus.read(
            "CaptureAccepted",
            lambda rs: len({body(r)["subject"] for r in rs} & wanted) >= held.get("creating", 0),
        )
    assert held == {"creating": 3, "failed": 21}
    accepted_ids = {body(r)["subject"] for r in accepted} & wanted
    refused_ids = {body(r)["subject"] for r in refused} & wanted
    assert (len(accepted_ids), len(refused_ids)) == (3, 21)
    assert not accepted_ids & refused_ids
    assert any("failpoint.pause" in c.log_path.read_text(errors="replace") for c in catalogs)
    refusal = next(body(r) for r in refused if body(r)["subject"] in refused_ids)
    assert refusal["sequence"] == 1
    assert refusal["tenant"] == str(bob.account_id)
    assert refusal["data"]["code"] == "quota_exceeded"
    assert (refusal["data"]["quota_limit"], refusal["data"]["quota_used"]) == (3, 3)
    assert "您还可以创建0个私有镜像" in refusal["data"]["reason"]

    # The requester sees why in the catalog, and the owner is told (N4).
    failed = bob.image(refusal["subject"]).json()
    assert (failed["status"], failed["failure"]["code"]) == ("failed", "quota_exceeded")
    assert bob.create(uuid4()).json()["code"] == "quota_exceeded"  # events and API alike

    notifier.wait_healthy()

    def notices() -> list[dict[str, Any]]:
        response = httpx.get(
            notifier.url("/v1/notices"), headers=bob.headers, params={"limit": 100}, timeout=5
        )
        return [n for n in response.json() if n["image_id"] in refused_ids]

    told = await eventually(lambda: len(notices()) == 21 and notices(), timeout=120)
    assert {n["kind"] for n in told} == {"capture_failed"}
    assert all("配额" in n["text"] for n in told)

    # An admin raises the quota (the seed's ticket): two more fit, the third does not.
    assert (
        admin.request(
            "PUT", f"/v1/accounts/{bob.account_id}/quota", json={"private_images": 5}
        ).status_code
        == 200
    )
    assert [bob.create(uuid4(), f"more-{n}").status_code for n in range(3)] == [202, 202, 409]


async def test_a_creating_image_is_neither_modified_nor_deleted(
    catalogs: tuple[ServiceProcess, ServiceProcess], issuer: Issuer
) -> None:
    alice = Console(catalogs[0], issuer)
    created = alice.create(uuid4(), "still-creating")
    assert created.status_code == 202
    assert created.headers["location"] == f"/v1/images/{created.json()['image_id']}"
    image_id = created.json()["image_id"]
    assert alice.status(image_id) == "creating"

    modified = alice.modify(image_id, name="renamed")
    assert (modified.status_code, modified.json()["code"]) == (409, "invalid_image_status")
    assert "创建中" in modified.json()["detail"]
    deleted = alice.delete(image_id)
    assert (deleted.status_code, deleted.json()["code"]) == (409, "invalid_image_status")
    batch = alice.delete_many([image_id]).json()["results"]
    assert batch == [
        {
            "image_id": image_id,
            "outcome": "refused",
            "code": "invalid_image_status",
            "detail": deleted.json()["detail"],
        }
    ]
    assert alice.image(image_id).json()["name"] == "still-creating"


async def test_a_tenant_calling_an_admin_route_gets_403(
    catalogs: tuple[ServiceProcess, ServiceProcess], issuer: Issuer
) -> None:
    tenant = Console(catalogs[0], issuer)
    own = tenant.create(uuid4(), "mine").json()["image_id"]
    other = uuid4()
    public = {
        "name": "Rocky 9 64bit",
        "os": facts.UBUNTU.model_dump(),
        "system_disk_gb": 40,
        "min_memory_mb": 1024,
    }
    admin_routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/v1/accounts/{tenant.account_id}/quota", None),
        ("PUT", f"/v1/accounts/{tenant.account_id}/quota", {"private_images": 100}),
        ("POST", f"/v1/images/{own}/publish", None),
        ("POST", f"/v1/images/{own}/unpublish", None),
        ("POST", "/v1/public-images", public),
        ("DELETE", "/v1/public-images/48c60013-1c0a-59fa-a7a8-e7b60b317967", None),
        ("GET", f"/v1/usage?account_id={other}", None),
    ]
    for method, path, json in admin_routes:
        refused = tenant.request(method, path, json=json)
        assert refused.status_code == 403, (method, path, refused.text)
        assert refused.json()["code"] == "forbidden", (method, path)
        assert refused.headers["content-type"] == "application/problem+json"
    # Nothing changed: the quota, the image, the public tab.
    assert tenant.private_tab()["quota"]["limit"] == 10
    assert tenant.image(own).json()["publish_status"] == "unpublished"
    public_tab = tenant.get("/v1/images", tab="public", limit=100).json()["items"]
    assert "CentOS 7.9 64bit" in {i["name"] for i in public_tab}
    assert "Rocky 9 64bit" not in {i["name"] for i in public_tab}
    assert tenant.get("/v1/usage").status_code == 200  # one's own usage needs no role


async def test_two_catalog_processes_announce_each_seeded_public_image_once(
    quota_deployment: TestStack, catalogs: tuple[ServiceProcess, ServiceProcess]
) -> None:
    async with Bus(quota_deployment) as bus:
        await seeded_images_announced_once(bus)


async def test_a_retried_create_with_its_idempotency_key_makes_one_image(
    quota_deployment: TestStack, catalogs: tuple[ServiceProcess, ServiceProcess], issuer: Issuer
) -> None:
    carol = Console(catalogs[0], issuer)
    host_id, key = uuid4(), {"Idempotency-Key": "console-request-42"}
    payload = {"host_id": str(host_id), "name": "retried"}
    first = carol.request("POST", "/v1/images", json=payload, headers=key)
    again = carol.at(catalogs[1]).request("POST", "/v1/images", json=payload, headers=key)
    assert first.status_code == again.status_code == 202
    assert first.json()["image_id"] == again.json()["image_id"]
    assert again.json()["quota"]["used"] == 1
    assert await count_held(quota_deployment, carol.account_id) == {"creating": 1}
    other_host = {**payload, "host_id": str(uuid4())}
    reused = carol.request("POST", "/v1/images", json=other_host, headers=key)
    assert (reused.status_code, reused.json()["code"]) == (409, "idempotency_key_reused")
    unnamed = carol.create(host_id, " starts with a space")
    assert (unnamed.status_code, unnamed.json()["code"]) == (422, "invalid_name")
