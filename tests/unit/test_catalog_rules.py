"""Catalog rules without I/O: console labels, list cursors."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from services.catalog.domain import (
    STATUS_LABELS,
    ImageStatus,
    bytes_to_console_gb,
)
from services.catalog.store import decode_cursor, encode_cursor


def test_labels_are_the_consoles() -> None:
    assert STATUS_LABELS[ImageStatus.CREATING] == "创建中"
    assert STATUS_LABELS[ImageStatus.NORMAL] == "正常"
    assert STATUS_LABELS[ImageStatus.FAILED] == "失败"


def test_sizes_show_as_gigabytes_with_three_decimals() -> None:
    assert bytes_to_console_gb(1_240_000_000) == "1.155 GB"
    assert bytes_to_console_gb(0) == "0.000 GB"


def test_a_cursor_round_trips_and_a_forged_one_is_refused() -> None:
    at, image_id = datetime(2026, 11, 28, 4, 0, tzinfo=UTC), uuid4()
    assert decode_cursor(encode_cursor(at, image_id)) == (at, image_id)
    with pytest.raises(ValueError, match="invalid cursor"):
        decode_cursor("not-a-cursor")
