"""The sharing handshake end to end, through the four running services on real Kafka and
PostgreSQL: images captured for real, offered over sharing's API, one prompt 是否接受镜像
per recipient from the notifier, the shared tab and the launch check from the catalog."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from aiokafka import ConsumerRecord

from ims_testkit.tokens import Issuer
from schemas.envelope import Envelope
from schemas.events import ShareAccepted, ShareOffered, ShareRevoked, membership_id
from tests.harness import Bus, ServiceProcess, body, eventually
from tests.infra import TestStack
from tests.integration.sharing_kit import (
    captured_image,
    fetch_value,
    launch_check,
    members_path,
    new_account,
    outcomes,
    prompt,
    prompt_images,
    reasons,
    shared_tab,
    sharing_knows,
)


async def test_one_prompt_grows_shrinks_and_resolves_as_offers_come_and_go(
    system: dict[str, ServiceProcess], bus: Bus, stack: TestStack, issuer: Issuer, tmp_path: Path
) -> None:
    catalog, sharing, notifier = system["catalog"], system["sharing"], system["notifier"]
    alice, carol, bob = [await new_account(bus, issuer) for _ in range(3)]
    alices = [await captured_image(bus, catalog, alice, tmp_path, f"alice-{i}") for i in range(3)]
    carols = [await captured_image(bus, catalog, carol, tmp_path, f"carol-{i}") for i in range(2)]
    await sharing_knows(stack, [alice, carol, bob])
    a1, a2, a3 = (str(i) for i in alices)
    c1, c2 = (str(i) for i in carols)

    # Offers of 5 images from 2 owners: one batch, two single shares.
    batch = {"image_ids": [a1, a2, a3], "accounts": [{"name": bob.name}]}
    assert (
        outcomes(alice.call(sharing, "POST", "/v1/shares", json=batch)) == [("offered", None)] * 3
    )
    for image_id in (c1, c2):
        answer = carol.call(sharing, "POST", members_path(image_id),
                            json={"accounts": [{"name": bob.name}]})  # fmt: skip
        assert outcomes(answer) == [("offered", None)]

    # ... make one prompt listing 5, with the owners' names and the three actions.
    await eventually(lambda: prompt_images(notifier, bob) == {a1, a2, a3, c1, c2})
    shown = prompt(notifier, bob)
    assert shown["title"] == "是否接受镜像"
    assert shown["pending_count"] == 5
    assert [a["action"] for a in shown["actions"]] == ["accept_all", "reject_all", "details"]
    assert [a["label"] for a in shown["actions"]] == ["全部接受", "全部拒绝", "查看详情"]
    owners = {i["image_id"]: i["owner_account_name"] for i in shown["images"]}
    assert owners == {
        a1: alice.name,
        a2: alice.name,
        a3: alice.name,
        c1: carol.name,
        c2: carol.name,
    }
    assert prompt(notifier, bob, language="en")["title"] == "Accept shared images?"
    assert prompt(notifier, alice) is None
    assert prompt(notifier, carol) is None
    # The same prompt, versioned on the topic (keyed by bob) and kept in his inbox, unread.
    await eventually(lambda: latest_prompt_lists(bus, bob.account_id, 5))
    notices = bob.call(notifier, "GET", "/v1/notices").json()
    assert [(n["kind"], n["read"]) for n in notices] == [("share_prompt", False)]
    assert "是否接受镜像" in notices[0]["text"]

    # bob accepts 2: the prompt lists 3; his shared tab lists the 2; they may start hosts.
    accepted = bob.call(sharing, "POST", "/v1/shared-images/accept", json={"image_ids": [a1, c1]})
    assert outcomes(accepted) == [("accepted", None)] * 2
    await eventually(lambda: prompt_images(notifier, bob) == {a2, a3, c2})
    await eventually(lambda: shared_tab(catalog, bob) == {a1, c1})
    for image_id in (a1, c1):
        assert launch_check(catalog, bob, image_id)["allowed"] is True
    assert reasons(launch_check(catalog, bob, a2)) == ["share_not_accepted"]

    # alice revokes one pending offer (she need not ask bob): 2 left.
    assert alice.call(sharing, "DELETE", f"{members_path(a2)}/{bob.account_id}").status_code == 204
    await eventually(lambda: prompt_images(notifier, bob) == {a3, c2})

    # bob rejects all: the prompt resolves itself, on the topic and in his inbox.
    rejected = bob.call(sharing, "POST", "/v1/shared-images/reject", json={"all": True})
    assert sorted(outcomes(rejected)) == [("rejected", None)] * 2
    await eventually(lambda: prompt(notifier, bob) is None)
    await eventually(lambda: latest_prompt_lists(bus, bob.account_id, 0, status="resolved"))
    assert [n["kind"] for n in bob.call(notifier, "GET", "/v1/notices").json()] == []
    assert shared_tab(catalog, bob) == {a1, c1}
    assert reasons(launch_check(catalog, bob, c2)) == ["share_rejected"]
    listed = bob.call(sharing, "GET", "/v1/shared-images", params={"status": "rejected"}).json()
    assert {i["image_id"] for i in listed["items"]} == {a3, c2}
    assert {i["status_label"] for i in listed["items"]} == {"已拒绝"}


async def latest_prompt_lists(
    bus: Bus, account_id: object, count: int, status: str = "open"
) -> bool:
    """Whether the newest version of the account's prompt on the topic lists ``count``."""
    records = await bus.read("SharePromptUpdated", lambda rs: True, key=str(account_id))
    if not records:
        return False
    newest = max((body(r) for r in records), key=lambda e: e["sequence"])
    return bool(newest["data"]["pending_count"] == count and newest["data"]["status"] == status)


