"""The gateway: one origin for the console; each service's own paths reach that service,
unchanged, and the answers are the service's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from deploy.stack import gateway
from deploy.stack import stack as stack_ops
from deploy.stack.config import SERVICES
from deploy.stack.state import StackState
from ims_testkit.tokens import Issuer
from tests.gateway_kit import running_gateway, upstream_ports
from tests.harness import ServiceProcess, eventually, token_for
from tests.infra import free_port


@pytest.fixture(scope="module")
def front(
    system: dict[str, ServiceProcess], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[gateway.GatewayNode]:
    with running_gateway(tmp_path_factory.mktemp("gateway") / "gw", system) as node:
        yield node


def test_the_public_tab_answers_as_the_catalog_does(
    front: gateway.GatewayNode, system: dict[str, ServiceProcess], issuer: Issuer
) -> None:
    headers = {"Authorization": f"Bearer {token_for(issuer, uuid4())}"}

    through = httpx.get(f"{front.url}/v1/images?tab=public", headers=headers, timeout=10)
    direct = httpx.get(system["catalog"].url("/v1/images?tab=public"), headers=headers, timeout=10)

    assert through.status_code == direct.status_code == 200
    assert through.json() == direct.json()
    assert through.headers["content-type"] == direct.headers["content-type"]


ROUTES = [
    ("GET", "/v1/images", "catalog"),
    ("GET", f"/v1/images/{uuid4()}", "catalog"),
    ("POST", "/v1/images/delete", "catalog"),
    ("GET", "/v1/usage", "catalog"),
    ("POST", "/v1/launch-checks", "catalog"),
    ("GET", f"/v1/accounts/{uuid4()}/quota", "catalog"),
    ("GET", "/v1/hosts", "capture"),
    ("GET", f"/v1/images/{uuid4()}/members", "sharing"),
    ("POST", f"/v1/images/{uuid4()}/members", "sharing"),
    ("DELETE", f"/v1/images/{uuid4()}/members/{uuid4()}", "sharing"),
    ("POST", "/v1/shares", "sharing"),
    ("GET", "/v1/shared-images", "sharing"),
    ("POST", "/v1/shared-images/accept", "sharing"),
    ("GET", "/v1/notices", "notifier"),
    ("GET", "/v1/prompts", "notifier"),
    ("GET", "/openapi/sharing.json", "sharing"),
]


@pytest.mark.parametrize(("method", "path", "service"), ROUTES)
async def test_each_path_reaches_its_service(
    front: gateway.GatewayNode,
    system: dict[str, ServiceProcess],
    issuer: Issuer,
    method: str,
    path: str,
    service: str,
) -> None:
    headers = {"Authorization": f"Bearer {token_for(issuer, uuid4())}"}
    body: dict[str, object] | None = {} if method == "POST" else None

    through = httpx.request(method, f"{front.url}{path}", headers=headers, json=body, timeout=10)
    direct_path = "/openapi.json" if path.startswith("/openapi/") else path
    direct = httpx.request(
        method, system[service].url(direct_path), headers=headers, json=body, timeout=10
    )

    assert through.status_code == direct.status_code, through.text
    # nginx logs the request once the answer is sent: poll the log, bounded.
    ports = await eventually(lambda: upstream_ports(front, path), timeout=10)
    assert set(ports) == {system[service].http_port}  # (the list test also logs /v1/images)


def test_the_console_is_served_at_the_root(front: gateway.GatewayNode) -> None:
    page = httpx.get(f"{front.url}/", timeout=10)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in page.text


def test_a_stopped_service_answers_a_problem_document(tmp_path: Path) -> None:
    # Free ports nothing listens on: every upstream refuses.
    dead = {
        name: ServiceProcess(name, {}, tmp_path / name, free_port())
        for name in ("catalog", "capture", "sharing", "notifier")
    }
    with running_gateway(tmp_path / "gw", dead) as node:
        answer = httpx.get(f"{node.url}/v1/images", timeout=10)

    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "service_unavailable"


def test_ims_stack_status_shows_the_gateway_and_down_stops_it(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    StackState(state_dir=str(state_dir)).save()
    node = gateway.GatewayNode(
        gateway.gateway_home(state_dir), free_port(), {name: free_port() for name in SERVICES}
    )
    gateway.start(node)
    try:
        rows = {row.name: row for row in stack_ops.status(state_dir)}
        assert rows["gateway"].alive
        assert rows["gateway"].port == node.port

        stack_ops.down(state_dir)

        assert not gateway.healthy(node.url)
        assert not {row.name: row for row in stack_ops.status(state_dir)}["gateway"].alive
    finally:
        gateway.stop(node.home)
