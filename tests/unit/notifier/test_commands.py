"""The notifier API's commands and reads on fakes: the account's inbox (unread first, newest
first, its own notices only), marking a notice read (a missing notice and another
account's are refused alike, ``not_found``) and the current prompt 是否接受镜像."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from schemas.events import PROMPT_IMAGES_MAX, OwnerNotified
from services.common.refusals import Refusal
from services.notifier import handlers
from services.notifier.domain import prompts, wording
from services.notifier.handlers import on_capture_failed, on_image_ready, on_share_offered
from tests.fakes import FakeClock, FakeUnitOfWork, envelope_of
from tests.unit.notifier.fakes import AT, FakeStore, capture_failed, image_ready, share_offered

OWNER, BOB = uuid4(), uuid4()
Uow = FakeUnitOfWork[FakeStore]


def notifier() -> Uow:
    clock = FakeClock()
    return FakeUnitOfWork(FakeStore(clock), clock=clock)


async def ready_at(uow: Uow, minutes: int, owner: UUID = OWNER, name: str = "web") -> UUID:
    """A capture notice filed ``minutes`` after AT; its id."""
    image_id = uuid4()
    event = envelope_of(image_ready(image_id, owner, name=name), tenant=owner, subject=image_id)
    await on_image_ready(uow, event.model_copy(update={"time": AT + timedelta(minutes=minutes)}))
    [notice_id] = [e.notice_id for e in uow.emitted[-1:] if isinstance(e, OwnerNotified)]
    return notice_id


async def offered(uow: Uow, member: UUID, name: str, seconds: int = 0) -> None:
    fact = share_offered(uuid4(), OWNER, member, name=name, at=AT + timedelta(seconds=seconds))
    await on_share_offered(uow, envelope_of(fact, tenant=OWNER, subject=fact.membership_id))


# --- the inbox ---------------------------------------------------------------------------


async def test_the_inbox_lists_unread_notices_first_newest_first() -> None:
    uow = notifier()
    old, read, new = await ready_at(uow, 1), await ready_at(uow, 2), await ready_at(uow, 3)
    image_id = uuid4()
    failed = envelope_of(capture_failed(image_id, OWNER), tenant=OWNER, subject=image_id)
    await on_capture_failed(uow, failed.model_copy(update={"time": AT}))
    await handlers.mark_read(uow, OWNER, read)
    notices = await handlers.list_notices(uow.store, OWNER, 10)
    assert [n.notice_id for n in notices[:2]] == [new, old]
    assert [(n.text.kind, n.read) for n in notices[2:]] == [
        ("capture_failed", False),
        ("capture_succeeded", True),
    ]
    assert [n.notice_id for n in await handlers.list_notices(uow.store, OWNER, 2)] == [new, old]


async def test_the_inbox_holds_the_accounts_own_notices_only() -> None:
    uow = notifier()
    mine = await ready_at(uow, 1, OWNER, "mine")
    theirs = await ready_at(uow, 2, BOB, "theirs")
    assert [n.notice_id for n in await handlers.list_notices(uow.store, OWNER, 10)] == [mine]
    assert [n.notice_id for n in await handlers.list_notices(uow.store, BOB, 10)] == [theirs]
    assert await handlers.list_notices(uow.store, uuid4(), 10) == []


# --- marking a notice read ---------------------------------------------------------------


async def test_a_notice_marked_read_stays_read_and_marking_it_again_is_harmless() -> None:
    uow = notifier()
    notice_id = await ready_at(uow, 1)
    await handlers.mark_read(uow, OWNER, notice_id)
    await handlers.mark_read(uow, OWNER, notice_id)
    [notice] = await handlers.list_notices(uow.store, OWNER, 10)
    assert (notice.notice_id, notice.read) == (notice_id, True)
    assert uow.emitted[1:] == []  # reading announces nothing


async def test_a_missing_notice_is_refused_as_not_found() -> None:
    uow, missing = notifier(), uuid4()
    with pytest.raises(Refusal) as refused:
        await handlers.mark_read(uow, OWNER, missing)
    assert refused.value.code == "not_found"
    assert refused.value == wording.notice_not_found(missing)


async def test_another_accounts_notice_is_refused_as_a_missing_one_and_stays_unread() -> None:
    uow = notifier()
    theirs = await ready_at(uow, 1, BOB)
    with pytest.raises(Refusal) as refused:
        await handlers.mark_read(uow, OWNER, theirs)
    assert refused.value == wording.notice_not_found(theirs)  # not "forbidden": it says nothing
    [notice] = await handlers.list_notices(uow.store, BOB, 10)
    assert notice.read is False


# --- the current prompt ------------------------------------------------------------------


async def test_no_prompt_while_nothing_is_pending() -> None:
    uow = notifier()
    assert await handlers.current_prompt(uow.store, BOB, AT) is None
    fact = share_offered(uuid4(), OWNER, BOB)
    await on_share_offered(uow, envelope_of(fact, tenant=OWNER, subject=fact.membership_id))
    assert await handlers.current_prompt(uow.store, OWNER, AT) is None  # the owner's is empty


async def test_the_current_prompt_lists_what_is_pending_now_before_any_version_is_out() -> None:
    uow = notifier()
    await offered(uow, BOB, "web", seconds=1)
    await offered(uow, BOB, "db", seconds=2)
    at = AT + timedelta(minutes=5)
    prompt = await handlers.current_prompt(uow.store, BOB, at)
    assert prompt is not None
    assert (prompt.prompt_id, prompt.account_id, prompt.status, prompt.updated_at) == (
        prompts.prompt_id(BOB),
        BOB,
        "open",
        at,
    )
    assert (prompt.pending_count, [i.name for i in prompt.images]) == (2, ["db", "web"])
    assert prompt.text_en == 'alice shared 2 images with you: "db", "web". Accept them?'
    assert [a.action for a in prompt.actions] == ["accept_all", "reject_all", "details"]
    assert uow.emitted == []  # a read


async def test_the_current_prompt_lists_the_newest_up_to_its_bound_and_counts_them_all() -> None:
    uow, total = notifier(), PROMPT_IMAGES_MAX + 20
    for i in range(total):
        await offered(uow, BOB, f"img-{i}", seconds=i)
    prompt = await handlers.current_prompt(uow.store, BOB, AT)
    assert prompt is not None
    assert (prompt.pending_count, len(prompt.images)) == (total, PROMPT_IMAGES_MAX)
    assert (prompt.images[0].name, prompt.images[-1].name) == (f"img-{total - 1}", "img-20")
