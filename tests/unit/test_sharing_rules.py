"""Sharing rules without I/O (S2, S3, S5, S6) and the language of answers."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.common.i18n import negotiate
from services.common.refusals import Refusal
from services.sharing.domain import (
    MEMBER_LIMIT,
    Account,
    Answer,
    Image,
    ImageStatus,
    MemberStatus,
    Project,
    answered,
    members_summary,
    recipient,
    shareable,
)

OWNER, OTHER = uuid4(), uuid4()
PROD = Project(uuid4(), "prod", "cn-east-1")
WEST = Project(uuid4(), "west", "cn-west-1")


def image(**changes: object) -> Image:
    values: dict[str, object] = {
        "image_id": uuid4(),
        "owner_account_id": OWNER,
        "name": "web",
        "status": ImageStatus.NORMAL,
        "public": False,
    }
    return Image(**(values | changes))  # type: ignore[arg-type]


def code(result: object) -> str | None:
    return result.code if isinstance(result, Refusal) else None


def test_only_the_owner_shares_only_its_private_normal_images() -> None:
    mine = image()
    assert shareable(mine, mine.image_id, OWNER) is None
    # Someone else's private image is answered exactly like a missing one.
    assert code(shareable(mine, mine.image_id, OTHER)) == "image_not_found"
    assert code(shareable(None, mine.image_id, OWNER)) == "image_not_found"
    deleted = image(status=ImageStatus.DELETED)
    assert code(shareable(deleted, deleted.image_id, OWNER)) == "image_not_found"
    public = image(owner_account_id=None, public=True)
    assert code(shareable(public, public.image_id, OWNER)) == "public_image"
    for status in (ImageStatus.CREATING, ImageStatus.FAILED):
        young = image(status=status)
        assert code(shareable(young, young.image_id, OWNER)) == "image_not_normal"


def test_recipients_must_be_known_active_others_with_a_project_they_have() -> None:
    bob = Account(OTHER, "bob", "standard", (), True)
    assert recipient(OWNER, "bob", bob, None, "cn-east-1") is None
    assert code(recipient(OWNER, "bob", None, None, None)) == "account_not_found"
    closed = Account(OTHER, "bob", "standard", (), False)
    assert code(recipient(OWNER, "bob", closed, None, None)) == "account_not_found"
    me = Account(OWNER, "alice", "standard", (), True)
    assert code(recipient(OWNER, "alice", me, None, None)) == "cannot_share_with_self"
    assert code(recipient(OWNER, "bob", bob, "prod", None)) == "project_not_found"

    dedicated = Account(OTHER, "dc", "dedicated_cloud", (PROD, WEST), True)
    assert code(recipient(OWNER, "dc", dedicated, None, None)) == "project_required"
    assert code(recipient(OWNER, "dc", dedicated, "test", None)) == "project_not_found"
    assert recipient(OWNER, "dc", dedicated, "prod", "cn-east-1") == PROD
    west = recipient(OWNER, "dc", dedicated, "west", "cn-east-1")
    assert code(west) == "project_in_other_region"
    assert recipient(OWNER, "dc", dedicated, "west", None) == WEST  # region unknown here


@pytest.mark.parametrize(
    ("status", "answer", "after"),
    [
        (MemberStatus.PENDING, Answer.ACCEPT, MemberStatus.ACCEPTED),  # S3
        (MemberStatus.PENDING, Answer.REJECT, MemberStatus.REJECTED),  # S3
        (MemberStatus.ACCEPTED, Answer.REJECT, MemberStatus.REJECTED),  # S5 remove
        (MemberStatus.REJECTED, Answer.ACCEPT, MemberStatus.ACCEPTED),  # S6 re-accept
        (MemberStatus.ACCEPTED, Answer.ACCEPT, None),
        (MemberStatus.REJECTED, Answer.REJECT, None),
    ],
)
def test_answers_move_a_membership(
    status: MemberStatus, answer: Answer, after: MemberStatus | None
) -> None:
    assert answered(status, answer) == after


def test_the_owner_reads_how_many_tenants_and_how_many_more() -> None:
    assert members_summary(0).zh == f"已有租户0个，还可以添加{MEMBER_LIMIT}个"
    assert members_summary(128).en == "128 tenants, 0 more can be added"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh-CN"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("fr-FR, en;q=0.5", "en"),
        ("de", "zh-CN"),
        ("en;q=0, zh", "zh-CN"),
        ("en;q=garbage", "zh-CN"),
    ],
)
def test_english_only_when_asked_for(header: str | None, language: str) -> None:
    assert negotiate(header) == language
