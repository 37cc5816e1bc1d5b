"""Who may write and read each topic, as the broker's ACLs: made from the topic catalogue
(``schemas.topics.TOPICS``, its writers) and the documented consumers
(``schemas.generate.CONSUMERS``), so the broker's permissions and the contract cannot drift.

- WRITE on a topic for its writers only;
- READ on a topic for the IMS services that consume it, for the read-only ``reader`` and the
  demo's ``platform`` (every fact, not the dead letters) and for the ``operator``
  (everything);
- READ on each service's consumer group for that service only; the reader, the platform and
  the operator may use groups whose names start with their own;
- each service READ and WRITE on faust's own topics of its app.

Kafka implies DESCRIBE by READ and WRITE, and an idempotent producer needs only WRITE on
its topics (Kafka 3.0+, KIP-679), so nothing else is granted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from schemas.topics import FACT_READERS, OPERATOR, SERVICES, TOPICS, TopicSpec, topic_name

Operation = Literal["READ", "WRITE"]
ResourceType = Literal["TOPIC", "GROUP"]
Pattern = Literal["LITERAL", "PREFIXED"]


@dataclass(frozen=True, order=True)
class Acl:
    """One ALLOW binding: ``principal`` may ``operation`` the resource, from any host."""

    principal: str  # the user name, without Kafka's "User:" type
    resource_type: ResourceType
    resource_name: str
    operation: Operation
    pattern: Pattern = "LITERAL"


def group_id(service: str, topic_prefix: str = "") -> str:
    """A service's consumer group (= its faust app id, services.common.stream.app_id)."""
    return f"{topic_prefix}ims-{service}"


def leader_topic(service: str) -> str:
    """faust's assignment-leader topic of a service's app (before the prefix)."""
    return f"{group_id(service)}-__assignor-__leader"


def readers(topic: TopicSpec, consumers: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The principals that may read ``topic``."""
    services = tuple(c for c in consumers.get(topic.name, ()) if c in SERVICES)
    others = (OPERATOR,) if topic.name == "DeadLetter" else (*FACT_READERS, OPERATOR)
    return (*services, *others)


def acls(consumers: dict[str, tuple[str, ...]], topic_prefix: str = "") -> list[Acl]:
    """Every binding the broker holds for IMS, sorted."""
    bindings: set[Acl] = set()
    for topic in TOPICS:
        name = topic_name(topic.name, topic_prefix)
        bindings |= {Acl(w, "TOPIC", name, "WRITE") for w in topic.writers}
        bindings |= {Acl(r, "TOPIC", name, "READ") for r in readers(topic, consumers)}
    for service in SERVICES:
        bindings.add(Acl(service, "GROUP", group_id(service, topic_prefix), "READ"))
        leader = topic_name(leader_topic(service), topic_prefix)
        bindings |= {Acl(service, "TOPIC", leader, op) for op in ("READ", "WRITE")}
    for principal in (*FACT_READERS, OPERATOR):
        group = f"{topic_prefix}{principal}"
        bindings.add(Acl(principal, "GROUP", group, "READ", "PREFIXED"))
    return sorted(bindings)


def writable(principal: str, topic_prefix: str = "") -> list[str]:
    """The topics ``principal`` may write (for client files and documents)."""
    return [topic_name(t.name, topic_prefix) for t in TOPICS if principal in t.writers]
