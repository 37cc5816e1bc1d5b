"""The sharing rules (S2) through the sharing service's API on real Kafka and PostgreSQL,
each refusal with its code: only the owner, only private `normal` images, never a public
one, never to oneself, no unknown or closed account, no project the account lacks, at most
128 accounts an image (also when 20 adds race across two sharing processes); only the
recipient answers its offers.

Only sharing runs here: the tests announce accounts, images and public images on Kafka
exactly as IAM, the catalog and capture do."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from uuid import uuid4

import httpx
import pytest
from aiokafka import ConsumerRecord

from ims_testkit.tokens import Issuer
from schemas.events import (
    PLATFORM_TENANT,
    ImageDeleted,
    Project,
    PublicImageAdded,
    membership_id,
)
from tests.harness import Bus, ServiceProcess, body, eventually, service_process
from tests.infra import TestStack
from tests.integration import facts
from tests.integration.conftest import own_deployment
from tests.integration.sharing_kit import (
    Tenant,
    announced_image,
    members_path,
    new_account,
    outcomes,
    sharing_knows,
)


@pytest.fixture(scope="module")
def sharing_only(stack: TestStack, issuer: Issuer) -> Iterator[tuple[TestStack, ServiceProcess]]:
    """One sharing process on a deployment of this module's own."""
    with own_deployment(stack) as own:
        sharing = service_process(own, "sharing", issuer=issuer)
        sharing.start().wait_healthy()
        try:
            yield own, sharing
        finally:
            sharing.stop()


@pytest.fixture
async def own_bus(sharing_only: tuple[TestStack, ServiceProcess]) -> AsyncIterator[Bus]:
    own, _ = sharing_only
    async with Bus(own) as connected:
        yield connected


async def known(sharing: ServiceProcess, tenant: Tenant, image_id: object) -> None:
    """Wait until sharing has applied the facts about the owner's image."""

    def ready() -> bool:
        return tenant.call(sharing, "GET", members_path(image_id)).status_code == 200

    await eventually(ready, timeout=60)


async def test_every_rule_is_refused_with_its_code(
    sharing_only: tuple[TestStack, ServiceProcess], own_bus: Bus, issuer: Issuer
) -> None:
    own, sharing = sharing_only
    alice = await new_account(own_bus, issuer)
    bob = await new_account(own_bus, issuer)
    closed = await new_account(own_bus, issuer, status="closed")
    prod = Project(project_id=uuid4(), name="prod", region=None)
    dedicated = await new_account(own_bus, issuer, kind="dedicated_cloud", projects=(prod,))
    image_id, _ = await announced_image(own_bus, alice.account_id)
    creating_id, _ = await announced_image(own_bus, alice.account_id, "young", ready=False)
    public_id = uuid4()
    await own_bus.send(
        PublicImageAdded(
            image_id=public_id, name="Debian 12 64bit", os=facts.UBUNTU, system_disk_gb=40,
            min_memory_mb=1024, added_at=datetime.now(UTC),
        ),
        subject=public_id, tenant=PLATFORM_TENANT, source="/ims/catalog",  # type: ignore[arg-type]
    )  # fmt: skip
    await known(sharing, alice, image_id)
    await sharing_knows(own, [alice, bob, closed, dedicated])

    def share(tenant: Tenant, image: object, *accounts: dict[str, object]) -> httpx.Response:
        body = {"accounts": list(accounts)}
        return tenant.call(sharing, "POST", members_path(image), json=body)

    # Per account: unknown, closed, oneself, a project it lacks, a missing project.
    answer = share(
        alice, image_id,
        {"name": "nobody-by-this-name"}, {"name": closed.name}, {"name": alice.name},
        {"name": bob.name, "project": "prod"}, {"name": dedicated.name},
        {"name": dedicated.name, "project": "staging"},
        {"name": dedicated.name, "project": "prod"}, {"name": bob.name},
    )  # fmt: skip
    assert outcomes(answer) == [
        ("refused", "account_not_found"),
        ("refused", "account_not_found"),
        ("refused", "cannot_share_with_self"),
        ("refused", "project_not_found"),
        ("refused", "project_required"),
        ("refused", "project_not_found"),
        ("offered", None),
        ("offered", None),
    ]
    assert answer.json()["count"] == 2
    assert answer.json()["summary"] == "已有租户2个，还可以添加126个"
    # Sharing again is harmless.
    assert outcomes(share(alice, image_id, {"name": bob.name})) == [("already_member", None)]

    # The image as a whole: not the owner (404, as for a missing image), not normal, public.
    for tenant, image, status, code in [
        (bob, image_id, 404, "image_not_found"),
        (alice, uuid4(), 404, "image_not_found"),
        (alice, creating_id, 409, "image_not_normal"),
        (alice, public_id, 409, "public_image"),
    ]:
        refused = share(tenant, image, {"name": dedicated.name, "project": "prod"})
        assert refused.status_code == status, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == code
    assert bob.call(sharing, "GET", members_path(image_id)).status_code == 404
    english = alice.call(
        sharing, "POST", members_path(public_id), json={"accounts": [{"name": "x"}]},
        language="en",
    )  # fmt: skip
    assert english.json()["detail"].startswith("Public images are visible to every tenant")
    assert "公共镜像" in share(alice, public_id, {"name": "x"}).json()["detail"]


