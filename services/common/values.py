"""Domain values made from what the wire and the database hand over: the same-named fields
of an event or a request, or the same-named columns of a row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

D = TypeVar("D", bound="DataclassInstance")


def value_of(kind: type[D], source: object, **given: Any) -> D:
    """The dataclass ``kind`` with each field taken from ``source`` by its name (a column of
    a row, or an attribute of a model), unless ``given`` (a converted or renamed one). A
    field ``source`` lacks keeps its default; a required one it lacks raises TypeError."""
    names = [f.name for f in fields(kind) if f.name not in given]
    if isinstance(source, (asyncpg.Record, Mapping)):
        taken = {n: source[n] for n in names if n in source}
    else:
        taken = {n: getattr(source, n) for n in names if hasattr(source, n)}
    return kind(**taken, **given)
