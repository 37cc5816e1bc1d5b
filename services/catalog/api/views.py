"""What the catalog's HTTP API answers: the response bodies (and so its OpenAPI)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from fastapi import Response
from pydantic import BaseModel

from services.catalog.domain import (
    IMAGE_TYPE_LABEL,
    MEMBER_LABELS,
    PUBLISH_LABELS,
    STATUS_LABELS,
    AccountRecord,
    ImageRecord,
    ImageStatus,
    MembershipRecord,
    PublishStatus,
    Quota,
    Visibility,
    bytes_to_console_gb,
    messages,
)
from services.catalog.handlers.queries import Detail, Page, ShareTenants
from services.common.consistency import HEADER, consumed_by
from services.common.i18n import Language


class ShareTenantView(BaseModel):
    account_id: UUID
    account_name: str
    project_id: UUID | None
    project_name: str | None
    status: str
    status_label: str
    offered_at: datetime | None

    @classmethod
    def of(cls, member: MembershipRecord) -> ShareTenantView:
        return cls(
            account_id=member.member_account_id,
            account_name=member.member_account_name,
            project_id=member.member_project_id,
            project_name=member.member_project_name,
            status=member.status,
            status_label=MEMBER_LABELS[member.status],
            offered_at=member.offered_at,
        )


class ShareTenantsView(BaseModel):
    """共享租户: how many accounts the image is shared with; the list only for its owner."""

    count: int
    members: list[ShareTenantView] | None

    @classmethod
    def of(cls, tenants: ShareTenants) -> ShareTenantsView:
        members = tenants.members
        return cls(
            count=tenants.count,
            members=None if members is None else [ShareTenantView.of(m) for m in members],
        )


class ImageSourceView(BaseModel):
    host_id: UUID
    host_name: str | None


class FailureView(BaseModel):
    code: str
    reason: str


class PreflightFindingView(BaseModel):
    code: str  # static_ip, persistent_net_rules, setpasswd_missing, fstab_data_disk, ...
    path: str  # the guest file it comes from
    detail: str


class PreflightView(BaseModel):
    """K4: what capture found in the guest before copying its disk."""

    status: Literal["passed", "findings", "not_inspected"]
    status_label: str
    findings: list[PreflightFindingView]
    detail: str

    @classmethod
    def of(cls, stored: dict[str, Any]) -> PreflightView:
        status = stored.get("status", "not_inspected")
        return cls.model_construct(
            status=status,
            status_label=messages.PREFLIGHT_LABELS.get(status, status),
            findings=[
                PreflightFindingView.model_construct(**f) for f in stored.get("findings", [])
            ],
            detail=stored.get("detail", ""),
        )


class ImageView(BaseModel):
    id: UUID
    name: str
    description: str
    status: ImageStatus
    status_label: str
    visibility: Visibility
    image_type: str
    os: dict[str, Any] | None
    os_label: str | None
    system_disk_gb: int | None
    min_memory_mb: int | None
    disk_format: str | None
    size_bytes: int | None
    size_label: str | None
    virtual_size_bytes: int | None  # the guest's disk size, read from the stored file
    checksum_sha256: str | None
    publish_status: PublishStatus
    publish_status_label: str
    source: ImageSourceView | None
    progress: int
    failure: FailureView | None
    shared: bool
    created_at: datetime
    preflight: PreflightView | None = None  # K4: in the owner's detail only
    keeps_source_password: bool = False  # K5: hosts from it keep the source's password
    password_notice: str | None = None  # in the detail only: FAQ 4.7's words, when it does
    share_tenants: ShareTenantsView | None = None  # in the detail only (C3)

    @classmethod
    def of(cls, image: ImageRecord) -> ImageView:
        """The view of a stored image. Built without validation (``model_construct``): the
        record's fields are typed already, and lists build twenty of these per request."""
        os_label = None
        if image.os:
            os_label = " ".join(p for p in (image.os.get("distro"), image.os.get("version")) if p)
            os_label = f"{os_label} 64bit"
        source = (
            ImageSourceView.model_construct(
                host_id=image.source_host_id, host_name=image.source_host_name
            )
            if image.source_host_id
            else None
        )
        failure = (
            FailureView.model_construct(code=image.failure_code, reason=image.failure_reason or "")
            if image.failure_code
            else None
        )
        return cls.model_construct(
            id=image.image_id,
            name=image.name,
            description=image.description,
            status=image.status,
            status_label=STATUS_LABELS[image.status],
            visibility=image.visibility,
            image_type=IMAGE_TYPE_LABEL,
            os=image.os,
            os_label=os_label,
            system_disk_gb=image.system_disk_gb,
            min_memory_mb=image.min_memory_mb,
            disk_format=image.disk_format,
            size_bytes=image.size_bytes,
            size_label=bytes_to_console_gb(image.size_bytes)
            if image.size_bytes is not None
            else None,
            virtual_size_bytes=image.virtual_size_bytes,
            checksum_sha256=image.checksum_sha256,
            publish_status=image.publish_status,
            publish_status_label=PUBLISH_LABELS[image.publish_status],
            source=source,
            progress=image.progress,
            failure=failure,
            shared=image.shared,
            created_at=image.created_at,
            keeps_source_password=image.keeps_source_password,
        )

    @classmethod
    def of_detail(cls, detail: Detail, language: Language) -> ImageView:
        """C3's detail: share tenants, FAQ 4.7's notice, the preflight where it is shown."""
        image = detail.image
        notice = messages.KEEPS_SOURCE_PASSWORD if image.keeps_source_password else None
        tenants = detail.share_tenants
        update = {
            "share_tenants": ShareTenantsView.of(tenants) if tenants else None,
            "password_notice": notice.render(language) if notice else None,
            "preflight": PreflightView.of(image.preflight)
            if detail.shows_preflight and image.preflight
            else None,
        }
        return cls.of(image).model_copy(update=update)


