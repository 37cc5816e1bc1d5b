"""Prometheus metrics shared by every service, served on ``/metrics`` of its HTTP API."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_HANDLED = Counter(
    "ims_events_handled_total", "Events whose effect was committed", ["consumer", "type"]
)
EVENTS_DUPLICATE = Counter(
    "ims_events_duplicate_total", "Redelivered events recognised and skipped", ["consumer"]
)
EVENTS_DEAD_LETTERED = Counter(
    "ims_events_dead_lettered_total", "Records sent to the dead-letter topic", ["consumer"]
)
RETRIES = Counter(
    "ims_retries_total",
    "Retries after a failure; kind is transient (database, broker, network) or unexpected (a bug)",
    ["component", "kind"],
)
OUTBOX_SENT = Counter("ims_outbox_sent_total", "Outbox events acknowledged by Kafka", ["service"])
OUTBOX_PENDING = Gauge("ims_outbox_pending", "Outbox events not yet sent", ["service"])
BATCH_SIZE = Histogram(
    "ims_consumer_batch_size",
    "Records of one partition a consumer handled together (one transaction per run)",
    ["consumer"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)
CONSUMER_LAG = Gauge(
    "ims_consumer_lag",
    "Records of a partition not yet handled: the partition's end minus the next to handle",
    ["consumer", "topic", "partition"],
)
OUTBOX_OLDEST_AGE = Gauge(
    "ims_outbox_oldest_unsent_age_seconds",
    "Age of the oldest outbox event not yet sent (0 when none waits)",
    ["service"],
)
