"""What the sharing tests share: accounts and images announced as IAM, the catalog and
capture announce them, and the HTTP APIs called as the console calls them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx

from ims_testkit.tokens import Issuer
from schemas.events import (
    AccountChanged,
    CaptureAccepted,
    HostDisk,
    ImageReady,
    ImageSource,
    OperatingSystem,
    Project,
)
from tests.harness import Bus, ServiceProcess, eventually, token_for
from tests.infra import TestStack
from tests.integration import facts

WINDOWS = OperatingSystem(family="windows", distro="Windows Server", version="2019 Datacenter")


@dataclass(frozen=True)
class Tenant:
    """An account as the console acts for it: its id, name and bearer token."""

    account_id: UUID
    name: str
    token: str

    def headers(self, language: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"}
        if language:
            headers["Accept-Language"] = language
        return headers

    def call(
        self,
        service: ServiceProcess,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        language: str | None = None,
    ) -> httpx.Response:
        return httpx.request(
            method,
            service.url(path),
            json=json,
            params=params,
            headers=self.headers(language),
            timeout=30,
        )


async def new_account(
    bus: Bus,
    issuer: Issuer,
    name: str | None = None,
    *,
    kind: str = "standard",
    projects: tuple[Project, ...] = (),
    status: str = "active",
    sequence: int = 1,
    account_id: UUID | None = None,
) -> Tenant:
    """An account IAM announces (AccountChanged), with a token for it."""
    account_id = account_id or uuid4()
    name = name or f"acct-{account_id.hex[:10]}"
    await bus.send(
        AccountChanged(
            account_id=account_id, name=name, kind=kind, projects=list(projects), status=status
        ),
        subject=account_id,
        tenant=account_id,
        sequence=sequence,
        source="/iam",
    )
    return Tenant(account_id, name, token_for(issuer, account_id, name))


async def announced_image(
    bus: Bus,
    owner: UUID,
    name: str = "web-golden",
    *,
    os: OperatingSystem = facts.UBUNTU,
    ready: bool = True,
) -> tuple[UUID, int]:
    """A private image as the catalog (CaptureAccepted, 1) and capture (ImageReady, 2)
    announce it, for deployments where neither runs: (image id, its last sequence)."""
    image_id = uuid4()
    now = datetime.now(UTC)
    await bus.send(
        CaptureAccepted(
            image_id=image_id, account_id=owner, host_id=uuid4(), name=name, requested_at=now
        ),
        subject=image_id,
        tenant=owner,
        sequence=1,
        source="/ims/catalog",
    )
    if not ready:
        return image_id, 1
    await bus.send(
        ImageReady(
            image_id=image_id,
            account_id=owner,
            name=name,
            source=ImageSource(host_id=uuid4(), host_name="ecs-src"),
            os=os,
            system_disk_gb=40,
            min_memory_mb=1024,
            disk_format="raw",
            size_bytes=4096,
            virtual_size_bytes=40 * 1024**3,
            checksum_sha256="0" * 64,
            location=f"/images/{image_id}.raw",
            finished_at=now,
        ),
        subject=image_id,
        tenant=owner,
        sequence=2,
        source="/ims/capture",
    )
    return image_id, 2


async def captured_image(
    bus: Bus,
    catalog: ServiceProcess,
    owner: Tenant,
    disks: Path,
    name: str = "web-golden",
    *,
    os: OperatingSystem = facts.UBUNTU,
    disk_gb: int = 40,
) -> UUID:
    """A private image captured for real (ECS host, CaptureRequested, capture), once the
    catalog shows it `normal`."""
    host_id, image_id = uuid4(), uuid4()
    host = facts.host(owner.account_id, host_id, facts.make_disk(disks, 4096), name="ecs-src")
    disk = HostDisk(disk_id=uuid4(), path=host.system_disk.path, format="raw", size_gb=disk_gb)
    host = host.model_copy(update={"os": os, "system_disk": disk})
    await bus.send(host, subject=host_id, tenant=owner.account_id, source="/ecs")
    await bus.send(
        facts.capture(owner.account_id, host_id, image_id, name),
        subject=image_id,
        tenant=owner.account_id,
        source="/console",
    )

    def normal() -> bool:
        response = owner.call(catalog, "GET", f"/v1/images/{image_id}")
        return response.status_code == 200 and response.json()["status"] == "normal"

    await eventually(normal, timeout=90)
    return image_id


def outcomes(response: httpx.Response) -> list[tuple[str, str | None]]:
    """(outcome, code) of each item of a batch answer."""
    assert response.status_code == 200, response.text
    return [(r["outcome"], r["code"]) for r in response.json()["results"]]


async def fetch_value(stack: TestStack, service: str, sql: str, *args: object) -> Any:
    conn = await asyncpg.connect(stack.dsns[service], server_settings={"search_path": service})
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def sharing_knows(stack: TestStack, tenants: list[Tenant]) -> None:
    """Wait until sharing has applied IAM's facts about every one of ``tenants``."""
    ids = [t.account_id for t in tenants]

    async def all_known() -> bool:
        sql = "SELECT count(*) FROM accounts WHERE account_id = ANY($1::uuid[])"
        return bool(await fetch_value(stack, "sharing", sql, ids) == len(ids))

    await eventually(all_known, timeout=60)


def members_path(image_id: object) -> str:
    return f"/v1/images/{image_id}/members"


def prompt(notifier: ServiceProcess, tenant: Tenant, language: str | None = None) -> Any:
    """The tenant's prompt 是否接受镜像, or None when it has none."""
    response = tenant.call(notifier, "GET", "/v1/prompts", language=language)
    assert response.status_code == 200, response.text
    found = response.json()["prompts"]
    assert len(found) <= 1, "one prompt per recipient"
    return found[0] if found else None


def prompt_images(notifier: ServiceProcess, tenant: Tenant) -> set[str]:
    found = prompt(notifier, tenant)
    return {i["image_id"] for i in found["images"]} if found else set()


def shared_tab(catalog: ServiceProcess, tenant: Tenant) -> set[str]:
    response = tenant.call(catalog, "GET", "/v1/images", params={"tab": "shared", "limit": 100})
    assert response.status_code == 200, response.text
    return {i["id"] for i in response.json()["items"]}


def launch_check(
    catalog: ServiceProcess,
    tenant: Tenant,
    image_id: object,
    *,
    disk_gb: int = 40,
    memory_mb: int = 4096,
    language: str | None = None,
) -> dict[str, Any]:
    body = {"image_id": str(image_id), "system_disk_gb": disk_gb, "memory_mb": memory_mb}
    response = tenant.call(catalog, "POST", "/v1/launch-checks", json=body, language=language)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def reasons(check: dict[str, Any]) -> list[str]:
    return [r["code"] for r in check["reasons"]]
