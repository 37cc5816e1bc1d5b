"""The notifier's rules without I/O: what an owner is told about a capture (zh-CN and
English), the inbox's refusal, when a prompt's next version is due, what a due prompt
publishes and how many images it lists. (The prompt's one-line text is also in
``tests/unit/test_prompt_words.py``.)"""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from schemas.events import PROMPT_IMAGES_MAX
from services.notifier.domain import prompts, wording
from services.notifier.domain.prompts import Cause, Offer, Pending, PromptChange
from services.notifier.domain.wording import NoticeText
from tests.unit.notifier.fakes import AT, capture_failed, capture_refused, image_ready

OWNER = uuid4()
SECOND = timedelta(seconds=1)


def offer(name: str = "web", owner: str = "alice", *, minutes: int = 0) -> Offer:
    return Offer(
        membership_id=uuid4(),
        image_id=uuid4(),
        name=name,
        owner_account_id=uuid4(),
        owner_account_name=owner,
        offered_at=AT + timedelta(minutes=minutes),
    )


def change(*, grew: bool) -> PromptChange:
    return PromptChange(OWNER, grew, uuid4(), uuid4())


# --- what an owner is told about a capture (N4) ------------------------------------------


def test_a_ready_image_is_announced_in_both_languages() -> None:
    words = wording.capture_succeeded(image_ready(uuid4(), OWNER, name="web-01"))
    assert words == NoticeText(
        "capture_succeeded",
        "私有镜像“web-01”创建成功，状态为“正常”。",
        'Private image "web-01" was created and is ready to use.',
    )


def test_a_failed_capture_says_why_in_chinese_and_its_code_in_english() -> None:
    words = wording.capture_failed(capture_failed(uuid4(), OWNER, name="db"))
    assert words == NoticeText(
        "capture_failed",
        "私有镜像“db”创建失败：云主机正在运行，请先关机。",
        'Private image "db" could not be created (host_running).',
    )


def test_a_refused_capture_is_a_failure_in_the_catalogs_words() -> None:
    refused = capture_refused(uuid4(), OWNER, reason_en="The private image quota (10) is used.")
    words = wording.capture_refused(refused)
    assert words == NoticeText(
        "capture_failed",
        "私有镜像“web”创建失败：私有镜像数量已达配额上限（10个）。",
        'Private image "web" could not be created: The private image quota (10) is used.',
    )
    untranslated = wording.capture_refused(capture_refused(uuid4(), OWNER, reason_en=""))
    assert untranslated.en == 'Private image "web" could not be created: quota_exceeded'


def test_a_notice_is_one_per_image_and_kind_however_often_its_fact_comes() -> None:
    image_id = uuid4()
    ready = wording.capture_succeeded(image_ready(image_id, OWNER))
    failed = wording.capture_failed(capture_failed(image_id, OWNER))
    first = wording.capture_notice(OWNER, image_id, ready, AT)
    again = wording.capture_notice(OWNER, image_id, ready, AT + SECOND)
    assert first.notice_id == again.notice_id
    assert wording.capture_notice(OWNER, image_id, failed, AT).notice_id != first.notice_id
    assert wording.capture_notice(OWNER, uuid4(), ready, AT).notice_id != first.notice_id
    assert (first.account_id, first.image_id, first.text, first.at) == (OWNER, image_id, ready, AT)


def test_a_missing_notice_is_refused_as_not_found_in_both_languages() -> None:
    notice_id = uuid4()
    refusal = wording.notice_not_found(notice_id)
    assert refusal.code == "not_found"
    assert refusal.message.zh == f"通知 {notice_id} 不存在。"
    assert refusal.message.en == f"Notice {notice_id} does not exist."


# --- when a prompt's next version is due (N1-N3) -----------------------------------------


def test_the_first_change_of_a_prompt_is_due_at_once() -> None:
    assert prompts.due_at(AT, None, None, Cause(None, None)) == AT


def test_a_change_soon_after_a_version_waits_out_the_interval() -> None:
    published = AT - 0.25 * SECOND
    assert prompts.due_at(AT, None, published, Cause(None, None)) == published + SECOND
    slower = Cause(None, None, min_interval=10 * SECOND)
    assert prompts.due_at(AT, None, published, slower) == published + 10 * SECOND


