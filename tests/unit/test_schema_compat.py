"""Breaking-change detection on tiny hand-written JSON Schemas (schemas/compat.py)."""

from __future__ import annotations

from typing import Any

from schemas import compat


def obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required}


STR = {"type": "string"}
INT = {"type": "integer"}
BASE = obj(["a"], a=STR, b=INT)


def test_identical_schemas_have_no_breaking_change() -> None:
    assert compat.breaking_changes(BASE, BASE) == []


def test_new_optional_property_is_allowed() -> None:
    new = obj(["a"], a=STR, b=INT, c={"type": "boolean"})
    assert compat.breaking_changes(BASE, new) == []


def test_descriptions_titles_and_defaults_may_change() -> None:
    new = obj(["a"], a={**STR, "description": "A", "title": "A"}, b={**INT, "default": 1})
    assert compat.breaking_changes(BASE, new) == []


def test_removed_property_is_detected() -> None:
    assert compat.breaking_changes(BASE, obj(["a"], a=STR)) == ["b: property removed"]


def test_newly_required_property_is_detected() -> None:
    assert compat.breaking_changes(BASE, obj(["a", "b"], a=STR, b=INT)) == ["b: newly required"]
    new = obj(["a", "c"], a=STR, b=INT, c=STR)
    assert compat.breaking_changes(BASE, new) == ["c: newly required"]


def test_property_no_longer_required_is_detected() -> None:
    assert compat.breaking_changes(BASE, obj([], a=STR, b=INT)) == ["a: no longer required"]


def test_type_change_is_detected() -> None:
    assert compat.breaking_changes(BASE, obj(["a"], a=INT, b=INT)) == [
        "a: type changed from string to integer"
    ]


def test_becoming_nullable_or_losing_a_format_is_a_type_change() -> None:
    nullable = obj(["a"], a={"anyOf": [STR, {"type": "null"}]}, b=INT)
    assert compat.breaking_changes(BASE, nullable) == [
        "a: type changed from string to null, string"
    ]
    uuid = obj(["a"], a={**STR, "format": "uuid"}, b=INT)
    assert compat.breaking_changes(uuid, BASE) == ["a: type changed from string(uuid) to string"]


def test_enum_narrowing_is_detected() -> None:
    old = obj(["k"], k={"type": "string", "enum": ["x", "y"]})
    new = obj(["k"], k={"type": "string", "enum": ["x"]})
    assert compat.breaking_changes(old, new) == ['k: value removed "y"']


def test_enum_widening_is_detected() -> None:
    old = obj(["k"], k={"type": "string", "enum": ["x"]})
    new = obj(["k"], k={"type": "string", "enum": ["x", "y"]})
    assert compat.breaking_changes(old, new) == ['k: value added "y" (readers reject it)']


def test_const_change_is_detected() -> None:
    old = obj(["t"], t={"const": "ims.A.v1", "type": "string"})
    new = obj(["t"], t={"const": "ims.A.v2", "type": "string"})
    assert compat.breaking_changes(old, new) == [
        't: value removed "ims.A.v1"',
        't: value added "ims.A.v2" (readers reject it)',
    ]


def test_refs_are_resolved_in_each_document() -> None:
    old = {
        **obj(["data"], data={"$ref": "#/$defs/Body"}),
        "$defs": {"Body": obj(["x"], x=STR, os={"$ref": "#/$defs/Os"}), "Os": obj([], v=STR)},
    }
    new = {
        **obj(["data"], data={"$ref": "#/$defs/Data"}),
        "$defs": {"Data": obj(["x"], x=INT, os={"$ref": "#/$defs/Os2"}), "Os2": obj([])},
    }
    assert compat.breaking_changes(old, new) == [
        "data.os.v: property removed",
        "data.x: type changed from string to integer",
    ]


def test_items_maps_and_nullable_objects_are_compared() -> None:
    old = obj(
        [],
        disks={"type": "array", "items": obj(["id"], id=STR)},
        headers={"type": "object", "additionalProperties": STR},
        src={"anyOf": [obj([], h=STR), {"type": "null"}]},
    )
    new = obj(
        [],
        disks={"type": "array", "items": obj(["id", "n"], id=STR, n=INT)},
        headers={"type": "object", "additionalProperties": INT},
        src={"anyOf": [obj([]), {"type": "null"}]},
    )
    assert compat.breaking_changes(old, new) == [
        "disks[].n: newly required",
        "headers.*: type changed from string to integer",
        "src.h: property removed",
    ]


def test_recursive_schemas_terminate() -> None:
    tree = {**obj([], kids={"type": "array", "items": {"$ref": "#"}})}
    assert compat.breaking_changes(tree, tree) == []
