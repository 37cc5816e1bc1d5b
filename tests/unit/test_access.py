"""The broker's ACLs come from the contract: each topic is written by its writers only,
read by its consumers, the read-only reader (facts) and the operator (everything), and
each service's consumer group is its own."""

from __future__ import annotations

import pytest
import yaml

from schemas.access import Acl, acls, group_id, leader_topic, writable
from schemas.generate import CONSUMERS, asyncapi_document
from schemas.topics import OPERATOR, PRINCIPALS, READER, SERVICES, TOPICS, TopicSpec

ACLS = acls(CONSUMERS)


def allowed(principal: str, operation: str, topic: str) -> bool:
    return Acl(principal, "TOPIC", topic, operation) in ACLS  # type: ignore[arg-type]


def test_a_topic_without_a_writer_cannot_be_declared() -> None:
    with pytest.raises(ValueError, match="names no writer"):
        TopicSpec("Orphan", "someone", "id", "nobody may write it")
    with pytest.raises(ValueError, match="not principals"):
        TopicSpec("Odd", "x", "id", "an unknown writer", writers=("mallory",))


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.name)
def test_only_the_writers_may_write_a_topic(topic: TopicSpec) -> None:
    for principal in PRINCIPALS:
        assert allowed(principal, "WRITE", topic.name) == (principal in topic.writers)


def test_the_platform_roles_write_their_own_facts_and_never_ims_facts() -> None:
    assert writable("ecs") == ["HostChanged", "CaptureRequested"]
    assert writable("iam") == ["AccountChanged", "CaptureRequested"]
    for fact in ("ShareOffered", "ShareAccepted", "ImageReady", "CaptureAccepted"):
        assert not any(allowed(role, "WRITE", fact) for role in ("ecs", "iam", "console"))
    assert writable("sharing") == ["ShareOffered", "ShareAccepted", "ShareRejected",
                                   "ShareRevoked", "DeadLetter"]  # fmt: skip


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.name)
def test_consumers_the_reader_and_the_operator_read(topic: TopicSpec) -> None:
    services = {c for c in CONSUMERS[topic.name] if c in SERVICES}
    for service in SERVICES:
        assert allowed(service, "READ", topic.name) == (service in services)
    assert allowed(OPERATOR, "READ", topic.name)
    assert allowed(READER, "READ", topic.name) == (topic.name != "DeadLetter")
    assert not any(allowed(role, "READ", topic.name) for role in ("ecs", "iam", "console"))


def test_each_service_uses_its_own_consumer_group_and_faust_topic_only() -> None:
    groups = {(a.principal, a.resource_name) for a in ACLS if a.resource_type == "GROUP"}
    for service in SERVICES:
        assert (service, group_id(service)) in groups
        assert allowed(service, "WRITE", leader_topic(service))
        others = [s for s in SERVICES if s != service]
        assert not any((service, group_id(o)) in groups for o in others)


def test_a_prefix_moves_every_binding() -> None:
    prefixed = acls(CONSUMERS, topic_prefix="t1.")
    assert len(prefixed) == len(ACLS)
    assert all(a.resource_name.startswith("t1.") for a in prefixed)


def test_the_asyncapi_document_says_who_writes_and_reads_each_topic() -> None:
    channels = yaml.safe_load(yaml.safe_dump(asyncapi_document()))["channels"]
    for topic in TOPICS:
        access = channels[topic.name]["x-ims-access"]
        assert set(access["write"]) == {a.principal for a in ACLS
            if a.resource_name == topic.name and a.operation == "WRITE"}  # fmt: skip
        assert set(access["read"]) == {a.principal for a in ACLS
            if a.resource_name == topic.name and a.operation == "READ"}  # fmt: skip
