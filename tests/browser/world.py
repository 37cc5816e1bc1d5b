"""The console's world for the browser tests and the screenshots: the four services on a
session's Kafka and PostgreSQL, the gateway in front, and demo data published as ECS and
IAM would (alice with a stopped and a running host and one image, bob, an admin).

Also runnable by hand, to look at the console in a browser while changing it:
``flock /tmp/ims-heavy.lock timeout 900 .venv/bin/python -m tests.browser.world`` prints
the gateway's address and the accounts' ``#token=`` links, and runs until SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx

from ims_testkit.tokens import Issuer
from schemas.events import AccountChanged, HostChanged, HostDisk, OperatingSystem
from tests.gateway_kit import running_gateway
from tests.harness import SERVICES, Bus, ServiceProcess, eventually, service_process
from tests.infra import TestStack, open_test_stack

UBUNTU = OperatingSystem(family="linux", distro="Ubuntu", version="22.04")
WINDOWS = OperatingSystem(family="windows", distro="Windows Server", version="2019 Datacenter")


@dataclass(frozen=True)
class Person:
    """A demo account as the console signs it in."""

    name: str
    account_id: UUID
    token: str
    admin: bool = False

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    stack: TestStack
    services: dict[str, ServiceProcess]
    url: str  # the gateway: console and APIs, one origin
    bus: Bus
    alice: Person
    bob: Person
    admin: Person
    disks: Path
    hosts: dict[str, UUID] = field(default_factory=dict)

    def call(self, who: Person, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """An API call through the gateway, as the console makes it."""
        headers = {**who.headers, **kwargs.pop("headers", {})}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)

    async def host(
        self, owner: Person, name: str, *, state: str = "stopped", os_: OperatingSystem = UBUNTU
    ) -> UUID:
        """A host of ``owner`` as ECS announces it, with a small real disk file; capture
        must know it before the console lists it."""
        host_id = uuid4()
        disk = self.disks / f"{host_id}.raw"
        disk.write_bytes(os.urandom(64 * 1024))
        fact = HostChanged(
            host_id=host_id,
            account_id=owner.account_id,
            name=name,
            os=os_,
            state=state,
            memory_mb=2048,
            system_disk=HostDisk(disk_id=uuid4(), path=str(disk), format="raw", size_gb=40),
        )
        await self.bus.send(fact, subject=host_id, tenant=owner.account_id, source="/ecs")
        self.hosts[name] = host_id

        def listed() -> bool:
            page = self.call(owner, "GET", "/v1/hosts", params={"limit": 200}).json()
            return any(h["host_id"] == str(host_id) for h in page.get("items", []))

        await eventually(listed, timeout=60)
        return host_id

    async def image(self, owner: Person, host: str, name: str, description: str = "") -> str:
        """A private image captured from ``host`` through the catalog, once it is 正常."""
        body = {"host_id": str(self.hosts[host]), "name": name, "description": description}
        created = self.call(owner, "POST", "/v1/images", json=body)
        assert created.status_code == 202, created.text
        image_id = str(created.json()["image_id"])

        def normal() -> bool:
            status = self.call(owner, "GET", f"/v1/images/{image_id}").json()["status"]
            return bool(status == "normal")

        await eventually(normal, timeout=90)
        return image_id


def _person(issuer: Issuer, name: str, *, admin: bool = False) -> Person:
    account_id = uuid4()
    roles = ("admin",) if admin else ()
    return Person(name, account_id, issuer.token(account_id, name, roles=roles), admin)


def _demo_accounts(path: Path, people: list[Person]) -> Path:
    """The file the gateway serves at /demo-accounts.json, as deploy/stack/gateway.py writes."""
    accounts = [
        {"name": p.name, "account_id": str(p.account_id), "admin": p.admin, "token": p.token}
        for p in people
    ]
    path.write_text(json.dumps({"accounts": accounts}))
    return path


@asynccontextmanager
async def console_world(tmp_dir: Path) -> AsyncIterator[World]:
    """Everything the console needs, torn down on exit (also when a step fails)."""
    issuer = Issuer.generate()
    with ExitStack() as exit_stack:
        stack = await asyncio.to_thread(
            open_test_stack, exit_stack, tmp_dir / "stack", dict(os.environ)
        )
        services = {name: service_process(stack, name, issuer=issuer) for name in SERVICES}
        for process in services.values():
            process.migrate()
        for process in services.values():
            exit_stack.callback(process.stop)
            process.start()
        for process in services.values():
            await asyncio.to_thread(process.wait_healthy)
        alice, bob = _person(issuer, "alice"), _person(issuer, "bob")
        admin = _person(issuer, "admin", admin=True)
        accounts = _demo_accounts(stack.tmp_dir / "demo-accounts.json", [alice, bob, admin])
        disks = stack.tmp_dir / "disks"
        disks.mkdir()
        gateway = exit_stack.enter_context(
            running_gateway(stack.tmp_dir / "gateway", services, accounts)
        )
        async with Bus(stack) as bus:
            world = World(stack, services, gateway.url, bus, alice, bob, admin, disks)
            for person in (alice, bob):
                fact = AccountChanged(account_id=person.account_id, name=person.name)
                await bus.send(
                    fact, subject=person.account_id, tenant=person.account_id, source="/iam"
                )
            await world.host(alice, "ecs-web-01")
            await world.host(alice, "ecs-db-01", state="running")
            await world.host(alice, "ecs-win-01", os_=WINDOWS)
            await world.image(alice, "ecs-web-01", "web-golden", "nginx + app, 2026-12")
            yield world


async def _serve() -> None:
    stop = asyncio.Event()  # SIGINT or SIGTERM: everything started is stopped on the way out
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    with tempfile.TemporaryDirectory(prefix="ims-console-") as tmp:
        started = time.monotonic()
        async with console_world(Path(tmp)) as world:
            print(f"ready after {time.monotonic() - started:.1f}s: {world.url}/", flush=True)
            for person in (world.alice, world.bob, world.admin):
                print(f"{person.name}: {world.url}/#token={person.token}", flush=True)
            await stop.wait()


if __name__ == "__main__":
    asyncio.run(_serve())
