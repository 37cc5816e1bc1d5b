"""The Kafka topics of IMS: one topic per event type, keyed by the aggregate id.

This catalogue is part of the contract: the stack creates exactly these topics up front
(auto-creation stays off on the broker) and the AsyncAPI document lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

# The principals on the broker: one per IMS service, one per platform producer role, a
# read-only one for other teams' consumers, and the operators' (dead letters too).
SERVICES = ("capture", "catalog", "sharing", "notifier")
PLATFORM_ROLES = ("ecs", "iam", "console")
# The three platform roles in one login that also reads the facts: what the demo (and a
# region whose platform is one team) hands out. A region with separate ECS, IAM and
# console teams gives each its role's principal and never this one.
PLATFORM = "platform"
READER = "reader"
OPERATOR = "operator"
PRINCIPALS = (*SERVICES, *PLATFORM_ROLES, PLATFORM, READER, OPERATOR)
# Who reads every fact (not the dead letters) besides the services that consume it.
FACT_READERS = (READER, PLATFORM)


@dataclass(frozen=True)
class TopicSpec:
    """One topic: its name, who writes it, what its key is, and how it is laid out.

    ``producer`` says it for people; ``writers`` are the principals the broker lets write
    it (by default the producer, when that is a principal; ``platform`` wherever a platform
    role writes). A topic without a writer cannot be declared: the broker's ACLs are made
    from this catalogue (:mod:`schemas.access`)."""

    name: str
    producer: str
    key: str
    description: str
    partitions: int = 3
    configs: dict[str, str] = field(default_factory=dict)
    writers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.writers and self.producer in PRINCIPALS:
            object.__setattr__(self, "writers", (self.producer,))
        if not self.writers:
            raise ValueError(f"topic {self.name} names no writer among {PRINCIPALS}")
        if set(self.writers) & set(PLATFORM_ROLES) and PLATFORM not in self.writers:
            object.__setattr__(self, "writers", (*self.writers, PLATFORM))
        unknown = set(self.writers) - set(PRINCIPALS)
        if unknown:
            raise ValueError(f"topic {self.name}: {sorted(unknown)} are not principals")


_DAY = timedelta(days=1)
# Facts are kept a week; an image's history is in the services' databases, not in Kafka.
FACT_RETENTION = 7 * _DAY
# Kafka deletes whole segments, never single records: a record stays readable until its
# segment has rolled (segment.ms, Kafka's default is 7 days) and then aged past retention.
FACT_SEGMENT = 1 * _DAY
# The broker looks for deletable segments this often (log.retention.check.interval.ms).
RETENTION_CHECK = timedelta(minutes=5)
# How long after it was written a record of a fact topic may still be read, e.g. by a
# consumer group replaying from "earliest": consumers must remember handled event ids
# (their inbox) for longer than this, or a replay could apply an old event again.
REDELIVERY_WINDOW = FACT_RETENTION + FACT_SEGMENT + RETENTION_CHECK


def _ms(span: timedelta) -> str:
    return str(int(span.total_seconds() * 1000))


_FACTS = {
    "cleanup.policy": "delete",
    "retention.ms": _ms(FACT_RETENTION),
    "segment.ms": _ms(FACT_SEGMENT),
}
# Dead letters wait a month for an operator; no IMS service consumes them.
_DEAD_LETTERS = {
    "cleanup.policy": "delete",
    "retention.ms": _ms(30 * _DAY),
    "segment.ms": _ms(_DAY),
}

TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        "HostChanged",
        "ecs",
        "host id",
        "ECS: a host was created, changed or deleted.",
        configs=_FACTS,
    ),
    TopicSpec(
        "AccountChanged",
        "iam",
        "account id",
        "IAM: an account was created, changed or closed.",
        configs=_FACTS,
    ),
    TopicSpec(
        "CaptureRequested",
        "any platform service",
        "image id",
        "A tenant asks for a private image of one of its hosts.",
        configs=_FACTS,
        # The catalog for the console's creates (POST /v1/images), and the platform's roles.
        writers=("catalog", *PLATFORM_ROLES),
    ),
    TopicSpec(
        "CaptureAccepted",
        "catalog",
        "image id",
        "The catalog registered the image as creating; capture may start.",
        configs=_FACTS,
    ),
    TopicSpec(
        "CaptureProgressed", "capture", "image id", "A capture job advanced.", configs=_FACTS
    ),
    TopicSpec(
        "ImageReady",
        "capture",
        "image id",
        "A capture finished: the image file is stored and checksummed.",
        configs=_FACTS,
    ),
    TopicSpec(
        "CaptureFailed",
        "capture",
        "image id",
        "A capture failed with a reason and left no image file.",
        configs=_FACTS,
    ),
    TopicSpec(
        "CaptureRefused",
        "catalog",
        "image id",
        "The catalog refused a capture request (over quota); the image is failed.",
        configs=_FACTS,
    ),
    TopicSpec(
        "ImageUpdated",
        "catalog",
        "image id",
        "A private image's name, description or publish status changed.",
        configs=_FACTS,
    ),
    TopicSpec(
        "ImageDeleted",
        "catalog",
        "image id",
        "A private image was deleted by its owner.",
        configs=_FACTS,
    ),
    TopicSpec(
        "PublicImageAdded",
        "catalog",
        "image id",
        "A public image is available to every tenant.",
        configs=_FACTS,
    ),
    TopicSpec(
        "PublicImageRetired",
        "catalog",
        "image id",
        "A public image was retired.",
        configs=_FACTS,
    ),
    TopicSpec(
        "StorageUsageChanged",
        "catalog",
        "account id",
        "An account's stored image bytes changed: new totals, for billing.",
        configs=_FACTS,
    ),
    TopicSpec(
        "ShareOffered",
        "sharing",
        "membership id",
        "An image was offered to an account.",
        configs=_FACTS,
    ),
    TopicSpec(
        "ShareAccepted",
        "sharing",
        "membership id",
        "A recipient accepted a shared image.",
        configs=_FACTS,
    ),
    TopicSpec(
        "ShareRejected",
        "sharing",
        "membership id",
        "A recipient rejected an offer or removed an accepted image.",
        configs=_FACTS,
    ),
    TopicSpec(
        "ShareRevoked",
        "sharing",
        "membership id",
        "A membership ended: tenant removed, sharing cancelled, image deleted, account closed.",
        configs=_FACTS,
    ),
    TopicSpec(
        "OwnerNotified",
        "notifier",
        "account id",
        "A notice for an image owner was put in the account's inbox.",
        configs=_FACTS,
    ),
    TopicSpec(
        "SharePromptUpdated",
        "notifier",
        "account id",
        "A recipient's prompt 是否接受镜像 changed; the latest version replaces the others.",
        configs=_FACTS,
    ),
    TopicSpec(
        "DeadLetter",
        "every consumer",
        "dead-letter id (the original key is in the body)",
        "Records a consumer could not process, with the reason and the original bytes.",
        configs=_DEAD_LETTERS,
        writers=SERVICES,
    ),
)


def topic_name(name: str, prefix: str = "") -> str:
    """The physical topic name: tests and side-by-side deployments add a prefix."""
    return f"{prefix}{name}"
