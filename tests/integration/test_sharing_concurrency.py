"""Sharing under load, on real Kafka and PostgreSQL, on deployments of their own:

- the 128-account limit holds when 20 adds race across two sharing processes (as behind a
  load balancer);
- a batch of 10 images x 100 accounts is answered per pair, and every resulting fact is
  published exactly once (one event id a membership; the relay itself is at-least-once);
- 128 offers to one account make one prompt, versioned a few times, not 128 messages.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from uuid import UUID

import httpx
from aiokafka import ConsumerRecord

from ims_testkit.tokens import Issuer
from schemas.events import membership_id
from tests.harness import Bus, ServiceProcess, body, eventually
from tests.infra import TestStack
from tests.integration.conftest import Spawn
from tests.integration.sharing_kit import (
    Tenant,
    announced_image,
    fetch_value,
    members_path,
    new_account,
    outcomes,
    prompt,
    sharing_knows,
)


async def image_known(stack: TestStack, image_id: UUID) -> None:
    async def normal() -> bool:
        sql = "SELECT status FROM images WHERE image_id = $1"
        return bool(await fetch_value(stack, "sharing", sql, image_id) == "normal")

    await eventually(normal, timeout=60)


async def test_the_limit_holds_when_20_adds_race_across_two_processes(
    deployment: TestStack, spawn: Spawn, issuer: Issuer
) -> None:
    first, second = spawn(deployment, "sharing"), spawn(deployment, "sharing")
    for process in (first, second):
        process.start()
    for process in (first, second):
        process.wait_healthy()
    async with Bus(deployment) as bus:
        alice = await new_account(bus, issuer)
        others = [await new_account(bus, issuer) for _ in range(130)]
        image_id, _ = await announced_image(bus, alice.account_id)
        await sharing_knows(deployment, [alice, *others])
        await image_known(deployment, image_id)
        early = alice.call(
            first, "POST", members_path(image_id),
            json={"accounts": [{"name": o.name} for o in others[:110]]},
        )  # fmt: skip
        assert outcomes(early).count(("offered", None)) == 110

        # 20 adds of one new account each, at once, alternating between the processes.
        async def add(process: ServiceProcess, tenant: Tenant) -> list[tuple[str, str | None]]:
            async with httpx.AsyncClient(timeout=30) as client:
                response = await client.post(
                    process.url(members_path(image_id)),
                    json={"accounts": [{"name": tenant.name}]},
                    headers=alice.headers(),
                )
            return outcomes(response)

        racing = others[110:130]
        answers = await asyncio.gather(
            *(add((first, second)[i % 2], tenant) for i, tenant in enumerate(racing))
        )
        flat = Counter(item for answer in answers for item in answer)
        assert flat == {("offered", None): 18, ("refused", "member_limit_reached"): 2}
        listed = alice.call(second, "GET", members_path(image_id)).json()
        assert (listed["count"], listed["remaining"]) == (128, 0)

        offers = await bus.read("ShareOffered", lambda rs: len({body(r)["id"] for r in rs}) >= 128)
    assert len({body(r)["id"] for r in offers}) == 128
    assert len({body(r)["subject"] for r in offers}) == 128


async def test_a_batch_of_10_images_by_100_accounts_is_answered_per_pair_facts_once(
    deployment: TestStack, spawn: Spawn, issuer: Issuer
) -> None:
    sharing = spawn(deployment, "sharing")
    sharing.start().wait_healthy()
    async with Bus(deployment) as bus:
        alice = await new_account(bus, issuer)
        others = [await new_account(bus, issuer) for _ in range(100)]
        images = [(await announced_image(bus, alice.account_id, f"img-{i}"))[0] for i in range(9)]
        young, _ = await announced_image(bus, alice.account_id, "still-creating", ready=False)
        await sharing_knows(deployment, [alice, *others])
        for image_id in images:
            await image_known(deployment, image_id)
        # One account shared already, one unknown: per pair, not all or nothing.
        alice.call(sharing, "POST", members_path(images[0]),
                   json={"accounts": [{"name": others[0].name}]})  # fmt: skip
        accounts = [{"name": o.name} for o in others[:99]] + [{"name": "no-such-account"}]
        answer = alice.call(
            sharing, "POST", "/v1/shares",
            json={"image_ids": [str(i) for i in [*images, young]], "accounts": accounts},
        )  # fmt: skip
        results = answer.json()["results"]
        assert len(results) == 1000
        by_pair = {
            (r["image_id"], r["account"]["name"]): (r["outcome"], r["code"]) for r in results
        }
        assert by_pair[(str(images[0]), others[0].name)] == ("already_member", None)
        assert by_pair[(str(images[3]), "no-such-account")] == ("refused", "account_not_found")
        assert by_pair[(str(young), others[5].name)] == ("refused", "image_not_normal")
        assert Counter(by_pair.values()) == {
            ("offered", None): 9 * 99 - 1,
            ("already_member", None): 1,
            ("refused", "account_not_found"): 9,
            ("refused", "image_not_normal"): 100,
        }
        expected = {str(membership_id(i, o.account_id)) for i in images for o in others[:99]}

        def all_there(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
            return expected <= {body(r)["subject"] for r in records}

        offers = await bus.read("ShareOffered", all_there, timeout=120)
    ids_by_membership: dict[str, set[str]] = {}
    for record in offers:
        event = body(record)
        ids_by_membership.setdefault(event["subject"], set()).add(event["id"])
    assert set(ids_by_membership) == expected
    assert all(len(ids) == 1 for ids in ids_by_membership.values())
    assert {body(r)["data"]["owner_account_name"] for r in offers} == {alice.name}


async def test_128_offers_make_one_prompt_not_128_messages(
    deployment: TestStack, spawn: Spawn, issuer: Issuer
) -> None:
    sharing, notifier = spawn(deployment, "sharing"), spawn(deployment, "notifier")
    for process in (sharing, notifier):
        process.start()
    for process in (sharing, notifier):
        process.wait_healthy()
    async with Bus(deployment) as bus:
        alice, bob = await new_account(bus, issuer), await new_account(bus, issuer)
        images = [(await announced_image(bus, alice.account_id, f"img-{i}"))[0] for i in range(128)]
        await sharing_knows(deployment, [alice, bob])
        for image_id in images:
            await image_known(deployment, image_id)
        for first in range(0, 128, 50):
            chunk = [str(i) for i in images[first : first + 50]]
            request = {"image_ids": chunk, "accounts": [{"name": bob.name}]}
            answer = alice.call(sharing, "POST", "/v1/shares", json=request)
            assert outcomes(answer) == [("offered", None)] * len(chunk)

        def listed() -> bool:
            found = prompt(notifier, bob)
            return bool(found and found["pending_count"] == 128 and len(found["images"]) == 128)

        await eventually(listed)

        def newest_lists_all(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
            return any(body(r)["data"]["pending_count"] == 128 for r in records)

        versions = await bus.read("SharePromptUpdated", newest_lists_all, key=str(bob.account_id))
    # One prompt, versioned a few times as the offers arrived: not 128 messages to push.
    assert len({body(r)["data"]["prompt_id"] for r in versions}) == 1
    assert len({body(r)["id"] for r in versions}) <= 5
    newest = max((body(r) for r in versions), key=lambda e: e["sequence"])
    assert {i["image_id"] for i in newest["data"]["images"]} == {str(i) for i in images}
    notices = bob.call(notifier, "GET", "/v1/notices").json()
    assert [n["kind"] for n in notices] == ["share_prompt"]
    assert notices[0]["prompt"]["pending_count"] == 128
