"""The notifier's store in memory: the same promises as
:class:`services.notifier.store.NotifierStore`, on dicts, on a fake clock (share it with
the unit of work's: the real store's time is the transaction's); and builders of the facts
the notifier consumes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from uuid import UUID, uuid4

from schemas.events import (
    CaptureFailed,
    CaptureRefused,
    ImageReady,
    ImageSource,
    OperatingSystem,
    ShareAccepted,
    ShareOffered,
    ShareRejected,
    ShareRevoked,
    membership_id,
)
from services.notifier.domain.prompts import (
    KIND,
    Cause,
    Offer,
    Pending,
    PromptChange,
    PromptNotice,
    due_at,
)
from services.notifier.domain.wording import CaptureNotice, InboxNotice
from tests.fakes import FakeClock


@dataclass
class PromptRow:
    changed: bool
    grew: bool
    due_at: datetime
    published_at: datetime | None
    correlation_id: UUID | None
    causation_id: UUID | None


@dataclass
class FakeStore:
    clock: FakeClock = field(default_factory=FakeClock)
    notices: dict[UUID, tuple[UUID, InboxNotice]] = field(default_factory=dict)  # by id
    offers: dict[UUID, tuple[UUID, Offer]] = field(default_factory=dict)  # by membership
    prompts: dict[UUID, PromptRow] = field(default_factory=dict)  # by account
    announced: list[list[UUID]] = field(default_factory=list)  # announce_prompts calls

    # --- the inbox ---

    async def insert_notice(self, notice: CaptureNotice) -> bool:
        if any(
            n.image_id == notice.image_id and n.text.kind == notice.text.kind
            for _, n in self.notices.values()
        ):
            return False
        filed = InboxNotice(notice.notice_id, notice.image_id, notice.text, notice.at,
                            notice.at, read=False, body=None)  # fmt: skip
        self.notices[notice.notice_id] = (notice.account_id, filed)
        return True

    async def list_notices(self, account_id: UUID, limit: int) -> list[InboxNotice]:
        mine = [n for account, n in self.notices.values() if account == account_id]
        newest_first = sorted(mine, key=lambda n: n.updated_at, reverse=True)
        return sorted(newest_first, key=lambda n: n.read)[:limit]

    async def mark_read(self, account_id: UUID, notice_id: UUID) -> bool:
        account, notice = self.notices.get(notice_id, (None, None))
        if account != account_id or notice is None:
            return False
        self.notices[notice_id] = (account, replace(notice, read=True))
        return True

    # --- the prompts' pending offers ---

    async def add_offer(self, account_id: UUID, offer: Offer, cause: Cause) -> None:
        self.offers[offer.membership_id] = (account_id, offer)
        self._mark(account_id, cause, grew=True)

    async def remove_offer(self, membership_id: UUID, cause: Cause) -> None:
        removed = self.offers.pop(membership_id, None)
        if removed is not None:
            self._mark(removed[0], cause, grew=False)

    def _mark(self, account_id: UUID, cause: Cause, *, grew: bool) -> None:
        now, row = self.clock(), self.prompts.get(account_id)
        if row is None:
            self.prompts[account_id] = PromptRow(
                True, grew, now, None, cause.correlation_id, cause.causation_id
            )
            return
        row.due_at = due_at(now, row.due_at if row.changed else None, row.published_at, cause)
        row.changed, row.grew = True, row.grew or grew
        row.correlation_id, row.causation_id = cause.correlation_id, cause.causation_id

    async def pending(self, account_ids: Sequence[UUID], limit: int) -> dict[UUID, Pending]:
        found = {}
        for account_id in account_ids:
            mine = [offer for account, offer in self.offers.values() if account == account_id]
            mine.sort(key=lambda o: (o.offered_at, o.membership_id), reverse=True)
            found[account_id] = Pending(mine[:limit], len(mine))
        return found

    # --- prompts to publish ---

    async def take_due_prompts(self, limit: int) -> list[PromptChange]:
        now = self.clock()
        due = [
            (row.due_at, a) for a, row in self.prompts.items() if row.changed and row.due_at <= now
        ]
        taken = []
        for _, account_id in sorted(due)[:limit]:
            row = self.prompts[account_id]
            taken.append(PromptChange(account_id, row.grew, row.correlation_id, row.causation_id))
            row.changed, row.grew, row.published_at = False, False, now
        return taken

    async def next_due(self) -> datetime | None:
        return min((row.due_at for row in self.prompts.values() if row.changed), default=None)

    async def has_prompt_notice(self, account_ids: Sequence[UUID]) -> set[UUID]:
        return {a for a, n in self.notices.values() if n.text.kind == KIND and a in account_ids}

    async def save_prompt_notices(self, notices: Sequence[PromptNotice], at: datetime) -> None:
        for notice in notices:
            _, old = self.notices.get(notice.notice_id, (None, None))
            read = old is not None and old.read and not notice.unread
            created = at if old is None else old.created_at
            saved = InboxNotice(notice.notice_id, None, notice.text, created, at, read, notice.body)
            self.notices[notice.notice_id] = (notice.account_id, saved)

    async def delete_prompt_notices(self, account_ids: Sequence[UUID]) -> None:
        for notice_id, (account, notice) in list(self.notices.items()):
            if account in account_ids and notice.text.kind == KIND:
                del self.notices[notice_id]

    async def announce_prompts(self, account_ids: Sequence[UUID]) -> None:
        self.announced.append(list(account_ids))


# --- the facts the notifier consumes ---

AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def image_ready(image_id: UUID, owner: UUID, name: str = "web") -> ImageReady:
    return ImageReady(
        image_id=image_id,
        account_id=owner,
        name=name,
        source=ImageSource(host_id=uuid4(), host_name="ecs-src"),
        os=OperatingSystem(family="linux", distro="Ubuntu", version="22.04"),
        system_disk_gb=40,
        min_memory_mb=1024,
        disk_format="raw",
        size_bytes=4096,
        virtual_size_bytes=40 * 1024**3,
        checksum_sha256="0" * 64,
        location=f"/images/{image_id}.raw",
        finished_at=AT,
    )


def capture_failed(image_id: UUID, owner: UUID, name: str = "web") -> CaptureFailed:
    return CaptureFailed(
        image_id=image_id,
        account_id=owner,
        host_id=uuid4(),
        name=name,
        code="host_running",
        reason="云主机正在运行，请先关机。",
        failed_at=AT,
    )


def capture_refused(
    image_id: UUID, owner: UUID, name: str = "web", reason_en: str = ""
) -> CaptureRefused:
    return CaptureRefused(
        image_id=image_id,
        account_id=owner,
        host_id=uuid4(),
        name=name,
        code="quota_exceeded",
        reason="私有镜像数量已达配额上限（10个）。",
        reason_en=reason_en,
        quota_limit=10,
        quota_used=10,
        refused_at=AT,
    )


def share_offered(
    image_id: UUID,
    owner: UUID,
    member: UUID,
    *,
    name: str = "web",
    owner_name: str = "alice",
    at: datetime = AT,
) -> ShareOffered:
    return ShareOffered(
        membership_id=membership_id(image_id, member),
        image_id=image_id,
        image_name=name,
        owner_account_id=owner,
        owner_account_name=owner_name,
        member_account_id=member,
        member_account_name="bob",
        offered_at=at,
    )


def share_accepted(offer: ShareOffered) -> ShareAccepted:
    return ShareAccepted(**offer.model_dump(exclude={"offered_at"}), accepted_at=AT)


def share_rejected(offer: ShareOffered) -> ShareRejected:
    return ShareRejected(
        **offer.model_dump(exclude={"offered_at"}), previous_status="pending", rejected_at=AT
    )


def share_revoked(offer: ShareOffered) -> ShareRevoked:
    return ShareRevoked(
        **offer.model_dump(exclude={"offered_at"}),
        cause="sharing_cancelled",
        previous_status="pending",
        revoked_at=AT,
    )
