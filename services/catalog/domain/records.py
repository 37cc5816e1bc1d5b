"""The catalog's values as its rules, handlers and store exchange them (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from services.catalog.domain.rules import ImageStatus, PublishStatus, Tab, Visibility


@dataclass(frozen=True)
class ImageRecord:
    image_id: UUID
    visibility: Visibility
    owner_account_id: UUID | None
    name: str
    description: str
    status: ImageStatus
    progress: int
    os: dict[str, Any] | None
    system_disk_gb: int | None
    min_memory_mb: int | None
    disk_format: str | None
    size_bytes: int | None
    virtual_size_bytes: int | None
    checksum_sha256: str | None
    source_host_id: UUID | None
    source_host_name: str | None
    publish_status: PublishStatus
    failure_code: str | None
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime
    # None while an image the API registered waits for its own CaptureRequested.
    accepted_at: datetime | None = None
    shared: bool = False  # has share tenants (the lists' 共享 是/否)
    preflight: dict[str, Any] | None = None  # K4, as capture stated it
    keeps_source_password: bool = False  # K5


@dataclass(frozen=True)
class AccountRecord:
    account_id: UUID
    private_image_quota: int | None  # None: the region's default
    stored_bytes: int
    stored_images: int
    updated_at: datetime | None


@dataclass(frozen=True)
class NewPublicImage:
    image_id: UUID
    name: str
    description: str
    os: dict[str, Any]
    system_disk_gb: int
    min_memory_mb: int
    disk_format: str | None
    size_bytes: int | None
    checksum_sha256: str | None


@dataclass(frozen=True)
class MembershipRecord:
    """What the catalog keeps of sharing's facts about one membership."""

    membership_id: UUID
    image_id: UUID
    owner_account_id: UUID
    member_account_id: UUID
    member_account_name: str
    member_project_id: UUID | None
    member_project_name: str | None
    status: str
    revoked_cause: str | None
    offered_at: datetime | None
    changed_at: datetime


@dataclass(frozen=True)
class ListQuery:
    """One page of a list tab (C2): newest first, keyset cursor, optional filters."""

    account_id: UUID
    tab: Tab
    status: ImageStatus | None = None
    os_family: str | None = None
    name_contains: str | None = None
    limit: int = 20
    cursor: str | None = None


@dataclass(frozen=True)
class CaptureRequest:
    """A request to create a private image from a host, as the catalog admits it (C6)."""

    image_id: UUID
    account_id: UUID
    host_id: UUID
    name: str
    description: str


@dataclass(frozen=True)
class Admission:
    """What became of a capture request, as one statement decided it (``Store.admit``)."""

    taken: bool  # the image id was taken before this request
    existing_owner: UUID | None  # by whom (None for a public image)
    registered_at: datetime | None  # the API had registered it: accepted now
    admitted_at: datetime | None  # registered and accepted now, within the quota
    used: int  # quota slots the account held before this request


@dataclass(frozen=True)
class FinishedCapture:
    """A capture's stored image (ImageReady), as the catalog records it."""

    image_id: UUID
    account_id: UUID
    name: str
    description: str
    os: dict[str, Any]
    system_disk_gb: int
    min_memory_mb: int
    disk_format: str
    size_bytes: int
    virtual_size_bytes: int
    checksum_sha256: str
    location: str
    source_host_id: UUID
    source_host_name: str | None
    finished_at: datetime
    preflight: dict[str, Any] | None
    keeps_source_password: bool


@dataclass(frozen=True)
class FailedCapture:
    """A capture's failure (CaptureFailed), as the catalog records it."""

    image_id: UUID
    account_id: UUID
    code: str
    reason: str
    failed_at: datetime
    preflight: dict[str, Any] | None
