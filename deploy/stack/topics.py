"""Create the topic catalogue of `schemas.topics` on a broker, under a name prefix."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from deploy.stack.config import SERVICES
from deploy.stack.process import StackError
from schemas.topics import TOPICS, TopicSpec, topic_name
from services.common.kafka_auth import KafkaCredentials, client_options
from services.common.stream import internal_topics

# The contract's topics, plus the internal ones of each service's faust app: faust may not
# create them itself (see services/common/stream.py), so the deployment does.
ALL_TOPICS: tuple[TopicSpec, ...] = TOPICS + tuple(
    spec for service in SERVICES for spec in internal_topics(service)
)

TOPIC_ALREADY_EXISTS = 36
_PER_TOPIC = 1  # DescribeConfigs source DYNAMIC_TOPIC_CONFIG: set on this topic


async def ensure_topics(
    bootstrap: str,
    prefix: str = "",
    replication_factor: int = 1,
    topics: Iterable[TopicSpec] = ALL_TOPICS,
    timeout_s: float = 60.0,
    credentials: KafkaCredentials | None = None,
) -> list[str]:
    """Create the missing topics, bring the configs of existing ones in line with the
    catalogue, then check every one exists with its partitions. Idempotent.

    An existing topic keeps its data and its partitions; a config the catalogue sets
    (retention, segment roll) is corrected when it differs, since the consumers' inbox
    retention is sized by it. Returns the physical names.
    """
    specs = {topic_name(t.name, prefix): t for t in topics}
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=30_000, **client_options(credentials)
    )
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
        # All of them: a topic made by someone else a moment ago is not listed yet, but
        # answered "already exists" above. Those created here already match.
        await _reconcile_configs(admin, specs)
    finally:
        await admin.close()
    return sorted(specs)


async def topic_configs(admin: Any, names: list[str]) -> dict[str, dict[str, tuple[str, int]]]:
    """Each topic's configs: name -> (value, source); source 1 is a per-topic setting."""
    if not names:
        return {}
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    )
    found: dict[str, dict[str, tuple[str, int]]] = {}
    for response in responses:
        for error_code, error_message, _, name, entries in response.resources:
            if error_code != 0:
                raise StackError(f"describing {name}: error {error_code} {error_message or ''}")
            found[name] = {entry[0]: (entry[1], entry[3]) for entry in entries}
    return found


async def _reconcile_configs(admin: Any, specs: dict[str, TopicSpec]) -> None:
    current = await topic_configs(admin, list(specs))
    changes = []
    for name, spec in specs.items():
        configs = current.get(name, {})
        if all(configs.get(key, ("", 0))[0] == value for key, value in spec.configs.items()):
            continue
        # AlterConfigs replaces a topic's whole per-topic config: keep an operator's other
        # settings, override only what the catalogue fixes.
        kept = {key: value for key, (value, source) in configs.items() if source == _PER_TOPIC}
        changes.append(
            ConfigResource(ConfigResourceType.TOPIC, name, configs={**kept, **spec.configs})
        )
    if not changes:
        return
    for response in await admin.alter_configs(changes):
        failed = [f"{r[3]}: error {r[0]} {r[1] or ''}" for r in response.resources if r[0] != 0]
        if failed:
            raise StackError("could not update topic configs:\n" + "\n".join(failed))


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
    bootstrap: str,
    prefix: str,
    topics: Iterable[TopicSpec] = ALL_TOPICS,
    credentials: KafkaCredentials | None = None,
) -> None:
    """Delete the prefixed topics (test teardown on a shared broker)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=30_000, **client_options(credentials)
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        names = [n for t in topics if (n := topic_name(t.name, prefix)) in existing]
        if names:
            await admin.delete_topics(names, timeout_ms=30_000)
    finally:
        await admin.close()
