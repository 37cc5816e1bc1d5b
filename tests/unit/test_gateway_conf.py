"""The gateway's nginx.conf as rendered: every placeholder filled, nginx accepts it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deploy.stack import gateway
from deploy.stack.process import StackError

PORTS = {"catalog": 18081, "capture": 18082, "sharing": 18083, "notifier": 18084}


def test_the_services_ports_and_the_prefix_are_filled_in(tmp_path: Path) -> None:
    node = gateway.GatewayNode(tmp_path / "gw", 18080, PORTS, demo_accounts=tmp_path / "d.json")

    conf = gateway.render(node)

    assert "{{" not in conf
    assert "listen 127.0.0.1:18080;" in conf
    for port in PORTS.values():
        assert f"server 127.0.0.1:{port};" in conf
    assert f"alias {tmp_path / 'd.json'};" in conf
    assert f"pid {tmp_path / 'gw'}/nginx.pid;" in conf


def test_without_demo_accounts_there_is_no_such_location(tmp_path: Path) -> None:
    conf = gateway.render(gateway.GatewayNode(tmp_path, 18080, PORTS))

    assert "demo-accounts.json" not in conf


def test_a_missing_service_port_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="notifier"):
        gateway.render(
            gateway.GatewayNode(
                tmp_path, 18080, {k: v for k, v in PORTS.items() if k != "notifier"}
            )
        )


def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    node = gateway.GatewayNode(tmp_path / "gw", 18080, PORTS)
    for sub in ("client-body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (node.home / "tmp" / sub).mkdir(parents=True)
    node.conf.write_text(gateway.render(node))

    done = subprocess.run(
        [gateway.nginx_binary(), "-t", "-p", str(node.home), "-c", str(node.conf)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert done.returncode == 0, done.stderr
