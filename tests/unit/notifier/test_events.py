"""The notifier's event handlers on fakes: how a capture ended, in its owner's inbox and
announced once (N4); the pending offers of each recipient's prompt (N1-N3), kept on each
membership's version line whatever order its facts come in; and the prompt versions the
publisher (:func:`services.notifier.jobs.publish_due`) makes of them. Facts stated in
another account's name are refused. Each test is one unit of work on a FakeStore."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from schemas.envelope import Envelope
from schemas.events import (
    MEMBERSHIP,
    NAME_MAX,
    NOTICES,
    PROMPT_IMAGES_MAX,
    OwnerNotified,
    PromptImage,
    ShareAccepted,
    ShareOffered,
    SharePromptUpdated,
    ShareRejected,
    ShareRevoked,
)
from services.common.failures import Rejected
from services.notifier import handlers, jobs
from services.notifier.domain import prompts
from services.notifier.domain.wording import InboxNotice, NoticeText
from services.notifier.handlers import (
    HANDLERS,
    on_capture_failed,
    on_capture_refused,
    on_image_ready,
    on_share_accepted,
    on_share_offered,
    on_share_rejected,
    on_share_revoked,
)
from tests.fakes import FakeClock, FakeUnitOfWork, envelope_of
from tests.unit.notifier.fakes import (
    AT,
    FakeStore,
    capture_failed,
    capture_refused,
    image_ready,
    share_accepted,
    share_offered,
    share_rejected,
    share_revoked,
)

OWNER, BOB, CAROL = uuid4(), uuid4(), uuid4()
Uow = FakeUnitOfWork[FakeStore]


def notifier() -> Uow:
    """A unit of work whose store keeps the same time (the real store's is the
    transaction's)."""
    clock = FakeClock()
    return FakeUnitOfWork(FakeStore(clock), clock=clock)


async def inbox(uow: Uow, account: UUID) -> list[InboxNotice]:
    return await uow.store.list_notices(account, 1000)


async def pending_names(uow: Uow, account: UUID) -> list[str]:
    pending = (await uow.store.pending([account], PROMPT_IMAGES_MAX))[account]
    return [offer.name for offer in pending.images]


async def publish(uow: Uow) -> list[Envelope[SharePromptUpdated]]:
    """The prompt versions due now, as the publisher queues them."""
    before = len(uow.pending)
    await jobs.publish_due(uow)
    return [
        Envelope[SharePromptUpdated].model_validate(e.model_dump())
        for e in uow.pending[before:]
        if isinstance(e.data, SharePromptUpdated)
    ]


# Each membership fact stated by the account that made the change, keyed by the membership.


async def offer(uow: Uow, fact: ShareOffered, sequence: int = 1) -> Envelope[ShareOffered]:
    event = envelope_of(
        fact, tenant=fact.owner_account_id, subject=fact.membership_id, sequence=sequence
    )
    await on_share_offered(uow, event)
    return event


async def accept(uow: Uow, fact: ShareAccepted, sequence: int = 2) -> None:
    event = envelope_of(
        fact, tenant=fact.member_account_id, subject=fact.membership_id, sequence=sequence
    )
    await on_share_accepted(uow, event)


async def reject(uow: Uow, fact: ShareRejected, sequence: int = 2) -> None:
    event = envelope_of(
        fact, tenant=fact.member_account_id, subject=fact.membership_id, sequence=sequence
    )
    await on_share_rejected(uow, event)


async def revoke(uow: Uow, fact: ShareRevoked, sequence: int = 2) -> None:
    event = envelope_of(
        fact, tenant=fact.owner_account_id, subject=fact.membership_id, sequence=sequence
    )
    await on_share_revoked(uow, event)


Ending = Callable[[Uow, ShareOffered, int], Awaitable[None]]


async def accepted(uow: Uow, fact: ShareOffered, sequence: int) -> None:
    await accept(uow, share_accepted(fact), sequence)


async def rejected(uow: Uow, fact: ShareOffered, sequence: int) -> None:
    await reject(uow, share_rejected(fact), sequence)


async def revoked(uow: Uow, fact: ShareOffered, sequence: int) -> None:
    await revoke(uow, share_revoked(fact), sequence)


ENDINGS: dict[str, Ending] = {"accepted": accepted, "rejected": rejected, "revoked": revoked}


def test_every_consumed_event_has_a_handler() -> None:
    assert {event.NAME for event in HANDLERS} == {
        "ImageReady",
        "CaptureFailed",
        "CaptureRefused",
        "ShareOffered",
        "ShareAccepted",
        "ShareRejected",
        "ShareRevoked",
    }


# --- how a capture ended (N4) ------------------------------------------------------------


async def test_a_ready_image_is_filed_in_its_owners_inbox_and_announced() -> None:
    uow, image_id = notifier(), uuid4()
    event = envelope_of(image_ready(image_id, OWNER, name="web-01"), tenant=OWNER, subject=image_id)
    await on_image_ready(uow, event)
    [notice] = await inbox(uow, OWNER)
    text = NoticeText(
        "capture_succeeded",
        "私有镜像“web-01”创建成功，状态为“正常”。",
        'Private image "web-01" was created and is ready to use.',
    )
    assert (notice.image_id, notice.text, notice.read, notice.body) == (image_id, text, False, None)
    assert notice.created_at == event.time
    [announced] = uow.emitted
    assert announced == OwnerNotified(
        notice_id=notice.notice_id,
        account_id=OWNER,
        image_id=image_id,
        kind="capture_succeeded",
        text_zh=text.zh,
        text_en=text.en,
    )
    assert (uow.pending[0].subject, uow.pending[0].tenant) == (str(OWNER), str(OWNER))
    uow.commit()
    assert uow.outbox.versions == {(NOTICES, str(OWNER)): 1}  # the account's notices' line


async def test_a_failed_capture_tells_its_owner_why() -> None:
    uow, image_id = notifier(), uuid4()
    failed = capture_failed(image_id, OWNER, name="db")
    await on_capture_failed(uow, envelope_of(failed, tenant=OWNER, subject=image_id))
    [notice] = await inbox(uow, OWNER)
    assert notice.text == NoticeText(
        "capture_failed",
        "私有镜像“db”创建失败：云主机正在运行，请先关机。",
        'Private image "db" could not be created (host_running).',
    )
    [announced] = uow.emitted
    assert isinstance(announced, OwnerNotified)
    assert (announced.notice_id, announced.kind) == (notice.notice_id, "capture_failed")


async def test_a_refused_capture_is_a_failure_to_its_owner() -> None:
    uow, image_id = notifier(), uuid4()
    refused = capture_refused(image_id, OWNER, reason_en="Over the private image quota (10).")
    await on_capture_refused(uow, envelope_of(refused, tenant=OWNER, subject=image_id))
    [notice] = await inbox(uow, OWNER)
    assert notice.text == NoticeText(
        "capture_failed",
        "私有镜像“web”创建失败：私有镜像数量已达配额上限（10个）。",
        'Private image "web" could not be created: Over the private image quota (10).',
    )
    assert [type(e) for e in uow.emitted] == [OwnerNotified]


async def test_a_redelivered_fact_files_one_notice_and_announces_it_once() -> None:
    uow, image_id = notifier(), uuid4()
    for _ in range(2):
        ready = envelope_of(image_ready(image_id, OWNER), tenant=OWNER, subject=image_id)
        await on_image_ready(uow, ready)
    refused = capture_refused(image_id, OWNER)
    await on_capture_refused(uow, envelope_of(refused, tenant=OWNER, subject=image_id))
    failed = capture_failed(image_id, OWNER)
    await on_capture_failed(uow, envelope_of(failed, tenant=OWNER, subject=image_id))
    # One notice per image and kind: the refusal and the failure are one failure to the owner.
    assert sorted(n.text.kind for n in await inbox(uow, OWNER)) == [
        "capture_failed",
        "capture_succeeded",
    ]
    assert [e.kind for e in uow.emitted if isinstance(e, OwnerNotified)] == [
        "capture_succeeded",
        "capture_failed",
    ]


CaptureFact = Callable[[Uow, UUID, UUID], Awaitable[None]]


async def ready_in_name_of(uow: Uow, image_id: UUID, tenant: UUID) -> None:
    await on_image_ready(
        uow, envelope_of(image_ready(image_id, OWNER), tenant=tenant, subject=image_id)
    )


async def failed_in_name_of(uow: Uow, image_id: UUID, tenant: UUID) -> None:
    await on_capture_failed(
        uow, envelope_of(capture_failed(image_id, OWNER), tenant=tenant, subject=image_id)
    )


async def refused_in_name_of(uow: Uow, image_id: UUID, tenant: UUID) -> None:
    await on_capture_refused(
        uow, envelope_of(capture_refused(image_id, OWNER), tenant=tenant, subject=image_id)
    )


@pytest.mark.parametrize("deliver", [ready_in_name_of, failed_in_name_of, refused_in_name_of])
async def test_a_capture_fact_in_another_accounts_name_is_refused(deliver: CaptureFact) -> None:
    uow, image_id = notifier(), uuid4()
    with pytest.raises(Rejected, match="may not state"):
        await deliver(uow, image_id, BOB)
    assert (await inbox(uow, OWNER), await inbox(uow, BOB), uow.emitted) == ([], [], [])


# --- the prompt's pending offers (N1-N3) -------------------------------------------------


async def test_an_offer_is_pending_for_its_member_and_the_handler_publishes_nothing() -> None:
    uow, image_id = notifier(), uuid4()
    fact = share_offered(image_id, OWNER, BOB, name="web", owner_name="alice")
    await offer(uow, fact)
    [pending] = (await uow.store.pending([BOB], PROMPT_IMAGES_MAX))[BOB].images
    assert pending == prompts.Offer(
        fact.membership_id, image_id, "web", OWNER, "alice", fact.offered_at
    )
    assert await pending_names(uow, OWNER) == []
    assert uow.emitted == []  # a prompt version is the publisher's (jobs), not the handler's


@pytest.mark.parametrize("ending", ENDINGS)
async def test_an_answered_or_revoked_offer_leaves_the_prompt(ending: str) -> None:
    uow, image_id = notifier(), uuid4()
    web = share_offered(image_id, OWNER, BOB, name="web")
    await offer(uow, web)
    await offer(uow, share_offered(uuid4(), OWNER, BOB, name="db"))
    await ENDINGS[ending](uow, web, 2)
    assert await pending_names(uow, BOB) == ["db"]


@pytest.mark.parametrize("ending", ENDINGS)
async def test_an_ending_that_overtook_its_offer_keeps_the_offer_out_for_good(ending: str) -> None:
    uow, image_id = notifier(), uuid4()
    fact = share_offered(image_id, OWNER, BOB)
    await ENDINGS[ending](uow, fact, 2)
    await offer(uow, fact, sequence=1)
    await offer(uow, fact, sequence=1)  # redelivered: still older than the ending
    assert await pending_names(uow, BOB) == []
    assert await publish(uow) == []  # nothing was ever pending: no prompt at all
    uow.commit()
    assert uow.outbox.versions == {(MEMBERSHIP, str(fact.membership_id)): 2}


async def test_an_offer_made_again_after_its_revocation_is_pending_again() -> None:
    uow, image_id = notifier(), uuid4()
    fact = share_offered(image_id, OWNER, BOB, name="web")
    await offer(uow, fact, sequence=1)
    await revoke(uow, share_revoked(fact), sequence=2)
    await offer(uow, share_offered(image_id, OWNER, BOB, name="web-v2"), sequence=3)
    assert await pending_names(uow, BOB) == ["web-v2"]
    await revoke(uow, share_revoked(fact), sequence=2)  # the old revocation, redelivered
    assert await pending_names(uow, BOB) == ["web-v2"]


async def test_membership_facts_are_stated_by_the_account_that_made_the_change() -> None:
    uow, image_id = notifier(), uuid4()
    fact = share_offered(image_id, OWNER, BOB)
    by_member = envelope_of(fact, tenant=BOB, subject=fact.membership_id)
    with pytest.raises(Rejected, match="may not state"):
        await on_share_offered(uow, by_member)
    assert await pending_names(uow, BOB) == []
    await offer(uow, fact)
    answer = share_accepted(fact)
    with pytest.raises(Rejected, match="may not state"):
        await on_share_accepted(
            uow, envelope_of(answer, tenant=OWNER, subject=fact.membership_id, sequence=2)
        )
    revocation = share_revoked(fact)
    with pytest.raises(Rejected, match="may not state"):
        await on_share_revoked(
            uow, envelope_of(revocation, tenant=BOB, subject=fact.membership_id, sequence=2)
        )
    assert await pending_names(uow, BOB) == ["web"]


async def test_a_membership_fact_not_keyed_by_its_membership_is_refused() -> None:
    uow, image_id = notifier(), uuid4()
    fact = share_offered(image_id, OWNER, BOB)
    with pytest.raises(Rejected, match="not keyed by its membership"):
        await on_share_offered(uow, envelope_of(fact, tenant=OWNER, subject=image_id))
    forged = fact.model_copy(update={"membership_id": uuid4()})
    with pytest.raises(Rejected, match="not keyed by its membership"):
        await on_share_offered(uow, envelope_of(forged, tenant=OWNER, subject=forged.membership_id))
    to_self = share_offered(image_id, OWNER, OWNER)
    with pytest.raises(Rejected, match="cannot be a member of its own image"):
        await offer(uow, to_self)
    assert (await pending_names(uow, BOB), await pending_names(uow, OWNER)) == ([], [])


# --- the prompt's versions, as the publisher makes them of these facts -------------------


async def test_the_first_offer_is_published_at_once_and_put_in_the_inbox() -> None:
    uow, image_id = notifier(), uuid4()
    fact = share_offered(image_id, OWNER, BOB, name="web", owner_name="alice")
    correlation = uuid4()
    event = envelope_of(fact, tenant=OWNER, subject=fact.membership_id)
    event = event.model_copy(update={"correlationid": correlation})
    await on_share_offered(uow, event)
    [published] = await publish(uow)
    prompt = published.data
    assert (prompt.prompt_id, prompt.account_id, prompt.status, prompt.pending_count) == (
        prompts.prompt_id(BOB),
        BOB,
        "open",
        1,
    )
    assert prompt.images == [
        PromptImage(
            membership_id=fact.membership_id,
            image_id=image_id,
            name="web",
            owner_account_id=OWNER,
            owner_account_name="alice",
            offered_at=fact.offered_at,
        )
    ]
    assert (prompt.title_zh, prompt.text_zh) == (
        "是否接受镜像",
        "alice向您共享了1个镜像：“web”，是否接受镜像？",
    )
    assert [a.action for a in prompt.actions] == ["accept_all", "reject_all", "details"]
    assert prompt.updated_at == uow.now()
    # On the recipient's notices' line, in its name, traced to the offer.
    assert (published.subject, published.tenant, published.sequence) == (str(BOB), str(BOB), 1)
    assert (published.correlationid, published.causationid) == (correlation, event.id)
    [notice] = await inbox(uow, BOB)
    assert (notice.notice_id, notice.image_id, notice.read) == (prompt.prompt_id, None, False)
    assert notice.text == NoticeText("share_prompt", prompt.text_zh, prompt.text_en)
    assert notice.body is not None
    assert notice.body["pending_count"] == 1
    assert [i["name"] for i in notice.body["images"]] == ["web"]
    assert await publish(uow) == []  # nothing changed since


async def test_an_offer_without_a_correlation_is_traced_to_itself() -> None:
    uow = notifier()
    event = await offer(uow, share_offered(uuid4(), OWNER, BOB))
    [published] = await publish(uow)
    assert (published.correlationid, published.causationid) == (event.id, event.id)


async def test_a_burst_of_offers_goes_out_as_one_version_after_the_interval() -> None:
    uow = notifier()
    await offer(uow, share_offered(uuid4(), OWNER, BOB, name="first"))
    [first] = await publish(uow)
    uow.clock.advance(0.1)
    for i in range(5):
        await offer(uow, share_offered(uuid4(), OWNER, BOB, name=f"burst-{i}"))
    assert await publish(uow) == []  # within PROMPT_MIN_INTERVAL of the first version
    uow.clock.advance(0.5)
    assert await publish(uow) == []
    uow.clock.advance(0.4)
    [second] = await publish(uow)
    assert (first.sequence, second.sequence) == (1, 2)
    assert (first.data.pending_count, second.data.pending_count) == (1, 6)
    assert second.data.prompt_id == first.data.prompt_id
    assert len(await inbox(uow, BOB)) == 1  # one prompt notice, of the newest version


async def test_each_recipient_has_a_prompt_of_its_own_offers() -> None:
    uow = notifier()
    await offer(uow, share_offered(uuid4(), OWNER, BOB, name="for-bob"))
    await offer(uow, share_offered(uuid4(), OWNER, CAROL, name="for-carol"))
    published = {p.data.account_id: p.data for p in await publish(uow)}
    assert {a: [i.name for i in p.images] for a, p in published.items()} == {
        BOB: ["for-bob"],
        CAROL: ["for-carol"],
    }
    assert published[BOB].prompt_id != published[CAROL].prompt_id


async def test_when_every_offer_is_answered_the_prompt_resolves_and_leaves_the_inbox() -> None:
    uow = notifier()
    web, db = share_offered(uuid4(), OWNER, BOB), share_offered(uuid4(), OWNER, BOB)
    await offer(uow, web)
    await offer(uow, db)
    await publish(uow)
    await accept(uow, share_accepted(web))
    await reject(uow, share_rejected(db))
    uow.clock.advance(1)
    [resolved] = await publish(uow)
    assert (resolved.data.status, resolved.data.pending_count, resolved.data.actions) == (
        "resolved",
        0,
        [],
    )
    assert resolved.sequence == 2
    assert await inbox(uow, BOB) == []


async def test_offers_that_came_and_went_before_a_version_publish_nothing() -> None:
    uow = notifier()
    fact = share_offered(uuid4(), OWNER, BOB)
    await offer(uow, fact)
    await revoke(uow, share_revoked(fact))
    assert await publish(uow) == []
    assert await inbox(uow, BOB) == []


async def test_a_read_prompt_is_unread_again_only_when_offers_arrive() -> None:
    uow = notifier()
    web = share_offered(uuid4(), OWNER, BOB, name="web")
    await offer(uow, web)
    await offer(uow, share_offered(uuid4(), OWNER, BOB, name="db"))
    await publish(uow)
    await handlers.mark_read(uow, BOB, prompts.prompt_id(BOB))
    uow.clock.advance(1)
    await revoke(uow, share_revoked(web))
    [smaller] = await publish(uow)
    [notice] = await inbox(uow, BOB)
    assert (smaller.data.pending_count, notice.read) == (1, True)  # nothing new to read
    assert notice.text.en == smaller.data.text_en
    uow.clock.advance(1)
    await offer(uow, share_offered(uuid4(), OWNER, BOB, name="cache"))
    await publish(uow)
    [notice] = await inbox(uow, BOB)
    assert notice.read is False
    assert notice.created_at == AT  # the same notice, updated
    assert notice.updated_at == AT + timedelta(seconds=2)


async def test_a_prompt_lists_the_newest_offers_up_to_its_bound_and_still_fits_kafka() -> None:
    uow, total = notifier(), PROMPT_IMAGES_MAX * 4
    for i in range(total):  # the longest names there are, in three UTF-8 bytes a character
        fact = share_offered(
            uuid4(), OWNER, BOB, name=f"{i:05}" + "镜" * (NAME_MAX - 5),
            owner_name="账" * 64, at=AT + timedelta(seconds=i),
        )  # fmt: skip
        await offer(uow, fact)
    [published] = await publish(uow)  # the fake, as the real outbox, refuses > 900 KiB
    prompt = published.data
    assert (prompt.pending_count, len(prompt.images)) == (total, PROMPT_IMAGES_MAX)
    listed = [int(i.name[:5]) for i in prompt.images]
    assert listed == list(range(total - 1, total - 1 - PROMPT_IMAGES_MAX, -1))  # newest first
    [notice] = await inbox(uow, BOB)
    assert notice.body is not None
    assert (notice.body["pending_count"], len(notice.body["images"])) == (total, PROMPT_IMAGES_MAX)
