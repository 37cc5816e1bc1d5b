"""The tenant isolation matrix (issue 16): endpoints x callers, one case per cell, each
answered as docs/features.md says, and no answer carries another tenant's private data.

The world, built through the real APIs and events (as test_sharing_handshake.py does): the
owner captures two images for real, ``shared`` and ``private`` (never shared); ``shared``
is offered to four recipients, one left pending, one accepted, one rejected, one accepted
and then removed by the owner (revoked). Callers: the owner, another tenant, the four
recipients, an admin, no token, a bad token (signed by a key the services do not hold).

Where features.md is silent the table says what was chosen (``# chosen:``). Cells change
nothing (answers the API gives without changing state: reads, refusals, unchanged
answers), so every cell sees the same world whatever order they run in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from ims_testkit.tokens import Issuer
from tests.harness import Bus, ServiceProcess, eventually
from tests.infra import TestStack
from tests.integration.sharing_kit import (
    Tenant,
    captured_image,
    members_path,
    new_account,
    outcomes,
    sharing_knows,
)

CALLERS = ("owner", "other", "pending", "accepted", "rejected", "revoked", "admin", "none", "bad")
RECIPIENTS = ("pending", "accepted", "rejected", "revoked")


@dataclass(frozen=True)
class World:
    tokens: dict[str, str | None]  # caller -> bearer token (None: no header)
    ids: dict[str, UUID]  # caller -> account id
    shared: UUID
    private: UUID
    names: dict[UUID, str]  # image id -> name


@pytest.fixture(scope="module")
async def world(
    system: dict[str, ServiceProcess],
    stack: TestStack,
    issuer: Issuer,
    tmp_path_factory: pytest.TempPathFactory,
) -> World:
    catalog, sharing = system["catalog"], system["sharing"]
    disks = tmp_path_factory.mktemp("matrix-disks")
    async with Bus(stack) as bus:
        people: dict[str, Tenant] = {}
        for role in ("owner", "other", *RECIPIENTS, "admin"):
            people[role] = await new_account(bus, issuer, f"matrix-{role}-{uuid4().hex[:8]}")
        owner = people["owner"]
        shared = await captured_image(bus, catalog, owner, disks, "matrix-shared")
        private = await captured_image(bus, catalog, owner, disks, "matrix-private")
        await sharing_knows(stack, list(people.values()))
    offer = {"accounts": [{"name": people[r].name} for r in RECIPIENTS]}
    assert (
        outcomes(owner.call(sharing, "POST", members_path(shared), json=offer))
        == [("offered", None)] * 4
    )
    for role, answer in (("accepted", "accept"), ("revoked", "accept"), ("rejected", "reject")):
        body = {"image_ids": [str(shared)]}
        got = people[role].call(sharing, "POST", f"/v1/shared-images/{answer}", json=body)
        assert outcomes(got)[0][0] in ("accepted", "rejected"), got.text
    revoked = people["revoked"].account_id
    gone = owner.call(sharing, "DELETE", f"{members_path(shared)}/{revoked}")
    assert gone.status_code == 204, gone.text

    # The catalog and the notifier follow sharing's events: wait until the catalog agrees.
    def catalog_follows() -> bool:
        detail = owner.call(catalog, "GET", f"/v1/images/{shared}").json()
        return bool(detail["share_tenants"]["count"] == 3)

    await eventually(catalog_follows, timeout=60)
    admin = issuer.token(people["admin"].account_id, "matrix-admin", roles=("admin",))
    stranger = Issuer.generate()  # a well-formed token no service trusts
    tokens: dict[str, str | None] = {r: people[r].token for r in people}
    tokens |= {"admin": admin, "none": None, "bad": stranger.token(owner.account_id, "x")}
    ids = {r: people[r].account_id for r in people}
    names = {shared: "matrix-shared", private: "matrix-private"}
    return World(tokens, ids, shared, private, names)


# One row per endpoint: (service, method, path, body), then the expected status per caller.
# Paths use {shared} / {private} / {accepted_id} placeholders.
_ALL_401 = {"none": 401, "bad": 401}
ROWS: list[tuple[str, str, str, Any, dict[str, int]]] = [
    # C3: the owner's detail; an offered (pending) image can be looked at before answering;
    # another tenant's private image is 404 like a missing one.
    ("catalog", "GET", "/v1/images/{shared}", None,
     {"owner": 200, "other": 404, "pending": 200, "accepted": 200,
      "rejected": 200,  # chosen: a rejected offer can be re-accepted (S6), so it is visible
      "revoked": 404, "admin": 404,  # chosen: an admin has no tenant view of private images
      **_ALL_401}),
    ("catalog", "GET", "/v1/images/{private}", None,
     {"owner": 200, "other": 404, "pending": 404, "accepted": 404, "rejected": 404,
      "revoked": 404, "admin": 404, **_ALL_401}),
    # C4: owner only; everyone else 404. The owner's cell sends an empty change (422
    # nothing_to_update): the world stays as it is.
    ("catalog", "PATCH", "/v1/images/{shared}", {},
     {"owner": 422, "other": 404, "pending": 404, "accepted": 404, "rejected": 404,
      "revoked": 404, "admin": 404, **_ALL_401}),
    # C5: someone else's image is 404 (the owner's own delete is tested elsewhere).
    ("catalog", "DELETE", "/v1/images/{private}", None,
     {"other": 404, "pending": 404, "accepted": 404, "rejected": 404, "revoked": 404,
      "admin": 404, **_ALL_401}),
    ("catalog", "DELETE", "/v1/images/{shared}", None,
     {"other": 404, "pending": 404, "accepted": 404, "rejected": 404, "revoked": 404,
      "admin": 404, **_ALL_401}),
    # C2: lists answer 200 to any tenant; what they hold is checked below.
    ("catalog", "GET", "/v1/images?tab=shared", None,
     {r: 200 for r in ("owner", "other", *RECIPIENTS, "admin")} | _ALL_401),
    ("catalog", "GET", "/v1/images?tab=private", None,
     {r: 200 for r in ("owner", "other", *RECIPIENTS, "admin")} | _ALL_401),
    # C8: 200 with allowed or a reason, to every tenant.
    ("catalog", "POST", "/v1/launch-checks",
     {"image_id": "{shared}", "system_disk_gb": 40, "memory_mb": 4096},
     {r: 200 for r in ("owner", "other", *RECIPIENTS, "admin")} | _ALL_401),
    # C6/C9 admin routes: 403 to tenants.
    ("catalog", "GET", "/v1/accounts/{owner_id}/quota", None,
     {"owner": 403, "other": 403, "pending": 403, "accepted": 403, "rejected": 403,
      "revoked": 403, "admin": 200, **_ALL_401}),
    ("catalog", "GET", "/v1/usage?account_id={owner_id}", None,
     {"owner": 200, "other": 403, "pending": 403, "accepted": 403, "rejected": 403,
      "revoked": 403, "admin": 200, **_ALL_401}),
    # S2: the tenant list is the owner's only.
    ("sharing", "GET", "/v1/images/{shared}/members", None,
     {"owner": 200, "other": 404, "pending": 404, "accepted": 404, "rejected": 404,
      "revoked": 404, "admin": 404, **_ALL_401}),
    ("sharing", "POST", "/v1/images/{private}/members", {"accounts": [{"name": "{other_name}"}]},
     {"other": 404, "pending": 404, "accepted": 404, "rejected": 404, "revoked": 404,
      "admin": 404, **_ALL_401}),
    ("sharing", "DELETE", "/v1/images/{shared}/members", None,
     {"other": 404, "pending": 404, "accepted": 404, "rejected": 404, "revoked": 404,
      "admin": 404, **_ALL_401}),
    ("sharing", "DELETE", "/v1/images/{shared}/members/{accepted_id}", None,
     {"other": 404, "pending": 404, "accepted": 404, "rejected": 404, "revoked": 404,
      "admin": 404, **_ALL_401}),
    # S3: an offer made to someone else answers 404 offer_not_found. Re-accepting an
    # accepted offer is "unchanged" (200) and changes nothing.
    ("sharing", "POST", "/v1/shared-images/accept", {"image_ids": ["{private}"]},
     {"owner": 404, "other": 404, "pending": 404, "accepted": 404, "rejected": 404,
      "revoked": 404, "admin": 404, **_ALL_401}),
    ("sharing", "POST", "/v1/shared-images/accept", {"image_ids": ["{shared}"]},
     {"owner": 404, "other": 404, "accepted": 200, "revoked": 404,  # chosen: revoked is gone
      "admin": 404, **_ALL_401}),
    ("sharing", "POST", "/v1/shared-images/reject", {"image_ids": ["{shared}"]},
     {"owner": 404, "other": 404, "rejected": 200, "revoked": 404, "admin": 404, **_ALL_401}),
    ("sharing", "GET", "/v1/shared-images", None,
     {r: 200 for r in ("owner", "other", *RECIPIENTS, "admin")} | _ALL_401),
    # N1/N3: a tenant's own prompt and inbox only.
    ("notifier", "GET", "/v1/prompts", None,
     {r: 200 for r in ("owner", "other", *RECIPIENTS, "admin")} | _ALL_401),
    ("notifier", "GET", "/v1/notices", None,
     {r: 200 for r in ("owner", "other", *RECIPIENTS, "admin")} | _ALL_401),
    # K1: the picker lists the caller's own hosts only.
    ("capture", "GET", "/v1/hosts", None,
     {r: 200 for r in ("owner", "other", *RECIPIENTS, "admin")} | _ALL_401),
]  # fmt: skip

CELLS = [
    pytest.param(row, caller, status, id=f"{row[1]} {row[2]} as {caller}")
    for row in ROWS
    for caller, status in row[4].items()
]

# Which of the owner's images each caller may see named in any answer: the rest is a leak.
VISIBLE = {
    "owner": {"shared", "private"},
    "pending": {"shared"},
    "accepted": {"shared"},
    "rejected": {"shared"},
}


def _fill(value: Any, world: World) -> Any:
    words = {
        "{shared}": str(world.shared),
        "{private}": str(world.private),
        "{owner_id}": str(world.ids["owner"]),
        "{accepted_id}": str(world.ids["accepted"]),
        "{other_name}": "matrix-other",
    }
    if isinstance(value, str):
        for key, word in words.items():
            value = value.replace(key, word)
        return value
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("row", "caller", "expected"), CELLS)
def test_cell(
    row: tuple[str, str, str, Any, dict[str, int]],
    caller: str,
    expected: int,
    world: World,
    system: dict[str, ServiceProcess],
) -> None:
    service, method, path, body, _ = row
    token = world.tokens[caller]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = httpx.request(
        method,
        system[service].url(_fill(path, world)),
        json=_fill(body, world),
        headers=headers,
        timeout=30,
    )
    assert answer.status_code == expected, answer.text
    if answer.status_code >= 400:
        assert answer.headers["content-type"] == "application/problem+json"
    # No answer names an image of the owner's its caller may not see.
    # (An id the caller sent may come back, e.g. in a refusal's detail: it knew it.)
    sent = f"{_fill(path, world)} {_fill(body, world)}"
    seen = VISIBLE.get(caller, set())
    for label, image_id in (("shared", world.shared), ("private", world.private)):
        if label not in seen:
            if str(image_id) not in sent:
                assert str(image_id) not in answer.text, f"{caller} sees {label}"
            assert world.names[image_id] not in answer.text, f"{caller} sees {label}'s name"
