"""The IMS event contract: the ``data`` of every event, one pydantic model per event type.

These models are the single source of truth: ``schemas/json/*.schema.json`` and
``schemas/asyncapi.yaml`` are generated from them (``python -m schemas.generate``) and a test
fails when the committed files drift. Changing a model in a way that breaks readers needs a
new major version (a new ``VERSION`` and so a new CloudEvents ``type``).

Readers ignore fields they do not know, so adding an optional field is not a breaking change.
"""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.envelope import EVENT_TYPE_PREFIX

NAME_MAX = 128
DESCRIPTION_MAX = 1024


class Event(BaseModel):
    """Base of every event body. ``NAME`` is also the topic the event travels on."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    NAME: ClassVar[str]
    VERSION: ClassVar[int] = 1
    DESCRIPTION: ClassVar[str]

    @classmethod
    def event_type(cls) -> str:
        """The CloudEvents ``type``, e.g. ``ims.ImageReady.v1``."""
        return f"{EVENT_TYPE_PREFIX}{cls.NAME}.v{cls.VERSION}"


# --- aggregates: the Kafka key and the ``subject`` of each event say which one ----------

IMAGE = "image"
HOST = "host"
ACCOUNT = "account"
NOTICES = "notices"  # an account's notices (notifier), not the consumers' dedup inbox
STORAGE_USAGE = "storage_usage"  # an account's stored image bytes (catalog, C9), key account id

# --- parts -----------------------------------------------------------------------------

OsFamily = Literal["linux", "windows"]
DiskFormat = Literal["raw", "qcow2"]


class OperatingSystem(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    family: OsFamily
    distro: str = Field(min_length=1, description="e.g. CentOS, Ubuntu, Windows Server")
    version: str = Field(description="e.g. 7.6, 22.04, 2019 Datacenter")
    arch: Literal["x86_64", "aarch64"] = "x86_64"


class HostDisk(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    disk_id: UUID
    path: str = Field(min_length=1, description="Location of the disk file in block storage")
    format: DiskFormat
    size_gb: int = Field(ge=1, le=65536)


class ImageSource(BaseModel):
    """Where a private image came from: the 云主机 it was captured from."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    host_id: UUID
    host_name: str


PreflightStatus = Literal["passed", "findings", "not_inspected"]


class PreflightFinding(BaseModel):
    """One thing in the guest that the user guide (2.3-2.4) says to change before capturing."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    code: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$",
        description="static_ip, persistent_net_rules, setpasswd_missing or fstab_data_disk. "
        "An open set: a reader shows a code it does not know with its detail",
    )
    path: str = Field(description="The guest file it comes from, e.g. /etc/fstab")
    detail: str = Field(description="What was found and what to do, for people (zh-CN)")


class Preflight(BaseModel):
    """K4: what capture found in the guest's file system before copying its disk."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    status: PreflightStatus = Field(
        description="passed (nothing found), findings, or not_inspected (a Windows disk, or "
        "no readable ext2/3/4 root file system)"
    )
    findings: list[PreflightFinding] = Field(default_factory=list)
    detail: str = Field(default="", description="Why not inspected, for people (zh-CN)")