async def test_only_the_recipient_answers_its_offers(
    sharing_only: tuple[TestStack, ServiceProcess], own_bus: Bus, issuer: Issuer
) -> None:
    own, sharing = sharing_only
    alice, bob, carol = [await new_account(own_bus, issuer) for _ in range(3)]
    image_id, _ = await announced_image(own_bus, alice.account_id)
    await known(sharing, alice, image_id)
    await sharing_knows(own, [carol])
    offered = alice.call(
        sharing, "POST", members_path(image_id), json={"accounts": [{"name": carol.name}]}
    )
    assert outcomes(offered) == [("offered", None)]

    # bob answering carol's offer: 404, as for an offer that does not exist.
    for action in ("accept", "reject"):
        answer = bob.call(
            sharing, "POST", f"/v1/shared-images/{action}", json={"image_ids": [str(image_id)]}
        )
        assert answer.status_code == 404, answer.text
        assert answer.json()["code"] == "offer_not_found"
    assert bob.call(sharing, "GET", "/v1/shared-images").json()["items"] == []
    # bob's "accept all" finds nothing of his; carol's offer is still pending.
    assert bob.call(sharing, "POST", "/v1/shared-images/accept", json={"all": True}).json() == {
        "results": []
    }
    pending = carol.call(sharing, "GET", "/v1/shared-images", params={"status": "pending"})
    assert [i["image_id"] for i in pending.json()["items"]] == [str(image_id)]
    assert pending.json()["items"][0]["status_label"] == "待接受"
    assert pending.json()["items"][0]["owner_account_name"] == alice.name


async def test_the_129th_account_is_refused(
    sharing_only: tuple[TestStack, ServiceProcess], own_bus: Bus, issuer: Issuer
) -> None:
    own, sharing = sharing_only
    alice = await new_account(own_bus, issuer)
    others = [await new_account(own_bus, issuer) for _ in range(129)]
    image_id, _ = await announced_image(own_bus, alice.account_id)
    await known(sharing, alice, image_id)
    await sharing_knows(own, others)
    names = [{"name": o.name} for o in others]
    first = alice.call(sharing, "POST", members_path(image_id), json={"accounts": names[:100]})
    assert outcomes(first).count(("offered", None)) == 100
    second = alice.call(sharing, "POST", members_path(image_id), json={"accounts": names[100:]})
    assert outcomes(second) == [("offered", None)] * 28 + [("refused", "member_limit_reached")]
    listed = alice.call(sharing, "GET", members_path(image_id)).json()
    assert (listed["count"], listed["remaining"]) == (128, 0)
    assert listed["summary"] == "已有租户128个，还可以添加0个"


