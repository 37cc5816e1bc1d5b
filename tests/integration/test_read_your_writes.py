"""Read your own writes (services.common.consistency): a share's or an answer's token, sent
back to the catalog, makes the catalog's read wait until it has applied that write's facts.

The catalog is held behind a write on purpose: a transaction of the test locks the
membership's version line in the catalog's database, so the catalog's consumer blocks on
it and cannot apply the accept until the test lets go. A read sent meanwhile with the token
must wait and then show the change; without the token's wait it answers at once, without it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import httpx

from ims_testkit.tokens import Issuer
from schemas.events import MEMBERSHIP, membership_id
from services.common.consistency import HEADER, READ_AFTER_WAIT_S
from tests.harness import Bus, ServiceProcess, eventually, token_for
from tests.infra import TestStack
from tests.integration.sharing_kit import (
    Tenant,
    captured_image,
    fetch_value,
    members_path,
    new_account,
    outcomes,
    sharing_knows,
)


@asynccontextmanager
async def catalog_held_at(stack: TestStack, membership: UUID) -> AsyncIterator[asyncpg.Connection]:
    """The catalog cannot apply a fact of ``membership`` while this block runs."""
    conn = await asyncpg.connect(stack.dsns["catalog"], server_settings={"search_path": "catalog"})
    try:
        async with conn.transaction():
            locked = await conn.fetchval(
                "SELECT version FROM aggregate_versions"
                " WHERE aggregate_type = $1 AND aggregate_id = $2 FOR UPDATE",
                MEMBERSHIP,
                str(membership),
            )
            assert locked is not None, "the offer is not in the catalog yet"
            yield conn
    finally:
        await conn.close()


async def accept_while_held(
    sharing: ServiceProcess, bob: Tenant, image: UUID, held: asyncpg.Connection
) -> str:
    """bob accepts; once the catalog's consumer is blocked on the held line (so the accept
    applies the moment the hold ends, however loaded the machine), the accept's token."""
    accepted = bob.call(sharing, "POST", "/v1/shared-images/accept",
                        json={"image_ids": [str(image)]})  # fmt: skip
    assert outcomes(accepted) == [("accepted", None)]

    async def catalog_blocked() -> bool:
        waiting = await held.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return bool(waiting)

    await eventually(catalog_blocked, timeout=60)
    return accepted.headers[HEADER]


def shared_tab_after(catalog: ServiceProcess, tenant: Tenant, token: str) -> httpx.Response:
    return httpx.get(
        catalog.url("/v1/images"),
        params={"tab": "shared", "limit": 100},
        headers={**tenant.headers(), HEADER: token},
        timeout=30,
    )


async def offered(
    system: dict[str, ServiceProcess], bus: Bus, stack: TestStack, issuer: Issuer, disks: Path
) -> tuple[Tenant, Tenant, UUID]:
    """alice's image offered to bob, the offer applied by the catalog."""
    catalog, sharing = system["catalog"], system["sharing"]
    alice, bob = await new_account(bus, issuer), await new_account(bus, issuer)
    image = await captured_image(bus, catalog, alice, disks)
    await sharing_knows(stack, [alice, bob])
    shared = alice.call(
        sharing, "POST", members_path(image), json={"accounts": [{"name": bob.name}]}
    )
    assert [r["outcome"] for r in shared.json()["results"]] == ["offered"], shared.text
    assert shared.headers[HEADER]  # the share's own token

    async def in_catalog() -> bool:
        sql = "SELECT status FROM memberships WHERE membership_id = $1"
        status = await fetch_value(stack, "catalog", sql, membership_id(image, bob.account_id))
        return bool(status == "pending")

    await eventually(in_catalog, timeout=60)
    return alice, bob, image


async def test_a_read_with_the_accepts_token_waits_for_the_catalog_and_shows_the_image(
    system: dict[str, ServiceProcess], bus: Bus, stack: TestStack, issuer: Issuer, tmp_path: Path
) -> None:
    catalog, sharing = system["catalog"], system["sharing"]
    _, bob, image = await offered(system, bus, stack, issuer, tmp_path)

    async with catalog_held_at(stack, membership_id(image, bob.account_id)) as held:
        token = await accept_while_held(sharing, bob, image, held)
        read = asyncio.create_task(asyncio.to_thread(shared_tab_after, catalog, bob, token))
        await asyncio.sleep(0.2)  # the read is waiting: the catalog is held
        assert not read.done(), read.result().text if read.done() else ""
    answered = await read  # the hold ends: the catalog applies the accept, the read answers

    assert answered.status_code == 200, answered.text
    assert answered.headers[HEADER] == "applied"
    assert [i["id"] for i in answered.json()["items"]] == [str(image)]


async def test_a_read_waits_boundedly_and_says_when_the_write_is_not_applied_yet(
    system: dict[str, ServiceProcess], bus: Bus, stack: TestStack, issuer: Issuer, tmp_path: Path
) -> None:
    catalog, sharing = system["catalog"], system["sharing"]
    _, bob, image = await offered(system, bus, stack, issuer, tmp_path)

    async with catalog_held_at(stack, membership_id(image, bob.account_id)) as held:
        token = await accept_while_held(sharing, bob, image, held)
        started = asyncio.get_running_loop().time()
        answered = await asyncio.to_thread(shared_tab_after, catalog, bob, token)
        waited = asyncio.get_running_loop().time() - started

    assert answered.status_code == 200, answered.text
    assert answered.headers[HEADER] == "timeout"
    assert answered.json()["items"] == []  # the catalog has not applied it: it says so
    assert READ_AFTER_WAIT_S * 0.9 <= waited < READ_AFTER_WAIT_S + 10
    check = httpx.post(
        catalog.url("/v1/launch-checks"),
        json={"image_id": str(image), "system_disk_gb": 40, "memory_mb": 4096},
        headers={**bob.headers(), HEADER: token},
        timeout=30,
    )
    assert check.status_code == 200, check.text
    assert check.json()["allowed"] is True  # the hold is over: this read waited for it
    assert check.headers[HEADER] == "applied"


def test_a_token_no_write_answered_is_said_so_and_the_read_goes_on(
    system: dict[str, ServiceProcess], issuer: Issuer
) -> None:
    catalog = system["catalog"]
    reader = Tenant(uuid4(), "reader", token_for(issuer, uuid4(), "reader"))
    for bad in ("not-a-token", "eJwLSa0oAQAD5wGm"):  # not base64; zlib of "Text"
        response = httpx.get(
            catalog.url("/v1/images"),
            params={"tab": "shared"},
            headers={**reader.headers(), HEADER: bad},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        assert response.headers[HEADER] == "invalid"