class QuotaView(BaseModel):
    """C6: how many private images the account may hold, holds, and may still create."""

    limit: int
    used: int
    remaining: int
    text: str  # the console's line, e.g. "您还可以创建3个私有镜像。"

    @classmethod
    def of(cls, quota: Quota, language: Language) -> QuotaView:
        return cls(
            limit=quota.limit,
            used=quota.used,
            remaining=quota.remaining,
            text=messages.quota_left(quota.remaining).render(language),
        )


class ImagePage(BaseModel):
    items: list[ImageView]
    next_cursor: str | None
    quota: QuotaView | None = None  # on the private tab

    @classmethod
    def of(cls, page: Page, language: Language) -> ImagePage:
        quota = QuotaView.of(page.quota, language) if page.quota else None
        items = [ImageView.of(i) for i in page.images]
        return cls(items=items, next_cursor=page.next_cursor, quota=quota)


# What the catalog applies: a read waits only for a write's facts of these types.
CONSUMED = consumed_by("catalog")


def json_response(
    view: BaseModel, status_code: int = 200, *, read_after: str | None = None
) -> Response:
    """A view serialised once, by pydantic: FastAPI would validate it again and serialise
    it through its own path, which the lists pay for on every request. ``read_after``: the
    outcome of the wait for a write's facts (``applied`` or ``timeout``), when one was asked."""
    headers = {HEADER: read_after} if read_after else None
    return Response(
        view.model_dump_json(), status_code, headers=headers, media_type="application/json"
    )


class CreatedView(BaseModel):
    image_id: UUID
    status: ImageStatus
    status_label: str
    quota: QuotaView


class DeleteResult(BaseModel):
    image_id: UUID
    outcome: Literal["deleted", "refused"]
    code: str | None = None
    detail: str | None = None


class BatchDeleteView(BaseModel):
    results: list[DeleteResult]


class AccountQuotaView(BaseModel):
    account_id: UUID
    private_images: QuotaView


class UsageView(BaseModel):
    """C9: what the account stores (files of its normal private images), as billed."""

    account_id: UUID
    stored_bytes: int
    stored_images: int
    stored_label: str  # GB with three decimals, as the console shows sizes
    updated_at: datetime | None

    @classmethod
    def of(cls, account: AccountRecord) -> UsageView:
        return cls(
            account_id=account.account_id,
            stored_bytes=account.stored_bytes,
            stored_images=account.stored_images,
            stored_label=bytes_to_console_gb(account.stored_bytes),
            updated_at=account.updated_at,
        )
