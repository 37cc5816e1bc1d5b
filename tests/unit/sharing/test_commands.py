"""Sharing's command handlers with fakes: offers per pair under the member limit, whole
requests refused by the image, answers that move memberships, the owner's removals, and
the reads; each change announced on the membership's own version line."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from schemas.events import MEMBERSHIP, ShareAccepted, ShareOffered, ShareRejected, ShareRevoked
from services.common.refusals import Refusal
from services.sharing import domain
from services.sharing.domain import (
    MEMBER_LIMIT,
    Account,
    Actor,
    Answer,
    AnswerOutcome,
    Image,
    ImageStatus,
    Membership,
    MemberStatus,
    Recipient,
    ShareOutcome,
)
from services.sharing.handlers import answers, endings, offers, queries
from tests.fakes import FakeUnitOfWork
from tests.unit.sharing.fakes import AT, FakeStore

OWNER, BOB, CAROL = uuid4(), uuid4(), uuid4()
ALICE = Actor(OWNER, "token-alice")


def sharing_store() -> tuple[FakeStore, UUID]:
    store = FakeStore()
    for account_id, name in ((OWNER, "alice"), (BOB, "bob"), (CAROL, "carol")):
        store.accounts[account_id] = Account(account_id, name, "standard", (), True)
        store.account_times[account_id] = AT
    image_id = uuid4()
    store.images[image_id] = Image(image_id, OWNER, "web", ImageStatus.NORMAL, False)
    return store, image_id


async def offer(store: FakeStore, image_id: UUID, *names: str) -> FakeUnitOfWork[FakeStore]:
    uow = FakeUnitOfWork(store)
    await offers.share(uow, ALICE, [image_id], [Recipient(n) for n in names], region=None)
    return uow


async def test_an_offer_is_kept_and_announced_on_the_membership_line() -> None:
    store, image_id = sharing_store()
    uow = FakeUnitOfWork(store)
    results = await offers.share(uow, ALICE, [image_id], [Recipient("bob")], region=None)
    assert [(r.outcome, r.account_id, r.status) for r in results] == [
        (ShareOutcome.OFFERED, BOB, MemberStatus.PENDING)
    ]
    [membership] = store.memberships.values()
    assert (membership.member_account_id, membership.offered_at) == (BOB, uow.now())
    [fact] = uow.emitted
    assert isinstance(fact, ShareOffered)
    assert (fact.owner_account_name, fact.member_account_name) == ("alice", "bob")
    assert uow.pending[0].subject == str(membership.membership_id)
    assert uow.pending[0].tenant == str(OWNER)
    assert uow.pending[0].sequence == 1  # the membership's own line, not the image's
    uow.commit()
    assert uow.outbox.versions == {(MEMBERSHIP, str(membership.membership_id)): 1}


async def test_sharing_again_is_harmless_and_each_pair_is_answered() -> None:
    store, image_id = sharing_store()
    await offer(store, image_id, "bob")
    uow = FakeUnitOfWork(store)
    wanted = [Recipient("bob"), Recipient("carol"), Recipient("nobody"), Recipient("alice")]
    results = await offers.share(uow, ALICE, [image_id], wanted, region=None)
    assert [(r.outcome, r.refusal.code if r.refusal else None) for r in results] == [
        (ShareOutcome.ALREADY_MEMBER, None),
        (ShareOutcome.OFFERED, None),
        (ShareOutcome.REFUSED, "account_not_found"),
        (ShareOutcome.REFUSED, "cannot_share_with_self"),
    ]
    assert [type(e) for e in uow.emitted] == [ShareOffered]


async def test_the_member_limit_counts_the_offers_of_the_same_request() -> None:
    store, image_id = sharing_store()
    names = [f"acct-{i}" for i in range(MEMBER_LIMIT + 1)]
    for name in names:
        account_id = uuid4()
        store.accounts[account_id] = Account(account_id, name, "standard", (), True)
        store.account_times[account_id] = AT
    uow = FakeUnitOfWork(store)
    results = await offers.share(uow, ALICE, [image_id], [Recipient(n) for n in names], region=None)
    assert [r.outcome for r in results].count(ShareOutcome.OFFERED) == MEMBER_LIMIT
    assert results[-1].refusal is not None
    assert results[-1].refusal.code == "member_limit_reached"
    assert len(store.memberships) == MEMBER_LIMIT


def test_deciding_one_pair_changes_nothing_it_is_given() -> None:
    image_id = uuid4()
    bob = Account(BOB, "bob", "standard", (), True)
    members: dict[UUID, Membership] = {}
    result, offered = domain.offer_to(
        ALICE, image_id, Recipient("bob"), bob, members, region=None, now=AT
    )
    assert members == {}
    assert result.outcome is ShareOutcome.OFFERED
    assert offered is not None
    assert offered.member_account_id == BOB


@pytest.mark.parametrize(
    ("image", "code"),
    [
        (None, "image_not_found"),
        (Image(uuid4(), None, "ubuntu", ImageStatus.NORMAL, True), "public_image"),
        (Image(uuid4(), OWNER, "web", ImageStatus.CREATING, False), "image_not_normal"),
        (Image(uuid4(), BOB, "bobs", ImageStatus.NORMAL, False), "image_not_found"),
    ],
)
async def test_a_share_of_one_image_is_refused_as_a_whole_by_the_image(
    image: Image | None, code: str
) -> None:
    store, _ = sharing_store()
    image_id = image.image_id if image else uuid4()
    if image is not None:
        store.images[image_id] = image
    uow = FakeUnitOfWork(store)
    with pytest.raises(Refusal) as refused:
        await offers.share_image(uow, ALICE, image_id, [Recipient("bob")], region=None)
    assert refused.value.code == code
    assert uow.emitted == []


async def test_a_share_of_one_image_answers_how_many_tenants_it_has() -> None:
    store, image_id = sharing_store()
    uow = FakeUnitOfWork(store)
    wanted = [Recipient("bob"), Recipient("nobody")]
    results, count = await offers.share_image(uow, ALICE, image_id, wanted, region=None)
    assert count == 1
    assert [r.outcome for r in results] == [ShareOutcome.OFFERED, ShareOutcome.REFUSED]


async def test_the_recipient_accepts_rejects_and_accepts_again() -> None:
    store, image_id = sharing_store()
    await offer(store, image_id, "bob")
    bob = Actor(BOB, "token-bob")
    uow = FakeUnitOfWork(store)
    [accepted] = await answers.answer(uow, bob, Answer.ACCEPT, None)
    assert (accepted.outcome, accepted.status) == (AnswerOutcome.ACCEPTED, MemberStatus.ACCEPTED)
    [again] = await answers.answer(uow, bob, Answer.ACCEPT, [image_id])
    assert again.outcome is AnswerOutcome.UNCHANGED
    [rejected] = await answers.answer(uow, bob, Answer.REJECT, [image_id])
    assert rejected.outcome is AnswerOutcome.REJECTED
    assert [type(e) for e in uow.emitted] == [ShareAccepted, ShareRejected]
    fact = uow.emitted[1]
    assert isinstance(fact, ShareRejected)
    assert fact.previous_status == "accepted"
    assert uow.pending[1].tenant == str(BOB)
    [membership] = store.memberships.values()
    assert (membership.status, membership.answered_at) == (MemberStatus.REJECTED, uow.now())


async def test_an_answer_about_nothing_of_the_recipients_is_refused_as_a_whole() -> None:
    store, image_id = sharing_store()
    await offer(store, image_id, "bob")
    carol = Actor(CAROL, "carol")
    with pytest.raises(Refusal) as refused:
        await answers.answer(FakeUnitOfWork(store), carol, Answer.ACCEPT, [image_id])
    assert refused.value.code == "offer_not_found"
    bob = Actor(BOB, "bob")
    other = uuid4()
    uow = FakeUnitOfWork(store)
    results = await answers.answer(uow, bob, Answer.ACCEPT, [other, image_id])
    assert [r.outcome for r in results] == [AnswerOutcome.REFUSED, AnswerOutcome.ACCEPTED]


async def test_the_owner_removes_one_tenant_or_all_of_them() -> None:
    store, image_id = sharing_store()
    await offer(store, image_id, "bob", "carol")
    uow = FakeUnitOfWork(store)
    [removed] = await endings.remove_members(uow, ALICE, image_id, BOB)
    assert removed.member_account_id == BOB
    with pytest.raises(Refusal) as refused:
        await endings.remove_members(uow, ALICE, image_id, BOB)
    assert refused.value.code == "member_not_found"
    [rest] = await endings.remove_members(uow, ALICE, image_id, None)
    assert rest.member_account_id == CAROL
    causes = [e.cause for e in uow.emitted if isinstance(e, ShareRevoked)]
    assert causes == ["tenant_removed", "sharing_cancelled"]


async def test_only_the_owner_sees_and_changes_the_tenants() -> None:
    store, image_id = sharing_store()
    await offer(store, image_id, "bob")
    bob = Actor(BOB, "bob")
    with pytest.raises(Refusal) as refused:
        await endings.remove_members(FakeUnitOfWork(store), bob, image_id, None)
    assert refused.value.code == "image_not_found"
    with pytest.raises(Refusal):
        await queries.members(store, bob, image_id)
    assert [
        (m.member_account_id, name) for m, name in await queries.members(store, ALICE, image_id)
    ] == [(BOB, "bob")]


async def test_the_recipient_pages_its_offers_newest_first() -> None:
    store, first = sharing_store()
    second = uuid4()
    store.images[second] = Image(second, OWNER, "db", ImageStatus.NORMAL, False)
    await offer(store, first, "bob")
    uow = FakeUnitOfWork(store)
    uow.clock.advance(1)
    await offers.share(uow, ALICE, [second], [Recipient("bob")], region=None)
    [newest] = await queries.offers(store, BOB, None, 1, None)
    assert (newest.image.image_id, newest.owner_name) == (second, "alice")
    after = (newest.membership.offered_at, newest.membership.membership_id)
    [older] = await queries.offers(store, BOB, MemberStatus.PENDING, 10, after)
    assert older.image.image_id == first
    assert await queries.offers(store, BOB, MemberStatus.ACCEPTED, 10, None) == []