def test_a_change_long_after_the_last_version_is_due_at_once() -> None:
    assert prompts.due_at(AT, None, AT - 5 * SECOND, Cause(None, None)) == AT


def test_a_waiting_prompt_keeps_its_time_however_many_changes_come() -> None:
    # Changes keep coming before the publisher takes it: it keeps its place in the queue.
    for published in (None, AT - 5 * SECOND):
        for later in (AT + 0.2 * SECOND, AT + 3 * SECOND):
            assert prompts.due_at(later, AT, published, Cause(None, None)) == AT


def test_the_prompt_is_one_per_account() -> None:
    other = uuid4()
    assert prompts.prompt_id(OWNER) == prompts.prompt_id(OWNER)
    assert prompts.prompt_id(OWNER) != prompts.prompt_id(other)


# --- what a due prompt publishes ---------------------------------------------------------


def test_offers_that_came_and_went_before_any_version_publish_nothing() -> None:
    assert prompts.publication(change(grew=True), Pending([], 0), False, AT) is None


def test_a_shown_prompt_with_nothing_pending_resolves_and_leaves_the_inbox() -> None:
    published = prompts.publication(change(grew=False), Pending([], 0), True, AT)
    assert published is not None
    assert published.notice is None
    version = published.version
    assert (version.status, version.pending_count, version.images, version.actions) == (
        "resolved",
        0,
        [],
        [],
    )
    assert version.text_en == "No shared images are waiting for your answer."
    assert version.text_zh == "没有待接受的共享镜像。"


@pytest.mark.parametrize("grew", [True, False])
def test_an_open_prompt_is_in_the_inbox_unread_only_when_offers_arrived(grew: bool) -> None:
    web = offer()
    published = prompts.publication(change(grew=grew), Pending([web], 1), grew, AT)
    assert published is not None
    assert published.notice is not None
    version, notice = published.version, published.notice
    assert (version.status, version.account_id, version.updated_at) == ("open", OWNER, AT)
    assert (notice.notice_id, notice.account_id, notice.unread) == (
        prompts.prompt_id(OWNER),
        OWNER,
        grew,
    )
    assert notice.text == NoticeText("share_prompt", version.text_zh, version.text_en)
    assert notice.body["pending_count"] == 1
    assert [i["membership_id"] for i in notice.body["images"]] == [str(web.membership_id)]
    assert [a["action"] for a in notice.body["actions"]] == ["accept_all", "reject_all", "details"]


def test_a_prompt_lists_at_most_its_bound_and_counts_them_all() -> None:
    many = [offer(f"img-{i}", minutes=-i) for i in range(PROMPT_IMAGES_MAX + 1)]
    version = prompts.version(OWNER, Pending(many, 2000), AT)
    assert len(version.images) == PROMPT_IMAGES_MAX
    assert [i.name for i in version.images[:2]] == ["img-0", "img-1"]
    assert version.pending_count == 2000
    assert version.text_en.endswith('"img-0", "img-1", "img-2" and 1997 more. Accept them?')


def test_many_owners_are_named_three_and_others() -> None:
    images = [offer("web", owner) for owner in ("ann", "ben", "ann", "cat", "dan")]
    words = prompts.text(Pending(images, 5))
    assert words.zh.startswith("ann、ben、cat等向您共享了5个镜像：")
    assert words.en.startswith("ann, ben, cat and others shared 5 images with you:")


def test_the_buttons_call_the_sharing_api_and_are_labelled_in_the_asked_language() -> None:
    accept, reject, details = prompts.ACTIONS
    assert (accept.method, accept.path, accept.body) == (
        "POST",
        "/v1/shared-images/accept",
        {"all": True},
    )
    assert (reject.method, reject.path, reject.body) == (
        "POST",
        "/v1/shared-images/reject",
        {"all": True},
    )
    assert (details.method, details.path, details.body) == (
        "GET",
        "/v1/shared-images?status=pending",
        None,
    )
    assert [prompts.label(a, "en") for a in prompts.ACTIONS] == [
        "Accept all",
        "Reject all",
        "View details",
    ]
    assert [prompts.label(a, "zh-CN") for a in prompts.ACTIONS] == [
        "全部接受",
        "全部拒绝",
        "查看详情",
    ]
