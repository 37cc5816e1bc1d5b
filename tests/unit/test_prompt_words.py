"""The prompt 是否接受镜像 without I/O: its words in both languages, its actions, resolution."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from services.notifier.domain.prompts import Offer, Pending, prompt_id, text, version

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def offer(name: str, owner: str) -> Offer:
    return Offer(
        membership_id=uuid4(), image_id=uuid4(), name=name, owner_account_id=uuid4(),
        owner_account_name=owner, offered_at=NOW,
    )  # fmt: skip


def test_one_offer_reads_naturally_in_both_languages() -> None:
    words = text(Pending([offer("web", "alice")], 1))
    assert words.zh == "alice向您共享了1个镜像：“web”，是否接受镜像？"
    assert words.en == 'alice shared 1 image with you: "web". Accept it?'


def test_many_offers_name_the_first_three_and_count_the_rest() -> None:
    images = [offer(f"img-{i}", owner) for i, owner in enumerate("aabbc")]
    words = text(Pending(images, 5))
    assert words.zh == "a、b、c向您共享了5个镜像：“img-0”、“img-1”、“img-2”等，是否接受镜像？"
    assert words.en.endswith('"img-0", "img-1", "img-2" and 2 more. Accept them?')


def test_a_prompt_is_open_with_three_actions_or_resolved_with_none() -> None:
    account = uuid4()
    opened = version(account, Pending([offer("web", "alice")], 1), NOW)
    assert (opened.status, opened.title_zh, opened.prompt_id) == (
        "open", "是否接受镜像", prompt_id(account),
    )  # fmt: skip
    assert [(a.action, a.label_zh) for a in opened.actions] == [
        ("accept_all", "全部接受"), ("reject_all", "全部拒绝"), ("details", "查看详情"),
    ]  # fmt: skip
    resolved = version(account, Pending([], 0), NOW)
    assert (resolved.status, resolved.images, resolved.actions) == ("resolved", [], [])
    assert resolved.prompt_id == opened.prompt_id
