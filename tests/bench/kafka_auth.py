"""What Kafka authentication costs: the throughput and handshake benchmarks with SASL/SCRAM
and ACLs on, against a broker that asks for no login, side by side in one run.

    .venv/bin/python -m tests.bench.kafka_auth [--events 20000] [--pairs 1000] [--rounds 2]

Each round measures, on a stack of its own per mode (the broker with logins and the
catalogue's ACLs, then one without): sharing absorbing ``--events`` AccountChanged
(tests/bench/throughput.py ``absorb``), then the share + accept handshake of ``--pairs``
pairs with 8 client pairs (tests/bench/sharing_handshake.py ``run``). Rounds alternate the
order (on/off, then off/on), so a drift of the machine's load does not favour one mode.
Printed: each round's figures, the medians per mode and the on/off ratios, with CPU per unit
of work (what the machine's other tenants inflate least).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
from contextlib import ExitStack
from pathlib import Path
from tempfile import mkdtemp
from typing import Any

from tests.bench import sharing_handshake
from tests.bench.common import bench_stack, machine
from tests.bench.throughput import absorb
from tests.infra import open_test_stack

MODES = {"on": True, "off": False}


def throughput(kafka_auth: bool, events: int) -> dict[str, Any]:
    tmp = Path(mkdtemp(prefix="ims-bench-auth-"))
    try:
        with ExitStack() as exit_stack:
            stack = open_test_stack(exit_stack, tmp, {}, kafka_auth=kafka_auth)
            result = asyncio.run(absorb(stack, "sharing", events, tmp, 1, 1))
        print("  " + result.line(), flush=True)
        return {
            "events_per_s": round(result.rate),
            "cpu_ms_per_event": result.cpu_ms,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def handshake(kafka_auth: bool, pairs: int, clients: int) -> dict[str, Any]:
    with bench_stack(["catalog", "sharing", "notifier"], kafka_auth=kafka_auth) as bench:
        result = asyncio.run(sharing_handshake.run(bench, pairs, clients))
    print(f"  handshake {result['pairs_per_s']} pairs/s", flush=True)
    return result


def _cpu_total(cpu: dict[str, float]) -> float:
    return round(sum(cpu.values()), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    before = machine()
    rounds: list[dict[str, Any]] = []
    for n in range(args.rounds):
        order = ["on", "off"] if n % 2 == 0 else ["off", "on"]
        this: dict[str, Any] = {}
        for mode in order:
            print(f"round {n + 1}, authentication {mode}", flush=True)
            this[mode] = {
                "throughput": throughput(MODES[mode], args.events),
                "handshake": handshake(MODES[mode], args.pairs, args.clients),
            }
        rounds.append(this)

    def median(mode: str, bench: str, key: str) -> float:
        return float(statistics.median(float(r[mode][bench][key]) for r in rounds))

    def median_cpu(mode: str, bench: str, key: str) -> float:
        return float(statistics.median(_cpu_total(r[mode][bench][key]) for r in rounds))

    medians = {
        mode: {
            "absorb_sharing_events_per_s": median(mode, "throughput", "events_per_s"),
            "absorb_cpu_ms_per_event": median_cpu(mode, "throughput", "cpu_ms_per_event"),
            "handshake_pairs_per_s": median(mode, "handshake", "pairs_per_s"),
            "handshake_cpu_ms_per_pair": median_cpu(mode, "handshake", "cpu_ms_per_pair"),
        }
        for mode in MODES
    }
    ratios = {
        key: round(medians["on"][key] / medians["off"][key], 3)
        for key in medians["on"]
        if medians["off"][key]
    }
    print(json.dumps({"benchmark": "kafka_auth", "machine_before": before, "rounds": rounds,
                      "median": medians, "on_over_off": ratios,
                      "load_average_after": machine()["load_average"]},
                     indent=2, ensure_ascii=False))  # fmt: skip


if __name__ == "__main__":
    main()
