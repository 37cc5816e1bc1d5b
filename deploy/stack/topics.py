"""Create the topic catalogue of `schemas.topics` on a broker, under a name prefix."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from deploy.stack.config import SERVICES
from deploy.stack.process import StackError
from schemas.topics import TOPICS, TopicSpec, topic_name
from services.common.stream import internal_topics

# The contract's topics, plus the internal ones of each service's faust app: faust may not
# create them itself (see services/common/stream.py), so the deployment does.
ALL_TOPICS: tuple[TopicSpec, ...] = TOPICS + tuple(
    spec for service in SERVICES for spec in internal_topics(service)
)

TOPIC_ALREADY_EXISTS = 36


async def ensure_topics(
    bootstrap: str,
    prefix: str = "",
    replication_factor: int = 1,
    topics: Iterable[TopicSpec] = ALL_TOPICS,
    timeout_s: float = 60.0,
) -> list[str]:
    """Create the missing topics, then check every one exists with its partitions.

    Existing topics are left as they are (idempotent). Returns the physical names.
    """
    specs = {topic_name(t.name, prefix): t for t in topics}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, t.partitions, replication_factor, topic_configs=dict(t.configs))
            for name, t in specs.items()
            if name not in existing
        ]
        if missing:
            response = await admin.create_topics(missing, timeout_ms=30_000)
            _raise_for_errors(response)
        await _wait_visible(admin, {n: t.partitions for n, t in specs.items()}, timeout_s)
    finally:
        await admin.close()
    return sorted(specs)


def _raise_for_errors(response: Any) -> None:
    failed = [
        f"{entry[0]}: error {entry[1]} {entry[2] if len(entry) > 2 else ''}".strip()
        for entry in response.topic_errors
        if entry[1] not in (0, TOPIC_ALREADY_EXISTS)
    ]
    if failed:
        raise StackError("could not create topics:\n" + "\n".join(failed))


async def _wait_visible(admin: Any, partitions: dict[str, int], timeout_s: float) -> None:
    """Creation is asynchronous in KRaft: wait until metadata shows every partition."""
    deadline = time.monotonic() + timeout_s
    short: dict[str, int] = {}
    while time.monotonic() < deadline:
        described = await admin.describe_topics(list(partitions))
        found = {d["topic"]: len(d["partitions"]) for d in described if d["error_code"] == 0}
        short = {n: found.get(n, 0) for n, want in partitions.items() if found.get(n, 0) < want}
        if not short:
            return
        await asyncio.sleep(0.3)
    raise StackError(f"topics not visible after {timeout_s:.0f}s (name: partitions): {short}")


async def delete_topics(
    bootstrap: str, prefix: str, topics: Iterable[TopicSpec] = ALL_TOPICS
) -> None:
    """Delete the prefixed topics (test teardown on a shared broker)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        names = [n for t in topics if (n := topic_name(t.name, prefix)) in existing]
        if names:
            await admin.delete_topics(names, timeout_ms=30_000)
    finally:
        await admin.close()
