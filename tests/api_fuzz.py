"""Schemathesis over every operation of the four services' OpenAPI, with every check it has.

Each service's ``/openapi.json`` is run through the schemathesis CLI (every check, listed in
``api_fuzz.toml``,
every phase: examples, coverage, fuzzing, stateful) once per identity: two tenants and an
admin. An integration test (branch i16-http, not landed yet) ran it with a
few examples an operation; the long run starts its own stack and writes its figures::

    flock /tmp/ims-heavy.lock timeout 900 .venv/bin/python -m tests.api_fuzz --examples 200

The CLI, not the pytest plugin: only the CLI runs the coverage phase (the source of the
unsupported-method and most negative-data cases) and the stateful phase together.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from ims_testkit.tokens import Issuer
from schemas.events import AccountChanged
from tests.harness import SERVICES, Bus, ServiceProcess, service_process
from tests.infra import TestStack, open_test_stack

# Examples an operation in CI; IMS_API_FUZZ_EXAMPLES raises it for a longer run.
CI_EXAMPLES = 8
SEED = 20261203
EXAMPLES_ENV = "IMS_API_FUZZ_EXAMPLES"
CONFIG = Path(__file__).with_name("api_fuzz.toml")


@dataclass(frozen=True)
class Identity:
    """Who the generated requests are sent as."""

    label: str
    account_id: UUID
    token: str


@dataclass
class Run:
    """One service's API fuzzed as one identity: what schemathesis counted."""

    service: str
    identity: str
    operations: int = 0
    cases: int = 0
    server_errors: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # by check name
    details: list[str] = field(default_factory=list)  # one line per failure, to fix it
    exit_code: int = 0
    output: str = field(default="", repr=False)  # the CLI's own account of the failures


@dataclass
class Figures:
    examples: int
    seed: int
    runs: list[Run]
    seconds: float

    @property
    def cases(self) -> int:
        return sum(r.cases for r in self.runs)

    @property
    def server_errors(self) -> int:
        return sum(r.server_errors for r in self.runs)

    @property
    def failures(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for run in self.runs:
            total.update(run.failures)
        return total

    def summary(self) -> dict[str, Any]:
        return {
            "examples_per_operation": self.examples,
            "seed": self.seed,
            "runs": len(self.runs),
            "operations": sum(r.operations for r in self.runs),
            "cases": self.cases,
            "server_errors": self.server_errors,
            "failures": dict(self.failures),
            "seconds": round(self.seconds, 1),
        }


def identities(issuer: Issuer) -> list[Identity]:
    """Two tenants and a platform administrator."""
    tenant_a, tenant_b, admin = uuid4(), uuid4(), uuid4()
    return [
        Identity("tenant-a", tenant_a, issuer.token(tenant_a, f"fuzz-a-{tenant_a.hex[:8]}")),
        Identity("tenant-b", tenant_b, issuer.token(tenant_b, f"fuzz-b-{tenant_b.hex[:8]}")),
        Identity("admin", admin, issuer.token(admin, "fuzz-admin", roles=("admin",))),
    ]


async def announce(stack: TestStack, who: Sequence[Identity]) -> None:
    """IAM's AccountChanged for each identity, so sharing knows the accounts."""
    async with Bus(stack) as bus:
        for identity in who:
            fact = AccountChanged(
                account_id=identity.account_id,
                name=f"fuzz-{identity.label}-{identity.account_id.hex[:8]}",
                kind="standard",
                projects=[],
                status="active",
            )
            await bus.send(fact, subject=identity.account_id, tenant=identity.account_id)


def fuzz_one(
    service: str,
    base_url: str,
    identity: Identity,
    *,
    examples: int,
    seed: int,
    report_dir: Path,
    timeout: float = 600.0,
) -> Run:
    """The schemathesis CLI over one service's OpenAPI, sent as ``identity``."""
    report = report_dir / f"{service}-{identity.label}.json"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        f"{base_url}/openapi.json",
        "--max-examples",
        str(examples),
        "--seed",
        str(seed),
        "--workers",
        "1",
        "--no-shrink",
        "--suppress-health-check",
        "all",
        "--request-timeout",
        "30",
        "--header",
        f"Authorization: Bearer {identity.token}",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--output-truncate",
        "false",
        "--warnings",
        "off",
    ]
    env = dict(os.environ, SCHEMATHESIS_HOOKS="", NO_COLOR="1")
    # In the report dir: the CLI keeps its cache (.schemathesis/) in its working directory.
    done = subprocess.run(
        command, capture_output=True, timeout=timeout, env=env, check=False, cwd=report_dir
    )
    run = Run(service, identity.label, exit_code=done.returncode)
    if not report.exists():
        output = (done.stdout + done.stderr).decode(errors="replace")[-4000:]
        raise AssertionError(f"schemathesis wrote no report for {service}:\n{output}")
    read_report(json.loads(report.read_text()), run)
    run.output = done.stdout.decode(errors="replace")
    report.with_suffix(".txt").write_text(run.output)
    return run


