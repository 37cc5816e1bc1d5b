"""value_of: a domain value from the same-named fields of a model or columns of a row."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pydantic import BaseModel

from services.common.values import value_of


@dataclass(frozen=True)
class Value:
    name: str
    size: int
    label: str = "none"


class Fact(BaseModel):
    name: str
    size: int
    extra: str = "ignored"


def test_fields_are_taken_by_name_from_a_model_and_the_rest_is_left_out() -> None:
    assert value_of(Value, Fact(name="a", size=2)) == Value("a", 2)


def test_columns_are_taken_by_name_from_a_row() -> None:
    assert value_of(Value, {"name": "a", "size": 2, "label": "x", "other": 1}) == Value("a", 2, "x")


def test_given_values_win_over_the_source() -> None:
    assert value_of(Value, Fact(name="a", size=2), size=5, label="y") == Value("a", 5, "y")


def test_a_required_field_the_source_lacks_is_an_error_not_a_default() -> None:
    with pytest.raises(TypeError):
        value_of(Value, {"name": "a"})
