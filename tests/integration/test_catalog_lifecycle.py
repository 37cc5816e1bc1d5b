"""A private image's life through the catalog's API, with every service running: created
from the console, captured, modified (C4), published (C7), deleted (C5, single and batch),
and what other tenants may not do; public images added and retired by an admin (C1).
Each change is announced once, on the image's own version line."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

from ims_testkit.tokens import Issuer
from tests.harness import Bus, ServiceProcess, eventually
from tests.infra import TestStack
from tests.integration.announced import facts_of, seeded_images_announced_once
from tests.integration.console import Console, stopped_host


async def captured(console: Console, bus: Bus, tmp_path: Path, names: list[str]) -> list[str]:
    """Images created through the API from a stopped host, once capture made them normal."""
    host_id = await stopped_host(bus, tmp_path, console.account_id)
    ids = []
    for name in names:
        response = console.create(host_id, name, description="golden")
        assert response.status_code == 202, response.text
        ids.append(response.json()["image_id"])
    await eventually(lambda: all(console.status(i) == "normal" for i in ids), timeout=90)
    return ids


async def test_owner_modifies_and_deletes_others_get_404(
    system: dict[str, ServiceProcess], stack: TestStack, bus: Bus, issuer: Issuer, tmp_path: Path
) -> None:
    catalog = system["catalog"]
    alice, mallory = Console(catalog, issuer), Console(catalog, issuer)
    [image_id] = await captured(alice, bus, tmp_path, ["web-golden"])
    detail = alice.image(image_id).json()
    assert (detail["status_label"], detail["source"]["host_name"]) == ("正常", "ecs-test")
    assert alice.private_tab()["quota"]["text"] == "您还可以创建9个私有镜像。"

    # Another tenant: exactly as if the image did not exist, for read, modify and delete.
    for response in (
        mallory.image(image_id),
        mallory.modify(image_id, name="mine-now"),
        mallory.delete(image_id),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "image_not_found"
        assert image_id in response.json()["detail"]
    assert mallory.delete_many([image_id]).json()["results"][0]["code"] == "image_not_found"

    # The owner: clear limits, then a change announced once, after capture's facts.
    too_long = alice.modify(image_id, name="x" * 129)
    assert (too_long.status_code, too_long.json()["code"]) == (422, "invalid_name")
    bad = alice.modify(image_id, description="<script>")
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_description")
    renamed = alice.modify(image_id, name="web golden v2")
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["description"]) == ("web golden v2", "golden")
    assert alice.modify(image_id, name="web golden v2").status_code == 200  # no change, no fact
    [ready] = await facts_of(bus, "ImageReady", image_id, 1)
    [updated] = await facts_of(bus, "ImageUpdated", image_id, 1)
    assert updated["sequence"] > ready["sequence"]
    assert updated["tenant"] == str(alice.account_id)
    assert updated["data"]["name"] == "web golden v2"
    assert updated["data"]["publish_status"] == "unpublished"

    # C7: published by an admin, it cannot be deleted; unpublished, it can.
    admin = Console(catalog, issuer, admin=True)
    assert admin.request("POST", f"/v1/images/{image_id}/publish").json()["publish_status"] == (
        "published"
    )
    refused = alice.delete(image_id)
    assert (refused.status_code, refused.json()["code"]) == (409, "image_published")
    assert "未发布" in refused.json()["detail"]
    unpublished = admin.request("POST", f"/v1/images/{image_id}/unpublish")
    assert unpublished.json()["publish_status_label"] == "未发布"
    stored = stack.tmp_dir / "images" / f"{image_id}.qcow2"
    assert stored.is_file()
    assert alice.delete(image_id).status_code == 204

    # Gone from every list and detail; capture removed the file; one ImageDeleted, last.
    assert alice.image(image_id).status_code == 404
    assert image_id not in {i["id"] for i in alice.private_tab()["items"]}
    assert alice.delete(image_id).status_code == 404
    await eventually(lambda: not stored.exists())
    updates = await facts_of(bus, "ImageUpdated", image_id, 3)
    assert [u["data"]["publish_status"] for u in updates] == [
        "unpublished",
        "published",
        "unpublished",
    ]
    [deleted] = await facts_of(bus, "ImageDeleted", image_id, 1)
    assert deleted["sequence"] == updates[-1]["sequence"] + 1
    assert deleted["data"]["account_id"] == str(alice.account_id)
    assert alice.private_tab()["quota"]["remaining"] == 10


async def test_a_batch_delete_answers_per_image_and_deletes_the_others(
    system: dict[str, ServiceProcess], bus: Bus, issuer: Issuer, tmp_path: Path
) -> None:
    catalog = system["catalog"]
    alice, bob = Console(catalog, issuer), Console(catalog, issuer)
    first, second, published = await captured(alice, bus, tmp_path, ["a", "b", "c"])
    [bobs] = await captured(bob, bus, tmp_path, ["bobs"])
    admin = Console(catalog, issuer, admin=True)
    assert admin.request("POST", f"/v1/images/{published}/publish").status_code == 200
    missing = str(uuid4())

    answer = alice.delete_many([first, missing, bobs, published, second, first])
    assert answer.status_code == 200
    assert [(r["image_id"], r["outcome"], r["code"]) for r in answer.json()["results"]] == [
        (first, "deleted", None),
        (missing, "refused", "image_not_found"),
        (bobs, "refused", "image_not_found"),  # bob's: not found, like a missing one
        (published, "refused", "image_published"),
        (second, "deleted", None),
    ]
    assert [i["id"] for i in alice.private_tab()["items"]] == [published]
    assert bob.status(bobs) == "normal"
    for image_id in (first, second):
        assert len(await facts_of(bus, "ImageDeleted", image_id, 1)) == 1

    too_many = alice.delete_many([uuid4() for _ in range(101)])
    assert (too_many.status_code, too_many.json()["code"]) == (422, "invalid_request")


async def test_admin_adds_and_retires_public_images(
    system: dict[str, ServiceProcess], bus: Bus, issuer: Issuer
) -> None:
    catalog = system["catalog"]
    admin, tenant = Console(catalog, issuer, admin=True), Console(catalog, issuer)
    added = admin.request(
        "POST",
        "/v1/public-images",
        json={
            "name": "Rocky Linux 9.4 64bit",
            "os": {"family": "linux", "distro": "Rocky Linux", "version": "9.4"},
            "system_disk_gb": 40,
            "min_memory_mb": 1024,
        },
    )
    assert added.status_code == 201, added.text
    image_id = added.json()["id"]
    assert added.headers["location"] == f"/v1/images/{image_id}"
    public_tab = tenant.get("/v1/images", tab="public", limit=100).json()["items"]
    assert public_tab[0]["name"] == "Rocky Linux 9.4 64bit"  # newest first
    assert public_tab[0]["publish_status"] == "published"

    # A tenant sees it but cannot change it.
    for response in (tenant.modify(image_id, name="mine"), tenant.delete(image_id)):
        assert (response.status_code, response.json()["code"]) == (403, "image_not_owned")
    unpublish = admin.request("POST", f"/v1/images/{image_id}/unpublish")
    assert (unpublish.status_code, unpublish.json()["code"]) == (409, "public_image")

    assert admin.request("DELETE", f"/v1/public-images/{image_id}").status_code == 204
    assert tenant.image(image_id).status_code == 404
    assert admin.request("DELETE", f"/v1/public-images/{image_id}").status_code == 404
    [announced] = await facts_of(bus, "PublicImageAdded", image_id, 1)
    [retired] = await facts_of(bus, "PublicImageRetired", image_id, 1)
    assert announced["tenant"] == retired["tenant"] == "platform"
    assert (announced["sequence"], retired["sequence"]) == (1, 2)
    assert announced["data"]["os"]["distro"] == "Rocky Linux"


async def test_seeded_public_images_are_announced_once_each(
    system: dict[str, ServiceProcess], bus: Bus
) -> None:
    await seeded_images_announced_once(bus)
