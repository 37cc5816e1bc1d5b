"""Benchmark 3: ShareOffered -> the prompt on the topic SharePromptUpdated.

    .venv/bin/python -m tests.bench.prompt_latency [--rate 500] [--seconds 20] [--find-max]

ShareOffered facts are published on Kafka at a steady rate, as sharing publishes them, each
to an account of its own (every offer makes a new prompt version: the worst case, with no
burst to coalesce). Latency: from handing the offer to the producer until a consumer reads
the recipient's prompt listing it. Only the notifier runs. ``--find-max`` then raises the
rate step by step until the notifier no longer keeps up (p99 over 1 s, or prompts missing
2 s after the last offer): the highest rate it kept up with is reported as sustained.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from schemas.envelope import Envelope
from schemas.events import ShareOffered, membership_id
from services.common.codec import build_envelope, encode
from tests.bench.common import Bench, bench_stack, cpu_ms_per, machine, summary

KEEP_UP_P99_S = 1.0
DRAIN_S = 2.0


def offers(count: int) -> list[tuple[UUID, bytes]]:
    """(membership id, record value) of ``count`` offers, each to an account of its own."""
    owner, now = uuid4(), datetime.now(UTC)
    built = []
    for i in range(count):
        image_id, member = uuid4(), uuid4()
        fact = ShareOffered(
            membership_id=membership_id(image_id, member), image_id=image_id,
            image_name=f"img-{i}", owner_account_id=owner, owner_account_name="owner",
            member_account_id=member, member_account_name=f"member-{i}", offered_at=now,
        )  # fmt: skip
        envelope: Envelope[Any] = build_envelope(
            fact, source="/ims/sharing", subject=str(fact.membership_id), tenant=str(owner),
            sequence=1,
        )  # fmt: skip
        built.append((fact.membership_id, encode(envelope)))
    return built


async def step(bench: Bench, rate: int, seconds: float) -> dict[str, Any]:
    topic = bench.stack.topic("ShareOffered")
    prompts_topic = bench.stack.topic("SharePromptUpdated")
    planned = offers(int(rate * seconds))
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    all_seen = asyncio.Event()
    consumer = AIOKafkaConsumer(
        prompts_topic, **bench.stack.kafka_client_config(),
        auto_offset_reset="latest", enable_auto_commit=False, fetch_max_wait_ms=5,
    )  # fmt: skip
    await consumer.start()
    await consumer.seek_to_end()
    for partition in consumer.assignment():
        await consumer.position(partition)  # resolve "latest" before the first offer

    async def read() -> None:
        while True:
            batch = await consumer.getmany(timeout_ms=50)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    for image in json.loads(record.value or b"{}")["data"]["images"]:
                        seen.setdefault(image["membership_id"], now)
            if len(seen) >= len(planned):
                all_seen.set()

    reader = asyncio.create_task(read())
    cpu_before = bench.cpu()
    producer = AIOKafkaProducer(**bench.stack.kafka_client_config(), acks="all", linger_ms=1)
    await producer.start()
    tick = 0.01
    start = time.perf_counter()
    try:
        for n, (member, value) in enumerate(planned):
            due = start + n / rate
            if (wait := due - time.perf_counter()) > tick:
                await asyncio.sleep(wait)
            sent[str(member)] = time.perf_counter()
            await producer.send(topic, value=value, key=str(member).encode())
        await producer.flush()
        last = time.perf_counter()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_seen.wait(), 60)
        cpu_after = bench.cpu()
    finally:
        reader.cancel()
        await producer.stop()
        await consumer.stop()
    late = [m for m in sent if m not in seen or seen[m] > last + DRAIN_S]
    latencies = [seen[m] - sent[m] for m in sent if m in seen]
    stats = summary(latencies)
    return {
        "rate_per_s": rate,
        "offers": len(sent),
        "achieved_send_rate_per_s": round(len(sent) / (last - start), 1),
        "prompts_seen": len(seen),
        "late_or_missing": len(late),
        **stats,
        "kept_up": not late and stats["p99_ms"] < KEEP_UP_P99_S * 1000,
        "cpu_ms_per_offer": cpu_ms_per(cpu_before, cpu_after, len(sent)),
    }


async def run(bench: Bench, rate: int, seconds: float, find_max: bool) -> dict[str, Any]:
    # Warm-up: Kafka's JIT (its CPU per record falls ~5x in the first minute), connections,
    # the group's assignment.
    await step(bench, 200, 20)
    result: dict[str, Any] = {"steady": await step(bench, rate, seconds)}
    if find_max:
        steps, sustained = [], 0
        for candidate in (100, 200, 300, 400, 500, 600, 800, 1000, 1300, 1600, 2000):
            outcome = await step(bench, candidate, 15)
            steps.append(outcome)
            if not outcome["kept_up"]:
                break
            sustained = candidate
            await asyncio.sleep(3)
        result["steps"] = steps
        result["highest_rate_sustained_per_s"] = sustained
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--find-max", action="store_true")
    args = parser.parse_args()
    before = machine()
    with bench_stack(["notifier"]) as bench:
        result = asyncio.run(run(bench, args.rate, args.seconds, args.find_max))
    print(json.dumps({"benchmark": "prompt_latency", "machine_before": before,
                      "result": result, "load_average_after": machine()["load_average"]},
                     indent=2, ensure_ascii=False))  # fmt: skip


if __name__ == "__main__":
    main()
