"""Breaking-change detection between two versions of an event's JSON Schema.

A change breaks readers or writers of the published contract when it removes a property,
makes one newly required (or no longer required), changes a type or ``const``, or
narrows or widens an enum; adding an optional property does not. Pure functions over two
schemas, ``$defs`` references resolved.
"""

from __future__ import annotations

import json
from typing import Any

Schema = dict[str, Any]


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """What in ``new`` breaks readers or writers of ``old``; both are whole JSON Schemas.

    Breaking: a property removed, newly required or no longer required, a type changed
    (including becoming nullable), an enum/const value removed, added or changed. Not
    breaking: a new optional property, descriptions, titles, defaults.
    """
    return _compare(_Side(old, old), _Side(new, new), "", frozenset())


class _Side:
    """A subschema together with the document its ``$ref``s point into."""

    def __init__(self, root: Schema, node: Schema) -> None:
        self.root = root
        self.ref: str | None = node.get("$ref")
        self.node = self._resolve(node)

    def at(self, node: Schema) -> _Side:
        return _Side(self.root, node)

    def _resolve(self, node: Schema) -> Schema:
        for _ in range(32):
            if "$ref" in node:
                target: Any = self.root
                ref = node["$ref"]
                if not ref.startswith("#"):
                    raise ValueError(f"only local $refs are supported: {ref}")
                for part in filter(None, ref[1:].split("/")):
                    target = target[part.replace("~1", "/").replace("~0", "~")]
                node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            elif len(node.get("allOf", ())) == 1:
                rest = {k: v for k, v in node.items() if k != "allOf"}
                node = {**node["allOf"][0], **rest}
            else:
                return node
        raise ValueError("$ref chain too long")

    def branches(self) -> list[_Side]:
        alternatives = self.node.get("anyOf") or self.node.get("oneOf")
        if not alternatives:
            return [self]
        return [b for alt in alternatives for b in self.at(alt).branches()]

    def types(self) -> frozenset[str]:
        found: set[str] = set()
        for branch in self.branches():
            node = branch.node
            kinds = node.get("type")
            if kinds is None and ("const" in node or "enum" in node):
                values = [node["const"]] if "const" in node else node["enum"]
                kinds = sorted({_json_type(v) for v in values})
            kinds = [kinds] if isinstance(kinds, str) else kinds or ["any"]
            fmt = node.get("format")
            found.update(f"{k}({fmt})" if fmt else k for k in kinds)
        return frozenset(found)

    def values(self) -> frozenset[str] | None:
        """The allowed values (as JSON), when every non-null branch lists them."""
        found: set[str] = set()
        for branch in self.branches():
            node = branch.node
            if node.get("type") == "null":
                continue
            if "const" in node:
                found.add(json.dumps(node["const"]))
            elif "enum" in node:
                found.update(json.dumps(v) for v in node["enum"])
            else:
                return None
        return frozenset(found)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}[type(value)]


def _compare(old: _Side, new: _Side, path: str, seen: frozenset[tuple[str, str]]) -> list[str]:
    where = path or "(root)"
    pair = (old.ref or "", new.ref or "")
    if pair != ("", "") and pair in seen:
        return []
    seen = seen | {pair}
    if old.types() != new.types():
        return [f"{where}: type changed from {_show(old.types())} to {_show(new.types())}"]
    problems = _compare_values(old.values(), new.values(), where)
    olds = [b for b in old.branches() if b.node.get("type") != "null"]
    news = [b for b in new.branches() if b.node.get("type") != "null"]
    if len(olds) == 1 and len(news) == 1:
        problems += _compare_node(olds[0], news[0], path, seen)
    return problems


def _compare_values(
    old: frozenset[str] | None, new: frozenset[str] | None, where: str
) -> list[str]:
    if old is None and new is None:
        return []
    if old is None:
        return [f"{where}: now restricted to {_show(new or frozenset())}"]
    if new is None:
        return [f"{where}: no longer restricted to {_show(old)}"]
    problems = []
    if removed := old - new:
        problems.append(f"{where}: value removed {_show(removed)}")
    if added := new - old:
        problems.append(f"{where}: value added {_show(added)} (readers reject it)")
    return problems


def _compare_node(old: _Side, new: _Side, path: str, seen: frozenset[tuple[str, str]]) -> list[str]:
    def child(name: str) -> str:
        return f"{path}.{name}" if path else name

    problems: list[str] = []
    old_props: Schema = old.node.get("properties", {})
    new_props: Schema = new.node.get("properties", {})
    old_required = set(old.node.get("required", ()))
    new_required = set(new.node.get("required", ()))
    for name in sorted(old_props):
        if name not in new_props:
            problems.append(f"{child(name)}: property removed")
            continue
        problems += _compare(old.at(old_props[name]), new.at(new_props[name]), child(name), seen)
        if name in old_required and name not in new_required:
            problems.append(f"{child(name)}: no longer required")
    for name in sorted(new_required - old_required):
        problems.append(f"{child(name)}: newly required")
    for key, sub_path in (("items", f"{path}[]"), ("additionalProperties", child("*"))):
        if isinstance(old.node.get(key), dict) and isinstance(new.node.get(key), dict):
            problems += _compare(old.at(old.node[key]), new.at(new.node[key]), sub_path, seen)
    return problems


def _show(items: frozenset[str]) -> str:
    return ", ".join(sorted(items))
