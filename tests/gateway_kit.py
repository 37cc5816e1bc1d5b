"""The gateway (deploy/stack/gateway.py) in front of a test's service processes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deploy.stack import gateway
from tests.harness import ServiceProcess
from tests.infra import free_port


@contextmanager
def running_gateway(
    home: Path, services: dict[str, ServiceProcess], demo_accounts: Path | None = None
) -> Iterator[gateway.GatewayNode]:
    """nginx on a free port routing to `services`, stopped on exit."""
    node = gateway.GatewayNode(
        home=home,
        port=free_port(),
        upstreams={name: svc.http_port for name, svc in services.items()},
        demo_accounts=demo_accounts,
    )
    gateway.start(node)
    try:
        yield node
    finally:
        gateway.stop(home)


def upstream_ports(node: gateway.GatewayNode, path: str) -> list[int]:
    """The upstream port of every logged request for `path` (method and path as logged)."""
    ports: list[int] = []
    if not node.access_log.exists():
        return ports
    for line in node.access_log.read_text().splitlines():
        if f' {path}" ' in line and "upstream=127.0.0.1:" in line:
            ports.append(int(line.rsplit("upstream=127.0.0.1:", 1)[1].split()[0]))
    return ports
