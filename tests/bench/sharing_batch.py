"""Benchmark 2: batch share (10 images x 128 accounts a request) + accept-all.

    .venv/bin/python -m tests.bench.sharing_batch [--owners 8] [--clients 8] [--runs 3]

Each owner shares its 10 images with the same 128 accounts in one request
(POST /v1/shares, answered per pair: 1,280 pairs); then each of the 128 accounts accepts
everything pending in one request (POST /v1/shared-images/accept {"all": true}); 8 clients
at a time. Reported: pairs/s of the two phases together, of each phase, the requests'
latency, and when the catalog lists every pair as accepted and the notifier has resolved
every prompt; compared, round by round in the same run, with Glance 33's pairs/s (it has no
batch: member-add + accept one pair at a time, 8 clients, on the same PostgreSQL server;
tests/bench/reference_glance.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import aiohttp

from deploy.stack import postgres
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

IMAGES_PER_REQUEST = 10
ACCOUNTS = 128


async def run(bench: Bench, owners_count: int, clients: int) -> dict[str, Any]:
    sharing = bench.services["sharing"]
    async with bench.bus() as bus:
        owners = await announce_accounts(bus, bench.issuer, owners_count, "owner")
        members = await announce_accounts(bus, bench.issuer, ACCOUNTS, "member")
        images = {
            o.account_id: await announce_images(bench, bus, o.account_id, IMAGES_PER_REQUEST)
            for o in owners
        }
    await bench.until("sharing", "SELECT count(*) FROM accounts", owners_count + ACCOUNTS)
    await bench.until("sharing", "SELECT count(*) FROM images WHERE status = 'normal'",
                      owners_count * IMAGES_PER_REQUEST)  # fmt: skip
    pairs = owners_count * IMAGES_PER_REQUEST * ACCOUNTS
    gate = asyncio.Semaphore(clients)
    share_latency: list[float] = []
    accept_latency: list[float] = []

    async def share(session: aiohttp.ClientSession, owner: Tenant) -> None:
        body = {
            "image_ids": [str(i) for i in images[owner.account_id]],
            "accounts": [{"name": m.name} for m in members],
        }
        async with gate:
            started = time.perf_counter()
            async with session.post(sharing.url("/v1/shares"), json=body,
                                    headers=owner.headers()) as response:  # fmt: skip
                answer = await response.json()
            share_latency.append(time.perf_counter() - started)
        assert response.status == 200, answer
        assert all(r["outcome"] == "offered" for r in answer["results"]), answer["results"][:3]

    async def accept_all(session: aiohttp.ClientSession, member: Tenant) -> None:
        async with gate:
            started = time.perf_counter()
            async with session.post(sharing.url("/v1/shared-images/accept"), json={"all": True},
                                    headers=member.headers()) as response:  # fmt: skip
                answer = await response.json()
            accept_latency.append(time.perf_counter() - started)
        assert response.status == 200, answer
        assert len(answer["results"]) == owners_count * IMAGES_PER_REQUEST

    cpu_before = bench.cpu()
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        start = time.perf_counter()
        await asyncio.gather(*(share(session, o) for o in owners))
        shared = time.perf_counter()
        await asyncio.gather(*(accept_all(session, m) for m in members))
        accepted = time.perf_counter()
    await bench.until("catalog", "SELECT count(*) FROM memberships WHERE status = 'accepted'",
                      pairs)  # fmt: skip
    visible = time.perf_counter()
    await bench.until("notifier", "SELECT count(*) FROM inbox", 2 * pairs + owners_count * 10)
    settled = (
        "SELECT (NOT EXISTS (SELECT 1 FROM prompt_offers)"
        " AND NOT EXISTS (SELECT 1 FROM prompts WHERE changed))::int"
    )
    await bench.until("notifier", settled, 1)
    resolved = time.perf_counter()
    cpu_after = bench.cpu()
    versions = await bench.count(
        "notifier", "SELECT count(*) FROM outbox WHERE topic LIKE '%SharePromptUpdated'"
    )
    rate = pairs / (accepted - start)
    return {
        "pairs": pairs,
        "share_requests": owners_count,
        "accept_all_requests": ACCOUNTS,
        "clients": clients,
        "pairs_per_s": round(rate, 1),
        "share_phase_pairs_per_s": round(pairs / (shared - start), 1),
        "accept_phase_pairs_per_s": round(pairs / (accepted - shared), 1),
        "share_request": summary(share_latency),
        "accept_all_request": summary(accept_latency),
        "seconds_until_catalog_lists_all": round(visible - start, 2),
        "seconds_until_every_prompt_resolved": round(resolved - start, 2),
        "prompt_versions_published": versions,
        "cpu_ms_per_pair": cpu_ms_per(cpu_before, cpu_after, pairs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owners", type=int, default=8)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3, help="rounds of Glance then IMS")
    parser.add_argument("--glance-pairs", type=int, default=1000)
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
            lambda: run(bench, args.owners, args.clients),
            glance_pairs=args.glance_pairs,
            clients=args.clients,
            runs=args.runs,
        )
    print(json.dumps({"benchmark": "sharing_batch", "machine_before": before,
                      "result": result, "load_average_after": machine()["load_average"]},
                     indent=2, ensure_ascii=False))  # fmt: skip


if __name__ == "__main__":
    main()
