"""Which images the testkit runs: upstream Kafka and PostgreSQL, and your IMS image."""

from __future__ import annotations

import os
from dataclasses import dataclass

UPSTREAM_KAFKA = "apache/kafka:4.1.1"
UPSTREAM_POSTGRES = "postgres:15"


@dataclass(frozen=True)
class Images:
    """`ims` is required: the image your platform publishes, or one `ims-images build` made.
    Kafka and PostgreSQL default to the official images; the ones `ims-images build` makes
    take the same settings and replace them where no registry is reachable."""

    ims: str
    kafka: str = UPSTREAM_KAFKA
    postgres: str = UPSTREAM_POSTGRES

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Images:
        """IMS_TESTKIT_IMS_IMAGE (required), IMS_TESTKIT_KAFKA_IMAGE, IMS_TESTKIT_POSTGRES_IMAGE."""
        env = dict(os.environ) if env is None else env
        ims = env.get("IMS_TESTKIT_IMS_IMAGE", "")
        if not ims:
            raise LookupError(
                "IMS_TESTKIT_IMS_IMAGE is not set: name the IMS image to test against "
                "(e.g. the tag `ims-images build` prints)"
            )
        return cls(
            ims=ims,
            kafka=env.get("IMS_TESTKIT_KAFKA_IMAGE") or UPSTREAM_KAFKA,
            postgres=env.get("IMS_TESTKIT_POSTGRES_IMAGE") or UPSTREAM_POSTGRES,
        )
