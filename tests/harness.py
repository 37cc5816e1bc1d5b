"""Test harness: the IMS services as real processes, and a Kafka client to talk to them.

Services run exactly as in production (``python -m services.<name> migrate`` then
``run``), so a test can kill one with SIGKILL or arm a failpoint and watch it recover.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID, uuid4

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.structs import RecordMetadata

from deploy.stack.services import ServiceLaunch
from ims_testkit.tokens import Issuer
from schemas.envelope import Envelope
from schemas.events import Event
from services.common.codec import build_envelope, encode
from tests.infra import TestStack, free_port

REPO = Path(__file__).resolve().parent.parent
SERVICES = ("catalog", "capture", "sharing", "notifier")


@dataclass
class ServiceProcess:
    """One service process, started and stopped by a test."""

    name: str
    env: dict[str, str]
    log_path: Path
    http_port: int
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def migrate(self) -> None:
        done = subprocess.run(
            [sys.executable, "-m", f"services.{self.name}", "migrate"],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            timeout=120,
        )
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace")[-4000:]
            raise AssertionError(f"{self.name} migrate exited {done.returncode}:\n{output}")

    def start(self, *, failpoints: str = "") -> ServiceProcess:
        env = dict(self.env, IMS_FAILPOINTS=failpoints)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.name}", "run"],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    def wait_healthy(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                if httpx.get(self.url("/healthz"), timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"{self.name} not healthy after {timeout}s:\n{self.log_tail()}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http_port}{path}"

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} was never started"
        return self.proc.pid

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def metric(self, name: str, **labels: str) -> float:
        """Sum of a Prometheus sample on /metrics (0 when absent)."""
        total = 0.0
        for line in httpx.get(self.url("/metrics"), timeout=5).text.splitlines():
            if not line.startswith(name):
                continue
            head, _, value = line.rpartition(" ")
            if all(f'{k}="{v}"' in head for k, v in labels.items()):
                total += float(value)
        return total

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def service_process(stack: TestStack, name: str, *, issuer: Issuer) -> ServiceProcess:
    """One service of ``stack``, configured as ``ims-stack`` configures it, on a free port."""
    launch = ServiceLaunch(
        name=name,
        kafka_bootstrap=stack.kafka_bootstrap,
        database_url=stack.dsns[name],
        topic_prefix=stack.topic_prefix,
        http_port=free_port(),
        home=stack.tmp_dir / f"{stack.topic_prefix}{name}",
        auth_jwks=published_jwks(stack, issuer),
        auth_issuer=issuer.issuer,
        image_store=stack.tmp_dir / "images" if name == "capture" else None,
        # The tests' disk files are in their tmp_path dirs, all below pytest's base temp.
        block_storage=stack.tmp_dir.parent if name == "capture" else None,
        kafka_credentials=stack.kafka_credentials(name),  # its own principal, as deployed
    )
    launch.data_dir.mkdir(parents=True, exist_ok=True)
    base = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/root")}
    env = launch.env(base) | {
        # Short, so the failure paths of the tests do not wait long for lagging host facts.
        "IMS_HOST_FACTS_GRACE_SECONDS": "3",
        # Short, so a crashed instance's partitions move to its successor quickly.
        "IMS_KAFKA_SESSION_TIMEOUT_SECONDS": "6",
    }
    return ServiceProcess(name, env, launch.log, launch.http_port)


class KafkaAccess(Protocol):
    """Where a Bus connects, and as whom (TestStack; the containers' IMS)."""

    @property
    def topic_prefix(self) -> str: ...

    def kafka_client_config(self, principal: str = "admin") -> dict[str, Any]: ...


class Bus:
    """Produces and reads events the way other platform services would.

    As the admin super user by default: tests forge facts of every writer. A test playing
    one principal (what the broker lets it do) passes ``principal``."""

    def __init__(self, stack: KafkaAccess, principal: str = "admin") -> None:
        self.prefix = stack.topic_prefix
        self.client_config = stack.kafka_client_config(principal)
        self._producer: AIOKafkaProducer | None = None

    async def __aenter__(self) -> Bus:
        self._producer = AIOKafkaProducer(**self.client_config, acks="all", enable_idempotence=True)
        await self._producer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._producer is not None
        await self._producer.stop()

    def topic(self, name: str) -> str:
        return f"{self.prefix}{name}"

    async def send_raw(
        self,
        name: str,
        key: str,
        value: bytes,
        headers: list[tuple[str, bytes | None]] | None = None,
    ) -> RecordMetadata:
        """Produce one record; returns where it landed (partition, offset)."""
        assert self._producer is not None
        return await self._producer.send_and_wait(
            self.topic(name), value=value, key=key.encode(), headers=headers
        )

    async def send(
        self, data: Event, *, subject: UUID, tenant: UUID, sequence: int = 1, source: str = "/test"
    ) -> Envelope[Event]:
        envelope = build_envelope(
            data, source=source, subject=str(subject), tenant=str(tenant), sequence=sequence
        )
        await self.send_raw(data.NAME, str(subject), encode(envelope))
        return envelope

    @staticmethod
    async def _take(
        consumer: AIOKafkaConsumer, seen: list[ConsumerRecord[bytes, bytes]], key: str | None
    ) -> None:
        batch = await consumer.getmany(timeout_ms=500)
        for records in batch.values():
            seen += [r for r in records if key is None or r.key == key.encode()]

    async def read(
        self,
        name: str,
        until: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
        *,
        key: str | None = None,
        timeout: float = 60.0,
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """Records of a topic from its beginning (optionally one key) once ``until`` holds."""
        # No group: the consumer is assigned every partition and reads from the start.
        consumer = AIOKafkaConsumer(
            self.topic(name),
            **self.client_config,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            seen: list[ConsumerRecord[bytes, bytes]] = []
            deadline = time.monotonic() + timeout
            while not until(seen):
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"{name}: condition not met in {timeout}s; saw {len(seen)}"
                    )
                await self._take(consumer, seen, key)
            # Then drain to the topic's current end, so "exactly one" means exactly one.
            partitions = consumer.assignment()
            ends = await consumer.end_offsets(list(partitions))
            while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                if time.monotonic() > deadline + 30:
                    raise AssertionError(f"{name}: could not read to the end")
                await self._take(consumer, seen, key)
            return seen
        finally:
            await consumer.stop()


def body(record: ConsumerRecord[bytes, bytes]) -> dict[str, Any]:
    assert record.value is not None
    decoded: dict[str, Any] = json.loads(record.value)
    return decoded


async def eventually(
    probe: Callable[[], Any], *, timeout: float = 60.0, interval: float = 0.3
) -> Any:
    """Poll ``probe`` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"not true after {timeout}s; last: {last!r}")


def token_for(issuer: Issuer, account_id: UUID, name: str = "tester") -> str:
    return issuer.token(account_id, name)


def published_jwks(stack: TestStack, issuer: Issuer) -> Path:
    """Where the services of ``stack`` read ``issuer``'s public keys (written anew)."""
    path = stack.tmp_dir / "auth" / f"{next(iter(issuer.keys))}.json"
    issuer.write_jwks(path)
    return path


def new_id() -> UUID:
    return uuid4()