async def test_a_revocation_that_arrives_before_its_offer_leaves_no_prompt(
    system: dict[str, ServiceProcess], bus: Bus, stack: TestStack, issuer: Issuer
) -> None:
    """Sharing's facts travel on different topics: ShareRevoked (sequence 2) may be read
    before the ShareOffered (1) it ends. Published here as sharing would publish them."""
    notifier = system["notifier"]
    owner, erin = await new_account(bus, issuer), await new_account(bus, issuer)
    image_id = uuid4()
    member = membership_id(image_id, erin.account_id)
    parties: dict[str, Any] = {
        "membership_id": member, "image_id": image_id, "image_name": "gone-before-seen",
        "owner_account_id": owner.account_id, "owner_account_name": owner.name,
        "member_account_id": erin.account_id, "member_account_name": erin.name,
    }  # fmt: skip
    now = datetime.now(UTC)
    revoked = await bus.send(
        ShareRevoked(**parties, cause="sharing_cancelled", previous_status="pending",
                     revoked_at=now),
        subject=member, tenant=owner.account_id, sequence=2, source="/ims/sharing",
    )  # fmt: skip

    def handled(*events: Envelope[Any]) -> Callable[[], Awaitable[bool]]:
        async def probe() -> bool:
            sql = "SELECT count(*) FROM inbox WHERE event_id = ANY($1::uuid[])"
            ids = [e.id for e in events]
            return bool(await fetch_value(stack, "notifier", sql, ids) == len(ids))

        return probe

    # The two topics are read independently: the revocation is handled first for sure.
    await eventually(handled(revoked))
    offered = await bus.send(
        ShareOffered(**parties, offered_at=now),
        subject=member, tenant=owner.account_id, sequence=1, source="/ims/sharing",
    )  # fmt: skip
    await eventually(handled(offered))
    assert prompt(notifier, erin) is None
    assert erin.call(notifier, "GET", "/v1/notices").json() == []
    pending = "SELECT count(*) FROM prompts WHERE account_id = $1"
    assert await fetch_value(stack, "notifier", pending, erin.account_id) == 0
    assert await bus.read("SharePromptUpdated", lambda rs: True, key=str(erin.account_id)) == []


async def test_forged_membership_facts_are_dead_lettered_by_catalog_and_notifier(
    system: dict[str, ServiceProcess], bus: Bus, stack: TestStack, issuer: Issuer,
    tmp_path: Path,
) -> None:  # fmt: skip
    """Only the owner offers and revokes, only the member answers, each fact keyed by its
    membership; the catalog also knows whose image it is."""
    catalog = system["catalog"]
    alice, bob, mallory = [await new_account(bus, issuer) for _ in range(3)]
    image_id = await captured_image(bus, catalog, alice, tmp_path, "target")
    member = membership_id(image_id, bob.account_id)
    now = datetime.now(UTC)

    def parties(owner: Any) -> dict[str, Any]:
        return {
            "membership_id": member, "image_id": image_id, "image_name": "target",
            "owner_account_id": owner.account_id, "owner_account_name": owner.name,
            "member_account_id": bob.account_id, "member_account_name": bob.name,
        }  # fmt: skip

    forged = [
        # alice "accepts" for bob.
        await bus.send(ShareAccepted(**parties(alice), accepted_at=now),
                       subject=member, tenant=alice.account_id, sequence=5),
        # Keyed by another membership than the one it names.
        await bus.send(ShareOffered(**parties(alice), offered_at=now),
                       subject=uuid4(), tenant=alice.account_id, sequence=6),
        # mallory offers alice's image, in his own name.
        await bus.send(ShareOffered(**parties(mallory), offered_at=now),
                       subject=member, tenant=mallory.account_id, sequence=7),
    ]  # fmt: skip
    ids = {str(f.id) for f in forged}

    def parked(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        found = {(body(r)["data"].get("event_id"), body(r)["data"]["consumer"]) for r in records}
        wanted = {(i, f"{stack.topic_prefix}ims-catalog") for i in ids}
        wanted |= {(str(f.id), f"{stack.topic_prefix}ims-notifier") for f in forged[:2]}
        return wanted <= found

    await bus.read("DeadLetter", parked)
    # The notifier has no copy of who owns an image: mallory's offer in his own name is
    # refused by the catalog (which knows alice owns it) and never stated by sharing.
    assert shared_tab(catalog, bob) == set()
    assert reasons(launch_check(catalog, bob, image_id)) == ["image_not_found"]
    assert bob.call(catalog, "GET", f"/v1/images/{image_id}").status_code == 404