async def test_a_closed_account_loses_its_offers_and_the_owner_its_tenant(
    sharing_only: tuple[TestStack, ServiceProcess], own_bus: Bus, issuer: Issuer
) -> None:
    own, sharing = sharing_only
    alice, bob = await new_account(own_bus, issuer), await new_account(own_bus, issuer)
    image_id, _ = await announced_image(own_bus, alice.account_id)
    await known(sharing, alice, image_id)
    await sharing_knows(own, [bob])
    offer = alice.call(sharing, "POST", members_path(image_id),
                       json={"accounts": [{"name": bob.name}]})  # fmt: skip
    assert outcomes(offer) == [("offered", None)]

    # IAM closes bob's account: no one asks him, his offer ends.
    await new_account(own_bus, issuer, bob.name, status="closed", sequence=2,
                      account_id=bob.account_id)  # fmt: skip

    def no_tenants() -> bool:
        return bool(alice.call(sharing, "GET", members_path(image_id)).json()["count"] == 0)

    await eventually(no_tenants)
    member = str(membership_id(image_id, bob.account_id))
    revoked = await own_bus.read("ShareRevoked", lambda rs: len(rs) >= 1, key=member)
    assert [body(r)["data"]["cause"] for r in revoked] == ["account_closed"]
    assert body(revoked[0])["tenant"] == str(alice.account_id)
    assert body(revoked[0])["sequence"] == 2  # the membership's own line: offered 1, ended 2
    again = alice.call(sharing, "POST", members_path(image_id),
                       json={"accounts": [{"name": bob.name}]})  # fmt: skip
    assert outcomes(again) == [("refused", "account_not_found")]


async def test_facts_about_someone_elses_image_are_dead_lettered(
    sharing_only: tuple[TestStack, ServiceProcess], own_bus: Bus, issuer: Issuer
) -> None:
    """Sharing trusts no fact blindly: an image fact in another account's name, or about
    another owner's image, or a public-image fact not from the platform, is parked."""
    own, sharing = sharing_only
    alice, mallory = (
        await new_account(own_bus, issuer),
        await new_account(own_bus, issuer),
    )
    image_id, last = await announced_image(own_bus, alice.account_id)
    await known(sharing, alice, image_id)
    now = datetime.now(UTC)
    forged = [
        # mallory deletes alice's image in his own name ...
        await own_bus.send(
            ImageDeleted(image_id=image_id, account_id=mallory.account_id, deleted_at=now),
            subject=image_id, tenant=mallory.account_id, sequence=last + 1,
        ),
        # ... or names alice in the body while stating it himself ...
        await own_bus.send(
            ImageDeleted(image_id=image_id, account_id=alice.account_id, deleted_at=now),
            subject=image_id, tenant=mallory.account_id, sequence=last + 2,
        ),
        # ... or claims it is a public image.
        await own_bus.send(
            PublicImageAdded(image_id=image_id, name="mine now", os=facts.UBUNTU,
                             system_disk_gb=40, min_memory_mb=1024, added_at=now),
            subject=image_id, tenant=PLATFORM_TENANT, sequence=last + 3,  # type: ignore[arg-type]
        ),
    ]  # fmt: skip
    ids = {str(f.id) for f in forged}

    def parked(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        return ids <= {body(r)["data"].get("event_id") for r in records}

    letters = [
        body(r)["data"] for r in await own_bus.read("DeadLetter", parked)
        if body(r)["data"].get("event_id") in ids
    ]  # fmt: skip
    assert {letter["error_type"] for letter in letters} == {"Rejected"}
    assert {letter["consumer"] for letter in letters} == {f"{own.topic_prefix}ims-sharing"}
    # Nothing changed: the image is alice's, normal and shareable.
    assert alice.call(sharing, "GET", members_path(image_id)).status_code == 200
