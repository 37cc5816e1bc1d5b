"""Settings of the sharing service: the common ones, plus the region it serves."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import ServiceSettings


class SharingSettings(ServiceSettings):
    region: str | None = Field(
        default=None,
        description="The region this deployment serves (e.g. cn-east-1). Sharing never "
        "crosses regions: a project IAM places in another region is refused. Unset, a "
        "project's region is not checked",
    )
