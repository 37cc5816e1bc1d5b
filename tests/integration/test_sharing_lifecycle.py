"""What the recipient may use (S4, S10, C8), through the four running services: only an
accepted share of a `normal` image passes the launch check, with the image's system disk;
the owner may cancel sharing, delete the tenant or delete the image at any time, without the
recipient, who then simply loses the image from its shared tab, prompt and launch check."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID, uuid4

from ims_testkit.tokens import Issuer
from schemas.events import membership_id
from tests.harness import Bus, ServiceProcess, body, eventually
from tests.infra import TestStack
from tests.integration.sharing_kit import (
    WINDOWS,
    Tenant,
    captured_image,
    launch_check,
    members_path,
    new_account,
    outcomes,
    reasons,
    shared_tab,
    sharing_knows,
)

UBUNTU_PUBLIC = "3b329bed-8eb5-549a-b2b9-f57e765d8523"  # seeded by the catalog (C1)


async def share_and_answer(
    sharing: ServiceProcess, owner: Tenant, recipient: Tenant, images: list[UUID], answer: str
) -> None:
    ids = [str(i) for i in images]
    request = {"image_ids": ids, "accounts": [{"name": recipient.name}]}
    offered = owner.call(sharing, "POST", "/v1/shares", json=request)
    assert outcomes(offered) == [("offered", None)] * len(ids)
    if answer != "pending":
        answered = recipient.call(sharing, "POST", f"/v1/shared-images/{answer}",
                                  json={"image_ids": ids})  # fmt: skip
        outcome = {"accept": "accepted", "reject": "rejected"}[answer]
        assert outcomes(answered) == [(outcome, None)] * len(ids)


async def test_the_recipient_loses_what_the_owner_cancels_removes_or_deletes(
    system: dict[str, ServiceProcess], bus: Bus, stack: TestStack, issuer: Issuer, tmp_path: Path
) -> None:
    catalog, sharing = system["catalog"], system["sharing"]
    alice, bob = await new_account(bus, issuer), await new_account(bus, issuer)
    cancelled, removed, deleted = [
        await captured_image(bus, catalog, alice, tmp_path, name) for name in ("c", "r", "d")
    ]
    await sharing_knows(stack, [alice, bob])
    await share_and_answer(sharing, alice, bob, [cancelled, removed, deleted], "accept")
    await eventually(
        lambda: shared_tab(catalog, bob) == {str(cancelled), str(removed), str(deleted)}
    )
    detail = bob.call(catalog, "GET", f"/v1/images/{removed}").json()
    assert detail["shared"] is True
    assert detail["share_tenants"] == {"count": 1, "members": None}  # the list is alice's
    mine = alice.call(catalog, "GET", f"/v1/images/{removed}").json()["share_tenants"]
    assert [(m["account_name"], m["status_label"]) for m in mine["members"]] == [
        (bob.name, "已接受")
    ]

    # 取消共享 (S7), delete the tenant (S9), delete the image (C5): none asks bob.
    cancel = alice.call(sharing, "DELETE", members_path(cancelled))
    assert cancel.status_code == 200
    assert cancel.json()["summary"] == "已有租户0个，还可以添加128个"
    assert (
        alice.call(sharing, "DELETE", f"{members_path(removed)}/{bob.account_id}").status_code
        == 204
    )
    # C5 through the catalog's API: ImageDeleted goes out on the image's line, sharing ends
    # the image's memberships, the catalog's projection and the notifier follow.
    assert alice.call(catalog, "DELETE", f"/v1/images/{deleted}").status_code == 204

    await eventually(lambda: shared_tab(catalog, bob) == set())
    assert reasons(launch_check(catalog, bob, cancelled)) == ["share_revoked"]
    assert reasons(launch_check(catalog, bob, removed)) == ["share_revoked"]
    assert reasons(launch_check(catalog, bob, deleted)) == ["image_deleted"]
    gone = launch_check(catalog, bob, deleted, language="en")["reasons"][0]["message"]
    assert gone == "The image's owner deleted this shared image."
    assert bob.call(sharing, "GET", "/v1/shared-images").json()["items"] == []

    async def sharing_saw_the_deletion() -> bool:
        answer = alice.call(sharing, "GET", members_path(deleted))
        return answer.status_code == 404 and answer.json()["code"] == "image_not_found"

    await eventually(sharing_saw_the_deletion)
    revoked = await bus.read(
        "ShareRevoked", lambda rs: len(rs) >= 1, key=str(membership_id(deleted, bob.account_id))
    )
    assert [body(r)["data"]["cause"] for r in revoked] == ["image_deleted"]
    assert alice.call(catalog, "GET", f"/v1/images/{removed}").json()["share_tenants"] == {
        "count": 0, "members": [],
    }  # fmt: skip
    # Deleting a tenant that is not there: 404.
    again = alice.call(sharing, "DELETE", f"{members_path(removed)}/{bob.account_id}")
    assert (again.status_code, again.json()["code"]) == (404, "member_not_found")


async def test_only_an_accepted_share_with_the_images_disk_passes_the_launch_check(
    system: dict[str, ServiceProcess], bus: Bus, stack: TestStack, issuer: Issuer, tmp_path: Path
) -> None:
    catalog, sharing = system["catalog"], system["sharing"]
    alice, bob = await new_account(bus, issuer), await new_account(bus, issuer)
    stranger = await new_account(bus, issuer)
    pending = await captured_image(bus, catalog, alice, tmp_path, "pending")
    rejected = await captured_image(bus, catalog, alice, tmp_path, "rejected")
    windows = await captured_image(bus, catalog, alice, tmp_path, "win", os=WINDOWS)
    await sharing_knows(stack, [alice, bob])
    await share_and_answer(sharing, alice, bob, [pending], "pending")
    await share_and_answer(sharing, alice, bob, [rejected], "reject")
    await share_and_answer(sharing, alice, bob, [windows], "accept")
    await eventually(lambda: shared_tab(catalog, bob) == {str(windows)})

    # A pending or rejected share never passes; someone else's private image is not there.
    async def settled() -> bool:
        return reasons(launch_check(catalog, bob, rejected)) == ["share_rejected"]

    await eventually(settled)
    assert reasons(launch_check(catalog, bob, pending)) == ["share_not_accepted"]
    assert reasons(launch_check(catalog, stranger, pending)) == ["image_not_found"]
    assert reasons(launch_check(catalog, bob, uuid4())) == ["image_not_found"]

    # The system disk must be the image's (40 GB); memory may differ, but Windows under
    # 2048 MB comes with a warning.
    mismatch = launch_check(catalog, bob, windows, disk_gb=50)
    assert (mismatch["allowed"], reasons(mismatch)) == (False, ["system_disk_mismatch"])
    assert "40 GB" in mismatch["reasons"][0]["message"]
    small = launch_check(catalog, bob, windows, memory_mb=1024)
    assert small["allowed"] is True
    assert [w["code"] for w in small["warnings"]] == ["windows_low_memory"]
    roomy = launch_check(catalog, bob, windows, memory_mb=4096)
    assert (roomy["allowed"], roomy["warnings"]) == (True, [])

    # The owner's own images and public images need no share.
    assert launch_check(catalog, alice, pending)["allowed"] is True
    assert launch_check(catalog, stranger, UBUNTU_PUBLIC)["allowed"] is True
    assert reasons(launch_check(catalog, stranger, UBUNTU_PUBLIC, disk_gb=20)) == [
        "system_disk_mismatch"
    ]
    # Re-accepting the rejected one (S6) makes it usable.
    again = bob.call(
        sharing, "POST", "/v1/shared-images/accept", json={"image_ids": [str(rejected)]}
    )
    assert outcomes(again) == [("accepted", None)]

    async def usable() -> bool:
        return bool(launch_check(catalog, bob, rejected)["allowed"])

    await eventually(usable)