class Project(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    project_id: UUID
    name: str = Field(min_length=1)
    region: str | None = Field(
        default=None,
        description="The region the project lives in (dedicated-cloud and multi-project "
        "projects are regional); absent for a project of every region",
    )


# --- inputs from other platform services ------------------------------------------------


class HostChanged(Event):
    """ECS: the whole current state of one host after a change (or its deletion)."""

    NAME = "HostChanged"
    DESCRIPTION = "ECS reports a host's current state: owner, OS, power state and disks."

    host_id: UUID
    account_id: UUID
    name: str = Field(min_length=1, max_length=255)
    os: OperatingSystem
    state: Literal["running", "stopped", "deleted"]
    memory_mb: int = Field(ge=1)
    system_disk: HostDisk
    data_disks: list[HostDisk] = Field(default_factory=list)


class AccountChanged(Event):
    """IAM: the current state of one account (tenant)."""

    NAME = "AccountChanged"
    DESCRIPTION = "IAM reports an account's current state: name, kind, projects."

    account_id: UUID
    name: str = Field(min_length=1, max_length=64)
    kind: Literal["standard", "dedicated_cloud", "multi_project"] = "standard"
    projects: list[Project] = Field(default_factory=list)
    status: Literal["active", "closed"] = "active"


# --- capture ----------------------------------------------------------------------------


class CaptureRequested(Event):
    """A tenant asks for a private image of one of its stopped hosts.

    The requester mints ``image_id``; asking twice with the same id has one effect.
    """

    NAME = "CaptureRequested"
    DESCRIPTION = "Create a private image from a host (K1); produced by any platform service."

    image_id: UUID
    account_id: UUID
    host_id: UUID
    name: str = Field(min_length=1, max_length=NAME_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    strict_preflight: bool = Field(default=False, description="Refuse on guest findings (K4)")


class CaptureAccepted(Event):
    """The catalog registered the image as ``creating``: capture may start."""

    NAME = "CaptureAccepted"
    DESCRIPTION = "The catalog admitted a capture request and registered the image as creating."

    image_id: UUID
    account_id: UUID
    host_id: UUID
    name: str
    description: str = ""
    strict_preflight: bool = False
    requested_at: AwareDatetime


class CaptureProgressed(Event):
    NAME = "CaptureProgressed"
    DESCRIPTION = "A capture job advanced; percent done."

    image_id: UUID
    account_id: UUID
    percent: int = Field(ge=0, le=100)


class ImageReady(Event):
    """A capture finished: the whole image as the catalog will show it."""

    NAME = "ImageReady"
    DESCRIPTION = "A capture finished; the image file is stored, sized and checksummed."

    image_id: UUID
    account_id: UUID
    name: str
    description: str = ""
    source: ImageSource
    os: OperatingSystem
    system_disk_gb: int = Field(ge=1)
    min_memory_mb: int = Field(ge=0)
    disk_format: DiskFormat
    size_bytes: int = Field(ge=0, description="Bytes stored (billed, C9)")
    virtual_size_bytes: int = Field(ge=0)
    checksum_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    location: str = Field(description="Where the image file is in the image store")
    finished_at: AwareDatetime
    preflight: Preflight | None = Field(
        default=None, description="K4: the guest preflight (absent from captures before it)"
    )
    keeps_source_password: bool = Field(
        default=False,
        description="K5: hosts made from this image keep the source host's password (a "
        "Windows image); the console says to log in with it",
    )


CaptureFailureCode = Literal[
    "host_unknown",
    "host_running",
    "host_changed",
    "host_deleted",
    "disk_unreadable",
    "preflight_refused",
    "internal_error",
]


class CaptureFailed(Event):
    NAME = "CaptureFailed"
    DESCRIPTION = "A capture failed with a reason and left no image file."

    image_id: UUID
    account_id: UUID
    host_id: UUID
    name: str
    code: CaptureFailureCode
    reason: str = Field(description="Human-readable reason (zh-CN)")
    failed_at: AwareDatetime
    preflight: Preflight | None = Field(
        default=None, description="K4: the findings, when code is preflight_refused"
    )


# --- catalog ----------------------------------------------------------------------------


class CaptureRefused(Event):
    """The catalog refused a capture request before any capture started: the image is
    ``failed`` in the catalog and holds nothing. Today the only cause is the account's
    private image quota (C6); the requester and the owner learn why from ``code`` and
    ``reason``. A fact on the image's version line (sequence 1: nothing came before it)."""

    NAME = "CaptureRefused"
    DESCRIPTION = (
        "The catalog refused a capture request (C6: over the account's private image "
        "quota); the image is failed and nothing was captured."
    )

    image_id: UUID
    account_id: UUID
    host_id: UUID
    name: str
    code: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Why, for programs: quota_exceeded (the account has as many creating "
        "and normal private images as its quota allows). An open set: a reader treats a "
        "code it does not know as a refusal all the same",
    )
    reason: str = Field(description="Why, for people (zh-CN, the console's words)")
    reason_en: str = Field(default="", description="The same in English")
    quota_limit: int | None = Field(default=None, ge=0, description="For quota_exceeded")
    quota_used: int | None = Field(default=None, ge=0, description="For quota_exceeded")
    refused_at: AwareDatetime


class StorageUsageChanged(Event):
    """An account's stored image bytes changed (C9): the new totals, for billing.

    Keyed by the account id, on a version line of its own (``STORAGE_USAGE``): a reader
    keeps the figures of the highest ``sequence`` it has seen and ignores older ones.
    Stored means the image files of the account's ``normal`` private images: a capture
    that finished adds its file, a deletion removes it, a failed capture stores nothing."""

    NAME = "StorageUsageChanged"
    DESCRIPTION = "An account's stored image bytes changed (C9): new totals, for billing."

    account_id: UUID
    stored_bytes: int = Field(ge=0, description="Bytes of all the account's stored images")
    stored_images: int = Field(ge=0, description="How many images those bytes belong to")
    image_id: UUID = Field(description="The image whose capture or deletion changed them")
    delta_bytes: int = Field(description="stored_bytes minus the previous figure")
    changed_at: AwareDatetime


# The envelope ``tenant`` of facts about the platform's public images, which no account owns.
PLATFORM_TENANT = "platform"
PublishStatus = Literal["unpublished", "published"]


class ImageUpdated(Event):
    """The owner changed a private image's name or description (C4), or an admin its
    publish status (C7): the image's mutable attributes after the change."""

    NAME = "ImageUpdated"
    DESCRIPTION = "A private image's name, description or publish status changed (C4, C7)."

    image_id: UUID
    account_id: UUID
    name: str = Field(min_length=1, max_length=NAME_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    publish_status: PublishStatus
    updated_at: AwareDatetime


class ImageDeleted(Event):
    """The owner deleted a private image (C5): it leaves every list, its memberships end and
    its stored file is removed by the service that stored it."""

    NAME = "ImageDeleted"
    DESCRIPTION = "A private image was deleted (C5); shares of it end, its file is removed."

    image_id: UUID
    account_id: UUID
    deleted_at: AwareDatetime


class PublicImageAdded(Event):
    """A public image is in the catalog (C1): seeded at install or added by an admin.
    Stated in the name of ``PLATFORM_TENANT``."""

    NAME = "PublicImageAdded"
    DESCRIPTION = "A public image is available to every tenant (C1)."

    image_id: UUID
    name: str = Field(min_length=1, max_length=NAME_MAX)
    os: OperatingSystem
    system_disk_gb: int = Field(ge=1)
    min_memory_mb: int = Field(ge=0)
    added_at: AwareDatetime


class PublicImageRetired(Event):
    """An admin retired a public image (C1): it leaves the public tab and cannot be used."""

    NAME = "PublicImageRetired"
    DESCRIPTION = "A public image was retired by an admin (C1)."

    image_id: UUID
    retired_at: AwareDatetime


# --- sharing ----------------------------------------------------------------------------
# A membership (an image offered to one account) is an aggregate of its own: its key and
# ``subject`` are ``membership_id(image_id, member_account_id)`` and its facts carry their own
# version line, apart from the image's. Each fact says what a reader needs (names of the
# image and of both accounts), so nobody has to ask back. The envelope's ``tenant`` is the
# account that made the change: the owner for offers and revocations, the member for answers.

MEMBERSHIP = "membership"
MemberStatus = Literal["pending", "accepted", "rejected"]
RevocationCause = Literal[
    "tenant_removed",  # the owner deleted this tenant (S9)
    "sharing_cancelled",  # the owner cancelled sharing of the image (S7)
    "image_deleted",  # the owner deleted the image (C5)
    "image_failed",  # the image is no longer usable in the catalog
    "account_closed",  # the member's account was closed in IAM
]


def membership_id(image_id: UUID, member_account_id: UUID) -> UUID:
    """The id of the membership of ``member_account_id`` in ``image_id``: the same for every
    reader and writer, so any service can key and look up a membership."""
    return uuid5(NAMESPACE_URL, f"ims:membership:{image_id}:{member_account_id}")


class MembershipFact(Event):
    """What every fact about a membership says (not an event type of its own)."""

    membership_id: UUID = Field(description="membership_id(image_id, member_account_id)")
    image_id: UUID
    image_name: str
    owner_account_id: UUID
    owner_account_name: str
    member_account_id: UUID
    member_account_name: str
    member_project_id: UUID | None = Field(
        default=None, description="The project shared to (dedicated-cloud, multi-project)"
    )
    member_project_name: str | None = None


class ShareOffered(MembershipFact):
    NAME = "ShareOffered"
    VERSION = 2  # v1 (keyed by image id, no account names) was never produced
    DESCRIPTION = "An owner offered a private image to an account (S1, S8); it is pending."

    offered_at: AwareDatetime


class ShareAccepted(MembershipFact):
    NAME = "ShareAccepted"
    VERSION = 2  # v1 (keyed by image id, no names) was never produced
    DESCRIPTION = "A recipient accepted a shared image (S3), or re-accepted a rejected one (S6)."

    accepted_at: AwareDatetime


class ShareRejected(MembershipFact):
    NAME = "ShareRejected"
    DESCRIPTION = (
        "A recipient rejected an offer (S3) or removed an accepted image from its list (S5)."
    )

    previous_status: Literal["pending", "accepted"]
    rejected_at: AwareDatetime


class ShareRevoked(MembershipFact):
    NAME = "ShareRevoked"
    DESCRIPTION = (
        "A membership ended without the recipient (S7, S9, S10): the owner removed the "
        "tenant, cancelled sharing or deleted the image, or the account was closed."
    )

    cause: RevocationCause
    previous_status: MemberStatus
    revoked_at: AwareDatetime


# --- notifier ---------------------------------------------------------------------------

# A prompt lists at most this many pending images (newest first) and says how many there
# are in all: an account with thousands of offers still gets an event Kafka accepts.
PROMPT_IMAGES_MAX = 500


class PromptImage(BaseModel):
    """One pending offer as the prompt lists it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    membership_id: UUID
    image_id: UUID
    name: str
    owner_account_id: UUID
    owner_account_name: str
    offered_at: AwareDatetime


class PromptAction(BaseModel):
    """A button of the prompt: the sharing API call it makes."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    action: Literal["accept_all", "reject_all", "details"]
    label_zh: str
    label_en: str
    method: Literal["GET", "POST"]
    path: str = Field(description="Path of the sharing API, e.g. /v1/shared-images/accept")
    body: dict[str, bool] | None = Field(default=None, description="JSON body of a POST")


class OwnerNotified(Event):
    NAME = "OwnerNotified"
    DESCRIPTION = "An image owner was told that a capture finished or failed (N4)."

    notice_id: UUID
    account_id: UUID
    image_id: UUID
    kind: Literal["capture_succeeded", "capture_failed"]
    text_zh: str
    text_en: str


class SharePromptUpdated(Event):
    """The recipient's one prompt 是否接受镜像 after a change (N1-N3): every image offered to
    the account and still pending. Keyed by the account; each version replaces the last
    (readers keep the highest ``sequence``). ``resolved`` when nothing is pending any more."""

    NAME = "SharePromptUpdated"
    DESCRIPTION = "A recipient's prompt 是否接受镜像 changed: the pending offers it lists (N1-N3)."

    prompt_id: UUID = Field(description="Stable per account; the notice id in its inbox")
    account_id: UUID
    status: Literal["open", "resolved"]
    pending_count: int = Field(ge=0, description="All pending offers, listed or not")
    images: list[PromptImage] = Field(
        default_factory=list,
        max_length=PROMPT_IMAGES_MAX,
        description=f"The pending offers, newest first, at most {PROMPT_IMAGES_MAX}",
    )
    title_zh: str
    title_en: str
    text_zh: str
    text_en: str
    actions: list[PromptAction] = Field(default_factory=list)
    updated_at: AwareDatetime


# --- dead letters -----------------------------------------------------------------------


class KafkaHeader(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    key: str
    value_base64: str | None = None


DEAD_LETTER_VALUE_MAX = 64 * 1024


class DeadLetter(Event):
    """A record a consumer could not process, kept for an operator.

    The original value is kept whole up to 64 KiB; a larger one is cut there
    (``value_truncated``), with its size and SHA-256, so a dead letter always fits on Kafka.
    """

    NAME = "DeadLetter"
    DESCRIPTION = "A record that could not be processed, with the reason and the original bytes."

    consumer: str = Field(description="The consumer group that gave up")
    topic: str
    partition: int
    offset: int
    event_id: UUID | None = Field(default=None, description="The record's own id, if readable")
    key_base64: str | None = None
    value_base64: str | None = None
    value_size: int = Field(ge=0, description="Bytes of the original value")
    value_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    value_truncated: bool = False
    headers: list[KafkaHeader] = Field(default_factory=list)
    reason: str
    error_type: str
    failed_at: AwareDatetime


EVENT_TYPES: tuple[type[Event], ...] = (
    HostChanged,
    AccountChanged,
    CaptureRequested,
    CaptureAccepted,
    CaptureProgressed,
    ImageReady,
    CaptureFailed,
    CaptureRefused,
    ImageUpdated,
    ImageDeleted,
    PublicImageAdded,
    PublicImageRetired,
    StorageUsageChanged,
    ShareOffered,
    ShareAccepted,
    ShareRejected,
    ShareRevoked,
    OwnerNotified,
    SharePromptUpdated,
    DeadLetter,
)

BY_TYPE: dict[str, type[Event]] = {cls.event_type(): cls for cls in EVENT_TYPES}
