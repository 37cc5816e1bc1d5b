"""`ims-stack demo`: demo data through the real event flow, then a look at the result.

As ECS and IAM would, it publishes two accounts and three hosts (two stopped, with small
real disk files; one running); as the console would, it asks for a private image of a
stopped host. Then it waits until the catalog shows the image `normal` (正常), writes
`<state dir>/demo/tokens.env` and prints what to try next. Ids are derived from names, so
running the demo again changes nothing.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import NAMESPACE_URL, UUID, uuid5

import httpx
from aiokafka import AIOKafkaProducer
from rich.console import Console
from rich.table import Table

from deploy.stack.keys import write_private
from deploy.stack.next_steps import next_steps
from deploy.stack.process import StackError
from deploy.stack.stack import block_storage_dir
from deploy.stack.state import StackState
from schemas.events import (
    AccountChanged,
    CaptureRequested,
    Event,
    HostChanged,
    HostDisk,
    OperatingSystem,
)
from schemas.topics import topic_name
from services.common.codec import build_envelope, encode
from services.common.kafka_auth import client_options

console = Console()
WAIT_FOR_NORMAL_S = 180.0


def demo_id(name: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"ims:demo:{name}")


@dataclass(frozen=True)
class DemoHost:
    name: str
    owner: str
    os: OperatingSystem
    state: str
    disk_mib: int


ACCOUNTS = ("alice", "bob")
TOKEN_TTL = timedelta(hours=12)  # the tokens file is for an afternoon of trying by hand
HOSTS = (
    DemoHost(
        "ecs-web-01",
        "alice",
        OperatingSystem(family="linux", distro="Ubuntu", version="22.04"),
        "stopped",
        8,
    ),
    DemoHost(
        "ecs-db-01",
        "alice",
        OperatingSystem(family="linux", distro="CentOS", version="7.9"),
        "running",
        4,
    ),
    DemoHost(
        "ecs-win-01",
        "bob",
        OperatingSystem(family="windows", distro="Windows Server", version="2019 Datacenter"),
        "stopped",
        4,
    ),
)
IMAGE_NAME = "web-01-golden"


def run_demo(state: StackState) -> None:
    catalog = state.service_url("catalog")
    if not catalog:
        raise StackError("the catalog is not running: run `ims-stack up` first")
    disks = block_storage_dir(state.path)
    asyncio.run(_publish(state, disks))
    alice = demo_id("account:alice")
    image_id = demo_id(f"image:alice:{IMAGE_NAME}")
    token = state.issuer().token(alice, "alice")
    image = _wait_until_settled(catalog, token, image_id)
    _show(catalog, token, image)
    tokens = write_tokens(state, image_id)
    # soft_wrap: long command lines stay whole, so they can be copied (also from a log).
    console.print(next_steps(state, tokens), soft_wrap=True, markup=False, highlight=False)


async def _publish(state: StackState, disks: Path) -> None:
    # Each fact as its writer: /iam's as the iam principal, /ecs's as ecs (the broker's
    # ACLs would refuse anyone else).
    producers: dict[str, AIOKafkaProducer] = {}

    async def producer_of(source: str) -> AIOKafkaProducer:
        principal = source.strip("/")
        if principal not in producers:
            producers[principal] = AIOKafkaProducer(
                bootstrap_servers=state.kafka_bootstrap,
                enable_idempotence=True,
                acks="all",
                **client_options(state.kafka_credentials(principal)),
            )
            await producers[principal].start()
        return producers[principal]

    try:

        async def send(data: Event, subject: UUID, tenant: UUID, source: str) -> None:
            envelope = build_envelope(
                data, source=source, subject=str(subject), tenant=str(tenant), sequence=1
            )
            producer = await producer_of(source)
            await producer.send_and_wait(
                topic_name(data.NAME, state.topic_prefix),
                encode(envelope),
                key=str(subject).encode(),
            )

        for name in ACCOUNTS:
            account = demo_id(f"account:{name}")
            await send(AccountChanged(account_id=account, name=name), account, account, "/iam")
        for host in HOSTS:
            await send(
                _host_changed(host, disks),
                demo_id(f"host:{host.name}"),
                demo_id(f"account:{host.owner}"),
                "/ecs",
            )
        alice = demo_id("account:alice")
        image_id = demo_id(f"image:alice:{IMAGE_NAME}")
        request = CaptureRequested(
            image_id=image_id,
            account_id=alice,
            host_id=demo_id("host:ecs-web-01"),
            name=IMAGE_NAME,
            description="Captured from ecs-web-01 by the demo",
        )
        await send(request, image_id, alice, "/console")
    finally:
        for producer in producers.values():
            await producer.stop()
    console.print(
        f"published {len(ACCOUNTS)} accounts (IAM), {len(HOSTS)} hosts (ECS) and one "
        f"CaptureRequested for alice's stopped host ecs-web-01"
    )


def _host_changed(host: DemoHost, disks: Path) -> HostChanged:
    disk = _disk_file(disks, host.name, host.disk_mib)
    return HostChanged(
        host_id=demo_id(f"host:{host.name}"),
        account_id=demo_id(f"account:{host.owner}"),
        name=host.name,
        os=host.os,
        state=host.state,
        memory_mb=4096,
        system_disk=HostDisk(
            disk_id=demo_id(f"disk:{host.name}"), path=str(disk), format="raw", size_gb=40
        ),
    )


def _disk_file(disks: Path, name: str, mib: int) -> Path:
    """A small raw disk with real content, made once (ECS's block storage, in miniature)."""
    path = disks / f"{name}.raw"
    if not path.exists():
        disks.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with partial.open("wb") as out:
            for _ in range(mib):
                out.write(os.urandom(1024 * 1024))
        partial.replace(path)
    return path


def _wait_until_settled(catalog: str, token: str, image_id: UUID) -> dict[str, object]:
    deadline = time.monotonic() + WAIT_FOR_NORMAL_S
    status = "unknown"
    with console.status(f"waiting for image {IMAGE_NAME} to become 正常 (normal)") as spinner:
        while time.monotonic() < deadline:
            response = httpx.get(
                f"{catalog}/v1/images/{image_id}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=5,
            )
            if response.status_code == 200:
                image: dict[str, object] = response.json()
                status = str(image["status"])
                spinner.update(f"image {IMAGE_NAME}: {image['status_label']} {image['progress']}%")
                if status in ("normal", "failed"):
                    return image
            time.sleep(0.5)
    raise StackError(
        f"image {image_id} did not settle in {WAIT_FOR_NORMAL_S:.0f}s (last: {status})"
    )


def _show(catalog: str, token: str, image: dict[str, object]) -> None:
    if image["status"] != "normal":
        raise StackError(
            f"the demo capture failed: {image.get('failure')} (see `ims-stack logs capture`; "
            "`ims-stack reset --yes` starts over)"
        )
    headers = {"Authorization": f"Bearer {token}"}
    table = Table(title="alice's private images (私有镜像)")
    for column in ("名称", "状态", "操作系统", "类型", "系统盘 (GB)", "镜像大小"):
        table.add_column(column)
    page = httpx.get(f"{catalog}/v1/images", params={"tab": "private"}, headers=headers, timeout=5)
    for row in page.json()["items"]:
        table.add_row(
            row["name"],
            row["status_label"],
            row["os_label"] or "",
            row["image_type"],
            str(row["system_disk_gb"] or ""),
            row["size_label"] or "",
        )
    console.print(table)
    console.print(
        f"image {image['name']} ({image['id']}): {image['status_label']}, "
        f"sha256 {image['checksum_sha256']}"
    )
    public = httpx.get(f"{catalog}/v1/images", params={"tab": "public"}, headers=headers, timeout=5)
    names = ", ".join(row["name"] for row in public.json()["items"])
    console.print(f"public images (公共镜像): {names}")


def write_tokens(state: StackState, image_id: UUID) -> Path:
    """`<state dir>/demo/tokens.env`: bearer tokens for trying the APIs by hand (valid
    12 hours) and the demo image's id; the README's "Try it" lines source it."""
    issuer = state.issuer()
    values = {
        f"{name.upper()}_TOKEN": issuer.token(demo_id(f"account:{name}"), name, ttl=TOKEN_TTL)
        for name in ACCOUNTS
    }
    values["DEMO_IMAGE_ID"] = str(image_id)
    path = state.path / "demo" / "tokens.env"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_private(path, "".join(f"{key}={value}\n" for key, value in values.items()))
    return path