def read_report(report: Mapping[str, Any], run: Run) -> None:
    """Figures of schemathesis' JSON run report into ``run``."""
    run.operations = (report.get("operations") or {}).get("tested", 0)
    run.cases = report["test_cases"]["generated"]
    for group in report["failures"]:
        run.failures[group["type"]] += group["count"]
        if group["type"] == "ServerError":
            run.server_errors += group["count"]
        run.details.append(f"{group['type']}: {group['title']} ({', '.join(group['operations'])})")
    for error in report["errors"]:
        run.failures["error"] += error["count"]
        run.details.append(f"error: {error['title']}")


def fuzz(
    urls: Mapping[str, str],
    who: Sequence[Identity],
    *,
    examples: int,
    seed: int,
    report_dir: Path,
) -> Figures:
    started = time.monotonic()
    report_dir.mkdir(parents=True, exist_ok=True)
    runs = [
        fuzz_one(service, url, identity, examples=examples, seed=seed, report_dir=report_dir)
        for service, url in urls.items()
        for identity in who
    ]
    return Figures(examples, seed, runs, time.monotonic() - started)


def examples_from_env(default: int = CI_EXAMPLES) -> int:
    return int(os.environ.get(EXAMPLES_ENV, default))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=examples_from_env())
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=Path("build/api-fuzz"))
    args = parser.parse_args(argv)
    issuer = Issuer.generate()
    with ExitStack() as exit_stack:
        tmp = args.out / "stack"
        tmp.mkdir(parents=True, exist_ok=True)
        stack = open_test_stack(exit_stack, tmp.resolve(), dict(os.environ))
        processes = start_services(exit_stack, stack, issuer)
        who = identities(issuer)
        asyncio.run(announce(stack, who))
        urls = {name: process.url("") for name, process in processes.items()}
        figures = fuzz(urls, who, examples=args.examples, seed=args.seed, report_dir=args.out)
    write_figures(figures, args.out / "figures.json")
    print(json.dumps(figures.summary(), indent=2))
    for run in figures.runs:
        for line in run.details:
            print(f"{run.service} as {run.identity}: {line}")
    return 0 if not figures.failures and not figures.server_errors else 1


def start_services(
    exit_stack: ExitStack, stack: TestStack, issuer: Issuer
) -> dict[str, ServiceProcess]:
    processes = {name: service_process(stack, name, issuer=issuer) for name in SERVICES}
    for process in processes.values():
        process.migrate()
    for process in processes.values():
        exit_stack.callback(process.stop)
        process.start()
    for process in processes.values():
        process.wait_healthy()
    return processes


def write_figures(figures: Figures, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    runs = [asdict(r) | {"failures": dict(r.failures)} for r in figures.runs]
    path.write_text(json.dumps({"summary": figures.summary(), "runs": runs}, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
