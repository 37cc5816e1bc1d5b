"""Benchmark 1: share + accept through the HTTP API with 8 concurrent client pairs, until the
catalog's shared tab lists every pair.

    .venv/bin/python -m tests.bench.sharing_handshake [--pairs 2000] [--clients 8] [--runs 3]

Each client pair is an owner and its recipients: the owner offers one of its images to one
recipient (POST /v1/images/{id}/members), the recipient accepts it (POST
/v1/shared-images/accept), and the pair moves on. Reported: pairs/s from the first offer
until the catalog lists the last pair as accepted, the HTTP round trips, and the latency from
the accept's answer to the pair being visible in the catalog (first seen committed in the
catalog's memberships, polled every 5 ms for the pairs accepted and not seen yet; the shared
tab of every recipient is checked through the API at the end). The reference runs in the same
run, round by round before IMS: OpenStack Glance 33 on the same PostgreSQL server, 2 workers x
4 threads, the same pairs and clients, member-add + accept (tests/bench/reference_glance.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any
from uuid import UUID

import aiohttp
import asyncpg

from deploy.stack import postgres
from schemas.events import membership_id
from tests.bench.common import (
    Bench,
    announce_accounts,
    announce_images,
    bench_stack,
    cpu_ms_per,
    machine,
    summary,
)
from tests.bench.reference_glance import side_by_side
from tests.integration.sharing_kit import Tenant


async def run(bench: Bench, pairs: int, clients: int) -> dict[str, Any]:
    sharing, catalog = bench.services["sharing"], bench.services["catalog"]
    per_client = pairs // clients
    recipients_per_image = 100
    images_per_owner = -(-per_client // recipients_per_image)
    async with bench.bus() as bus:
        owners = await announce_accounts(bus, bench.issuer, clients, "owner")
        recipients = await announce_accounts(bus, bench.issuer, recipients_per_image, "member")
        images = {
            o.account_id: await announce_images(bench, bus, o.account_id, images_per_owner)
            for o in owners
        }
    await bench.until("sharing", "SELECT count(*) FROM accounts", clients + recipients_per_image)
    await bench.until("sharing", "SELECT count(*) FROM images WHERE status = 'normal'",
                      clients * images_per_owner)  # fmt: skip
    plan = {
        owner.account_id: [
            (
                images[owner.account_id][n // recipients_per_image],
                recipients[n % recipients_per_image],
            )
            for n in range(per_client)
        ]
        for owner in owners
    }
    accepted_at: dict[UUID, float] = {}
    round_trips: list[float] = []
    visible_at: dict[UUID, float] = {}
    done = asyncio.Event()
    expected = {membership_id(i, r.account_id) for steps in plan.values() for i, r in steps}

    async def watch() -> None:
        """Poll the catalog for the accepted pairs not seen yet (only those: the poll stays
        small and cheap however many pairs are done)."""
        conn = await asyncpg.connect(
            bench.stack.dsns["catalog"], server_settings={"search_path": "catalog"}
        )
        try:
            while len(visible_at) < len(expected):
                waiting = [m for m in accepted_at if m not in visible_at]
                rows = await conn.fetch(
                    "SELECT membership_id FROM memberships"
                    " WHERE membership_id = ANY($1::uuid[]) AND status = 'accepted'",
                    waiting,
                )
                now = time.perf_counter()
                for row in rows:
                    visible_at.setdefault(row["membership_id"], now)
                await asyncio.sleep(0.005)
        finally:
            await conn.close()
            done.set()

    async def client_pair(session: aiohttp.ClientSession, owner: Tenant) -> None:
        for image_id, recipient in plan[owner.account_id]:
            started = time.perf_counter()
            async with session.post(
                sharing.url(f"/v1/images/{image_id}/members"),
                json={"accounts": [{"name": recipient.name}]}, headers=owner.headers(),
            ) as response:  # fmt: skip
                assert response.status == 200, await response.text()
                assert (await response.json())["results"][0]["outcome"] == "offered"
            async with session.post(
                sharing.url("/v1/shared-images/accept"),
                json={"image_ids": [str(image_id)]}, headers=recipient.headers(),
            ) as response:  # fmt: skip
                assert response.status == 200, await response.text()
                assert (await response.json())["results"][0]["outcome"] == "accepted"
            now = time.perf_counter()
            round_trips.append(now - started)
            accepted_at[membership_id(image_id, recipient.account_id)] = now

    cpu_before = bench.cpu()
    watcher = asyncio.create_task(watch())
    connector = aiohttp.TCPConnector(limit=clients * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        await asyncio.gather(*(client_pair(session, owner) for owner in owners))
        http_done = time.perf_counter()
        await asyncio.wait_for(done.wait(), 300)
        end = max(visible_at[m] for m in expected)
        await watcher
        cpu_after = bench.cpu()
        # Through the API, as the console sees it: every recipient's shared tab lists its pairs.
        listed = 0
        for recipient in recipients:
            async with session.get(
                catalog.url("/v1/images"), params={"tab": "shared", "limit": "100"},
                headers=recipient.headers(),
            ) as response:  # fmt: skip
                page = await response.json()
                listed += len(page["items"])
                while page["next_cursor"]:
                    async with session.get(
                        catalog.url("/v1/images"),
                        params={"tab": "shared", "limit": "100", "cursor": page["next_cursor"]},
                        headers=recipient.headers(),
                    ) as more:  # fmt: skip
                        page = await more.json()
                        listed += len(page["items"])
    total = len(expected)
    latency = [max(0.0, visible_at[m] - accepted_at[m]) for m in expected]
    rate = total / (end - start)
    return {
        "pairs": total,
        "clients": clients,
        "listed_in_shared_tabs": listed,
        "seconds_to_all_visible": round(end - start, 2),
        "pairs_per_s": round(rate, 1),
        "http_only_pairs_per_s": round(total / (http_done - start), 1),
        "share_plus_accept_round_trip": summary(round_trips),
        "accept_to_visible": summary(latency),
        "cpu_ms_per_pair": cpu_ms_per(cpu_before, cpu_after, total),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3, help="rounds of Glance then IMS")
    parser.add_argument(
        "--http-processes", type=int, default=1, help="IMS_HTTP_PROCESSES of sharing"
    )
    args = parser.parse_args()
    before = machine()
    env = {"sharing": {"IMS_HTTP_PROCESSES": str(args.http_processes)}}
    with bench_stack(["catalog", "sharing", "notifier"], env) as bench:
        result = side_by_side(
            bench.stack.admin_dsn,
            str(postgres.choose_home(bench.stack.tmp_dir)),
            lambda: run(bench, args.pairs, args.clients),
            glance_pairs=args.pairs,
            clients=args.clients,
            runs=args.runs,
        )
    print(json.dumps({"benchmark": "sharing_handshake", "machine_before": before,
                      "result": result, "load_average_after": machine()["load_average"]},
                     indent=2, ensure_ascii=False))  # fmt: skip


if __name__ == "__main__":
    main()
