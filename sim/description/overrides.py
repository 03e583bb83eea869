"""Dotted overrides: ``gates.abbey.lanes=6`` parsed, resolved against the schema, applied.

A dotted name addresses one existing entry of a scenario: a key of the schema, a named entry of
a table (a gate, a base, a ramp size class) or an index of a list. Overrides change existing
entries only; an unknown name at any level is a :class:`~sim.description.scenario.ScenarioError` naming it
and listing the known ones. Validating the result is :mod:`sim.description.scenario`'s job.
"""

from __future__ import annotations

import tomllib
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel

from sim.description.errors import ScenarioError, known_names

__all__ = ["parse_override", "apply_overrides", "thaw"]


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``key=value``; the value is read as a TOML value, else kept as a string."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError("--set", [(text, "expected KEY=VALUE, e.g. security.end=20")])
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    return key, parsed


_NOUNS = {
    "gates": "gate",
    "bases": "base",
    "fleets": "fleet",
    "cohorts": "cohort",
    "spots": "ramp size class",
    "reference": "reference figure",
    "uncertain": "uncertain key",
    "disruptions": "disruption",
}
"""What one entry of each named collection (or list) is called in error messages."""


def _node_kind(ann: Any) -> tuple[str, Any]:
    """``("model", cls)``, ``("map", value type)``, ``("list", element type)`` or ``("value", None)``."""
    while typing.get_origin(ann) is Annotated:
        ann = typing.get_args(ann)[0]
    if typing.get_origin(ann) in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if len(args) != 1:
            return "value", None
        return _node_kind(args[0])
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "model", ann
    origin = typing.get_origin(ann)
    if origin in (dict, Mapping):
        return "map", typing.get_args(ann)[1]
    if origin in (list, tuple):
        return "list", typing.get_args(ann)[0]
    return "value", None


def apply_overrides(raw: dict[str, Any], overrides: Mapping[str, Any], source: str, schema: type[BaseModel]) -> None:
    """Set dotted keys of a raw scenario mapping in place (``disruptions.2.end`` indexes lists).

    Overrides change existing entries only: a key that is not in the schema, a name that is not
    in ``raw`` (a gate, a base, a ramp size class...) or a list index out of range is a
    :class:`ScenarioError` naming it and listing the known ones. A table given as a value
    replaces the table whole; the names in it must exist already (names left out are removed).
    New named entities belong in scenario files, where they are visible.
    """
    for key, value in overrides.items():
        _apply_one(raw, str(key), value, source, schema)


def _apply_one(raw: dict[str, Any], key: str, value: Any, source: str, schema: type[BaseModel]) -> None:
    parts = key.split(".")
    kind, typ = "model", schema
    node: Any = raw
    noun = "name"
    i = 0
    while True:
        where = ".".join(parts[:i]) or "the scenario"
        if kind == "model":
            fields = {f.alias or n: f for n, f in typ.model_fields.items()}
            part = parts[i]
            if part not in fields:
                raise ScenarioError(source, [(key, f"unknown key {part!r} in {where} (known: {known_names(fields)})")])
            child_kind, child_typ = _node_kind(fields[part].annotation)
            slot: Any = part
            noun = _NOUNS.get(part, "name")
            i += 1
        elif kind == "map":
            assert isinstance(node, dict)
            j = next((j for j in range(len(parts), i, -1) if ".".join(parts[i:j]) in node), None)
            if j is None:
                # names may hold dots (``reference``, ``uncertain``): the unknown name is then all
                # that is left, or all but the field of the entry it would name
                if _node_kind(typ)[0] == "value":
                    name = ".".join(parts[i:])
                elif any("." in str(k) for k in node) and len(parts) - i > 1:
                    name = ".".join(parts[i:-1])
                else:
                    name = parts[i]
                raise ScenarioError(source, [(key, f"unknown {noun} {name!r} in {where} (known: {known_names(node)})")])
            slot = ".".join(parts[i:j])
            child_kind, child_typ = _node_kind(typ)
            i = j
        elif kind == "list":
            assert isinstance(node, list)
            part = parts[i]
            if not part.isdigit() or int(part) >= len(node):
                have = f"indexes 0 to {len(node) - 1}" if node else "the list is empty"
                what = noun if noun != "name" else "element"
                raise ScenarioError(source, [(key, f"no {what} {part!r} in {where} ({have})")])
            slot = int(part)
            child_kind, child_typ = _node_kind(typ)
            i += 1
        else:
            raise ScenarioError(source, [(key, f"{where} is a value, not a table")])
        current = node[slot] if kind != "model" else node.get(slot)
        if i == len(parts):
            _check_table(value, current, child_kind, child_typ, key, source)
            node[slot] = thaw(value)
            return
        if current is None and child_kind == "model":
            current = node[slot] = {}
        elif isinstance(current, tuple):
            current = node[slot] = list(current)
        if (
            child_kind in ("model", "map")
            and not isinstance(current, dict)
            or child_kind == "list"
            and not isinstance(current, list)
        ):
            raise ScenarioError(source, [(key, f"{'.'.join(parts[:i])} is a value, not a table")])
        node, kind, typ = current, child_kind, child_typ


def _check_table(value: Any, current: Any, kind: str, typ: Any, key: str, source: str) -> None:
    """A table given as a value replaces the table; every name in it must already exist there
    (it may leave names out), and every key must be in the schema."""
    if not isinstance(value, Mapping):
        return
    if kind == "map" and isinstance(current, dict):
        for name, v in value.items():
            if name not in current:
                noun = _NOUNS.get(key.rsplit(".", 1)[-1], "name")
                raise ScenarioError(
                    source, [(f"{key}.{name}", f"unknown {noun} {name!r} in {key} (known: {known_names(current)})")]
                )
            sub_kind, sub_typ = _node_kind(typ)
            _check_table(v, current[name], sub_kind, sub_typ, f"{key}.{name}", source)
    elif kind == "model":
        fields = {f.alias or n: f for n, f in typ.model_fields.items()}
        for name, v in value.items():
            if name not in fields:
                raise ScenarioError(source, [(f"{key}.{name}", f"unknown key {name!r} in {key} (known: {known_names(fields)})")])
            sub_kind, sub_typ = _node_kind(fields[name].annotation)
            below = current.get(name) if isinstance(current, dict) else None
            _check_table(v, below, sub_kind, sub_typ, f"{key}.{name}", source)


def thaw(x: Any) -> Any:
    """A mutable copy of a dumped scenario: tables as dicts, lists and tuples as lists."""
    if isinstance(x, Mapping):
        return {k: thaw(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [thaw(v) for v in x]
    return x
