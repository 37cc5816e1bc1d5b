"""Generated HTTP input (issue 16): schemathesis, every check and phase, over every operation
of the four running services as two tenants and an admin. No 5xx, and every answer as the
OpenAPI documents it (status, content type, schema; errors as problem documents).

``IMS_API_FUZZ_EXAMPLES`` sets the examples an operation (default: a CI-sized few); the long
run is ``python -m tests.api_fuzz --examples 200`` (see tests/api_fuzz.py)."""

from __future__ import annotations

from pathlib import Path

import httpx

from ims_testkit.tokens import Issuer
from tests import api_fuzz
from tests.harness import SERVICES, ServiceProcess
from tests.infra import TestStack
from tests.integration.conftest import Spawn


async def test_every_operation_of_every_api_answers_as_documented(
    deployment: TestStack, spawn: Spawn, issuer: Issuer, tmp_path: Path
) -> None:
    # A deployment of its own: the admin's generated calls add public images and quotas
    # that the other tests' lists would otherwise see.
    system = {name: spawn(deployment, name).start() for name in SERVICES}
    for process in system.values():
        process.wait_healthy()
    who = api_fuzz.identities(issuer)
    await api_fuzz.announce(deployment, who)
    urls = {name: process.url("") for name, process in system.items()}
    figures = api_fuzz.fuzz(
        urls, who, examples=api_fuzz.examples_from_env(), seed=api_fuzz.SEED, report_dir=tmp_path
    )
    # Every operation of every service was tried, as each identity.
    documented = sum(len(_operations(url)) for url in urls.values())
    assert sum(r.operations for r in figures.runs) == documented * len(who)
    assert figures.cases > documented * len(who)
    failed = [r for r in figures.runs if r.failures or r.server_errors]
    assert not failed, "\n\n".join(f"{r.service} as {r.identity}:\n{r.output}" for r in failed)


def test_a_nul_in_an_account_name_is_a_422_problem_not_a_500(
    system: dict[str, ServiceProcess], issuer: Issuer
) -> None:
    sharing = system["sharing"]
    tenant = api_fuzz.identities(issuer)[0]
    body = {"accounts": [{"name": "evil\x00name"}]}
    answer = httpx.post(
        sharing.url("/v1/images/00000000-0000-0000-0000-000000000001/members"),
        json=body,
        headers={"Authorization": f"Bearer {tenant.token}"},
        timeout=30,
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "invalid_request"


def _operations(base_url: str) -> list[str]:
    paths = httpx.get(f"{base_url}/openapi.json", timeout=30).json()["paths"]
    return [f"{method} {path}" for path, ops in paths.items() for method in ops]
