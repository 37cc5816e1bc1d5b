"""C9: the bytes an account stores, as billing sees them (StorageUsageChanged) and as the
API answers them, equal the files in the image store after a mixed sequence of captures,
a failed capture and deletions; each change is announced once, in order."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from ims_testkit.tokens import Issuer
from tests.harness import Bus, ServiceProcess, eventually
from tests.infra import TestStack
from tests.integration.announced import facts_of
from tests.integration.console import Console, stopped_host


def stored_files(store: Path, image_ids: list[str]) -> dict[str, int]:
    """What capture keeps in the image store for these images: file name -> bytes."""
    return {
        path.name: path.stat().st_size
        for image_id in image_ids
        for path in store.glob(f"{image_id}.*")
    }


async def test_usage_equals_the_stored_files_after_captures_failures_and_deletes(
    system: dict[str, ServiceProcess], stack: TestStack, bus: Bus, issuer: Issuer, tmp_path: Path
) -> None:
    store = stack.tmp_dir / "images"
    alice = Console(system["catalog"], issuer)
    small = await stopped_host(bus, tmp_path, alice.account_id, 3000)
    large = await stopped_host(bus, tmp_path, alice.account_id, 5 * 1024 * 1024 + 7)
    running = await stopped_host(bus, tmp_path, alice.account_id, 2000, state="running")
    not_mine = await stopped_host(bus, tmp_path, UUID(int=7), 1000)

    def create(host_id: UUID, name: str) -> str:
        response = alice.create(host_id, name)
        assert response.status_code == 202, response.text
        return str(response.json()["image_id"])

    images = {
        "small": create(small, "small"),
        "large": create(large, "large"),
        "small-again": create(small, "small-again"),
        "running": create(running, "running"),  # fails: the host runs
        "not-mine": create(not_mine, "not-mine"),  # fails: someone else's host
    }
    ids = list(images.values())
    terminal = {"normal", "failed"}
    await eventually(lambda: all(alice.status(i) in terminal for i in ids), timeout=90)
    statuses = {name: alice.status(image_id) for name, image_id in images.items()}
    assert statuses == {
        "small": "normal",
        "large": "normal",
        "small-again": "normal",
        "running": "failed",
        "not-mine": "failed",
    }
    assert alice.image(images["running"]).json()["failure"]["code"] == "host_running"
    assert alice.image(images["not-mine"]).json()["failure"]["code"] == "host_unknown"
    usage = alice.get("/v1/usage").json()
    before = stored_files(store, ids)
    assert (usage["stored_bytes"], usage["stored_images"]) == (sum(before.values()), 3)
    small_bytes = before[f"{images['small']}.qcow2"]  # a qcow2: not the disk's 3000 bytes

    # Delete a stored image and a failed one (which stored nothing).
    assert alice.delete_many([images["small"], images["running"]]).json()["results"] == [
        {"image_id": images["small"], "outcome": "deleted", "code": None, "detail": None},
        {"image_id": images["running"], "outcome": "deleted", "code": None, "detail": None},
    ]
    await eventually(lambda: not stored_files(store, [images["small"]]))
    files = stored_files(store, ids)
    assert sorted(files) == sorted(f"{images[n]}.qcow2" for n in ("large", "small-again"))
    usage = alice.get("/v1/usage").json()
    assert (usage["stored_bytes"], usage["stored_images"]) == (sum(files.values()), 2)
    assert usage["stored_label"] == f"{sum(files.values()) / 1024**3:.3f} GB"  # 0.006 GB

    # Billing heard each change once, in order: three captures stored, one image deleted;
    # the failures and the failed image's deletion changed nothing it pays for.
    facts = await facts_of(bus, "StorageUsageChanged", str(alice.account_id), 4)
    assert [f["sequence"] for f in facts] == [1, 2, 3, 4]
    assert {f["tenant"] for f in facts} == {str(alice.account_id)}
    assert facts[-1]["data"]["stored_bytes"] == usage["stored_bytes"]
    assert facts[-1]["data"]["stored_images"] == 2
    assert facts[-1]["data"]["delta_bytes"] == -small_bytes
    assert facts[-1]["data"]["image_id"] == images["small"]
    assert sum(f["data"]["delta_bytes"] for f in facts) == usage["stored_bytes"]
    for name in ("small", "running"):
        assert len(await facts_of(bus, "ImageDeleted", images[name], 1)) == 1

    # An admin reads anyone's usage; a tenant only its own.
    admin = Console(system["catalog"], issuer, admin=True)
    assert admin.get("/v1/usage", account_id=str(alice.account_id)).json() == usage
    other = Console(system["catalog"], issuer).get("/v1/usage", account_id=str(alice.account_id))
    assert (other.status_code, other.json()["code"]) == (403, "forbidden")
