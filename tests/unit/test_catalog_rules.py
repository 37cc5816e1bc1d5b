"""Catalog rules without I/O: console labels, list cursors, what a tenant or an admin may do
with an image, and the quota."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from services.catalog.domain import (
    STATUS_LABELS,
    ImageStatus,
    PublishStatus,
    Quota,
    Refusal,
    Visibility,
    bytes_to_console_gb,
    check_deletable,
    check_description,
    check_modifiable,
    check_name,
    check_owned,
    check_publishable,
    quota_of,
)
from services.catalog.domain.messages import quota_left
from services.common.cursors import InvalidCursor, decode_time_cursor, encode_cursor


def test_labels_are_the_consoles() -> None:
    assert STATUS_LABELS[ImageStatus.CREATING] == "创建中"
    assert STATUS_LABELS[ImageStatus.NORMAL] == "正常"
    assert STATUS_LABELS[ImageStatus.FAILED] == "失败"


def test_sizes_show_as_gigabytes_with_three_decimals() -> None:
    assert bytes_to_console_gb(1_240_000_000) == "1.155 GB"
    assert bytes_to_console_gb(0) == "0.000 GB"


def test_a_cursor_round_trips_and_a_forged_one_is_refused() -> None:
    at, image_id = datetime(2026, 11, 28, 4, 0, tzinfo=UTC), uuid4()
    assert decode_time_cursor(encode_cursor(at, image_id)) == (at, image_id)
    with pytest.raises(InvalidCursor):
        decode_time_cursor("not-a-cursor")


# --- what a tenant or admin may do (C4-C7) ----------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["TEST-GG", "ftp server", "ecs-76c61", "ceshi", "a", "镜像_v1.2", "x" * 128, "Ubuntu 22.04"],
)
def test_names_the_console_accepts(name: str) -> None:
    check_name(name)


@pytest.mark.parametrize(
    "name",
    ["", " leading", "trailing ", "x" * 129, "tab\there", "new\nline", "a/b", "<b>", "a\n"],
)
def test_names_refused_with_the_rule_in_words(name: str) -> None:
    with pytest.raises(Refusal) as refused:
        check_name(name)
    assert refused.value.code == "invalid_name"
    assert "128" in refused.value.message.zh
    assert "128" in refused.value.message.en


def test_descriptions_up_to_1024_characters_without_markup_or_control_characters() -> None:
    check_description("")
    check_description("第一行\n第二行")
    check_description("d" * 1024)
    for bad in ("d" * 1025, "<script>", "bell\x07"):
        with pytest.raises(Refusal, match="1024"):
            check_description(bad)


def test_only_a_normal_image_is_modified() -> None:
    check_modifiable(ImageStatus.NORMAL)
    for status in (ImageStatus.CREATING, ImageStatus.FAILED):
        with pytest.raises(Refusal) as refused:
            check_modifiable(status)
        assert refused.value.code == "invalid_image_status"
        assert STATUS_LABELS[status] in refused.value.message.zh


def test_delete_needs_normal_and_unpublished_or_failed() -> None:
    check_deletable(ImageStatus.NORMAL, PublishStatus.UNPUBLISHED)
    check_deletable(ImageStatus.FAILED, PublishStatus.UNPUBLISHED)
    with pytest.raises(Refusal) as creating:
        check_deletable(ImageStatus.CREATING, PublishStatus.UNPUBLISHED)
    assert creating.value.code == "invalid_image_status"
    with pytest.raises(Refusal) as published:
        check_deletable(ImageStatus.NORMAL, PublishStatus.PUBLISHED)
    assert published.value.code == "image_published"
    assert "未发布" in published.value.message.zh


def test_publish_needs_a_private_normal_image() -> None:
    check_publishable(Visibility.PRIVATE, ImageStatus.NORMAL)
    with pytest.raises(Refusal, match="retire"):
        check_publishable(Visibility.PUBLIC, ImageStatus.NORMAL)
    with pytest.raises(Refusal):
        check_publishable(Visibility.PRIVATE, ImageStatus.CREATING)


def test_tenants_change_only_private_images() -> None:
    check_owned(Visibility.PRIVATE)
    with pytest.raises(Refusal) as refused:
        check_owned(Visibility.PUBLIC)
    assert refused.value.code == "image_not_owned"


def test_quota_default_is_the_seeds_ten_and_says_what_is_left() -> None:
    quota = quota_of(None, 7)
    assert (quota.limit, quota.used, quota.remaining) == (10, 7, 3)
    assert quota_of(25, 7).remaining == 18
    assert quota_of(2, 7).remaining == 0  # lowered below what it holds: nothing left
    assert quota_left(3).zh == "您还可以创建3个私有镜像。"
    assert quota.admit_one() == Quota(10, 8)


def test_the_eleventh_image_is_refused_with_the_seeds_words() -> None:
    with pytest.raises(Refusal) as refused:
        quota_of(None, 10).admit_one()
    assert refused.value.code == "quota_exceeded"
    assert refused.value.facts["quota"] == {"limit": 10, "used": 10, "remaining": 0}
    assert "您还可以创建0个私有镜像" in refused.value.message.zh
    assert "提交工单" in refused.value.message.zh
    assert "ticket" in refused.value.message.en
