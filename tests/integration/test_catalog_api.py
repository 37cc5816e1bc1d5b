"""The catalog's HTTP API over real data: list tabs, filters, cursor pagination (C2), and
problem documents for bad requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx

from ims_testkit.tokens import Issuer
from tests.harness import Bus, ServiceProcess, eventually, token_for
from tests.integration import facts


def get(catalog: ServiceProcess, path: str, token: str | None, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(catalog.url(path), params=params, headers=headers, timeout=5)


async def captured_images(bus: Bus, tmp_path: Path, account: UUID, names: list[str]) -> None:
    host_id = uuid4()
    disk = facts.make_disk(tmp_path, 4096)
    await bus.send(facts.host(account, host_id, disk), subject=host_id, tenant=account)
    for name in names:
        image_id = uuid4()
        await bus.send(
            facts.capture(account, host_id, image_id, name), subject=image_id, tenant=account
        )


async def test_private_tab_pages_newest_first_and_filters(
    system: dict[str, ServiceProcess], bus: Bus, issuer: Issuer, tmp_path: Path
) -> None:
    catalog, account = system["catalog"], uuid4()
    token = token_for(issuer, account)
    names = [f"img-{i}" for i in range(5)]
    await captured_images(bus, tmp_path, account, names)

    def all_normal() -> bool:
        items = get(catalog, "/v1/images", token, status="normal", limit=100).json()["items"]
        return len(items) == len(names)

    await eventually(all_normal, timeout=90)

    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(10):  # bounded: 5 images in pages of 2 is 3 pages
        params: dict[str, Any] = {"tab": "private", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = get(catalog, "/v1/images", token, **params).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len({i["id"] for i in seen}) == 5
    created = [i["created_at"] for i in seen]
    assert created == sorted(created, reverse=True)
    assert [i["name"] for i in get(catalog, "/v1/images", token, name="IMG-3").json()["items"]] == [
        "img-3"
    ]
    assert get(catalog, "/v1/images", token, os_family="windows").json()["items"] == []
    # Another tenant sees none of them.
    assert get(catalog, "/v1/images", token_for(issuer, uuid4())).json()["items"] == []


def test_public_tab_lists_the_platform_images(
    system: dict[str, ServiceProcess], issuer: Issuer
) -> None:
    token = token_for(issuer, uuid4())
    items = get(system["catalog"], "/v1/images", token, tab="public", limit=100).json()["items"]
    assert [i["name"] for i in items] == [
        "CentOS 7.9 64bit",
        "Ubuntu 22.04 server 64bit",
        "Debian 12 64bit",
        "EulerOS 2.9 64bit",
        "Windows Server 2019 Datacenter 64bit",
        "Windows Server 2022 Datacenter 64bit",
    ]
    assert {i["status_label"] for i in items} == {"正常"}
    assert {i["publish_status_label"] for i in items} == {"已发布"}
    windows = get(system["catalog"], "/v1/images", token, tab="public", os_family="windows").json()
    assert len(windows["items"]) == 2


def test_bad_requests_get_problem_documents(
    system: dict[str, ServiceProcess], issuer: Issuer
) -> None:
    catalog, token = system["catalog"], token_for(issuer, uuid4())

    missing = get(catalog, "/v1/images", None)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert missing.headers["content-type"] == "application/problem+json"
    assert get(catalog, "/v1/images", "forged.token.value").status_code == 401
    assert get(catalog, "/v1/images", token_for(Issuer.generate(), uuid4())).status_code == 401

    invalid = get(catalog, "/v1/images", token, limit=0)
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["field"] == "query.limit"
    bad_cursor = get(catalog, "/v1/images", token, cursor="garbage")
    assert (bad_cursor.status_code, bad_cursor.json()["code"]) == (400, "invalid_cursor")
    assert get(catalog, "/v1/images", token, tab="everything").status_code == 422
    unknown = get(catalog, f"/v1/images/{uuid4()}", token)
    assert unknown.status_code == 404
    assert unknown.json()["title"] == "Not Found"
    assert get(catalog, "/v1/images/not-a-uuid", token).status_code == 422
