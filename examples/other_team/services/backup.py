"""Nightly images of a tenant's hosts, requested from IMS."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from ims_testkit.schemas.events import CaptureRequested


def nightly_image_name(host_name: str, day: date) -> str:
    return f"{host_name}-nightly-{day:%Y%m%d}"


def nightly_capture(account_id: UUID, host_id: UUID, host_name: str, day: date) -> CaptureRequested:
    """What the backup service asks IMS for, once a night per host."""
    return CaptureRequested(
        image_id=UUID(int=host_id.int ^ day.toordinal()),  # one image per host and night
        account_id=account_id,
        host_id=host_id,
        name=nightly_image_name(host_name, day),
        description="nightly backup",
    )
