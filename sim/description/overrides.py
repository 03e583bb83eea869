"""Dotted overrides: ``gates.abbey.lanes=6`` parsed, resolved against the schema, applied.

A dotted name addresses one existing entry of a scenario: a key of the schema, a named entry of
a table (a gate, a base, a ramp size class) or an index of a list. Overrides change existing
entries only; an unknown name at any level is a :class:`~sim.description.errors.ScenarioError` naming it
and listing the known ones. Validating the result is :mod:`sim.description.scenario`'s job.
"""

from __future__ import annotations

import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Annotated, Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.description.bounds import MAX_NESTING
from sim.description.errors import ScenarioError, known_names

__all__ = ["ABSENT", "apply_overrides", "check_nesting", "parse_override", "raw_value", "thaw"]


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``key=value``; the value is read as a TOML value, else kept as a string.

    TOML datetimes, dates and times come back as their ISO text (as if quoted), so that an override
    is plain data (it is saved as JSON with the results); the schema reads the text as a time."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError("--set", [(text, "expected KEY=VALUE, e.g. security.end=20")])
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    except RecursionError:
        raise ScenarioError("--set", [(key, f"nested too deeply (at most {MAX_NESTING} levels)")]) from None
    check_nesting(parsed, "--set", key)
    return key, _iso_times(parsed)


def _iso_times(value: Any) -> Any:
    """``value`` with every datetime, date and time (at any depth) as its ISO text."""
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, list):
        return [_iso_times(v) for v in value]
    if isinstance(value, dict):
        return {k: _iso_times(v) for k, v in value.items()}
    return value


def check_nesting(value: Any, source: str, field: str) -> None:
    """Refuse lists and tables nested deeper than ``MAX_NESTING`` (no scenario value is; deeper ones
    would exhaust the stack of whatever walks them). Walks without recursion."""
    level: list[Any] = [value]
    for _ in range(MAX_NESTING + 1):
        level = [c for v in level for c in (v.values() if isinstance(v, Mapping) else v if isinstance(v, list | tuple) else ())]
        if not level:
            return
    raise ScenarioError(source, [(field, f"nested too deeply (at most {MAX_NESTING} levels)")])


_NOUNS = {
    "gates": "gate",
    "bases": "base",
    "fleets": "fleet",
    "cohorts": "cohort",
    "spots": "ramp size class",
    "reference": "reference figure",
    "uncertain": "uncertain key",
    "disruptions": "disruption",
    "retrograde": "withdrawal",
}
"""What one entry of each named collection (or list) is called in error messages."""


@dataclass(frozen=True)
class _Union:
    """Models told apart by the value of one field (``disruptions``: by ``kind``)."""

    field: str
    members: dict[str, type[BaseModel]]

    def fields_of(self, node: Any) -> dict[str, FieldInfo]:
        """The fields of the member ``node`` is (by its tag); of every member if its tag names none."""
        tag = node.get(self.field) if isinstance(node, Mapping) else None
        return self.every_field() if tag not in self.members else _fields("model", self.members[tag], node)

    def every_field(self) -> dict[str, FieldInfo]:
        """The fields of every member (an override may set ``value`` before it sets the ``kind`` that has one)."""
        return {name: f for m in self.members.values() for name, f in _fields("model", m, None).items()}


def _tagged_union(ann: Any) -> _Union | None:
    """The union of models an annotated type is, if it names the field that tells them apart."""
    field = next((m.discriminator for m in typing.get_args(ann)[1:] if isinstance(m, FieldInfo) and m.discriminator), None)
    models = typing.get_args(typing.get_args(ann)[0])
    if not isinstance(field, str) or not models or not all(isinstance(m, type) and issubclass(m, BaseModel) for m in models):
        return None
    return _Union(field, {typing.get_args(m.model_fields[field].annotation)[0]: m for m in models})


def _node_kind(ann: Any) -> tuple[str, Any]:
    """``("model", cls)``, ``("union", _Union)``, ``("map", value type)``, ``("list", element type)``,
    ``("either", cls)`` (one table of a model or a list of them) or ``("value", None)``."""
    if typing.get_origin(ann) is Annotated and (union := _tagged_union(ann)) is not None:
        return "union", union
    while typing.get_origin(ann) is Annotated:
        ann = typing.get_args(ann)[0]
    if typing.get_origin(ann) in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if len(args) == 2 and (one := _table_or_list(*args)) is not None:
            return "either", one
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


def _table_or_list(first: Any, second: Any) -> type[BaseModel] | None:
    """The model of a key written either as one table of it or as a list of such tables (``retrograde``)."""
    one, many = _node_kind(first), _node_kind(second)
    return one[1] if one[0] == "model" and many == ("list", _bare(one[1])) else None


def _bare(ann: Any) -> Any:
    while typing.get_origin(ann) is Annotated:
        ann = typing.get_args(ann)[0]
    return ann


def _fields(kind: str, typ: Any, node: Any) -> dict[str, FieldInfo]:
    """The fields of a model node (of the member it is, for a union), by their names in TOML."""
    if kind == "union":
        fields: dict[str, FieldInfo] = typ.fields_of(node)
        return fields
    return {f.alias or n: f for n, f in typ.model_fields.items()}


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


@dataclass
class _Walk:
    """Where the walk down a dotted key stands: the node reached, how its children are typed, and
    what one of its entries is called."""

    key: str
    parts: list[str]
    source: str
    node: Any
    kind: str
    typ: Any
    noun: str = "name"
    i: int = 0

    def where(self) -> str:
        return ".".join(self.parts[: self.i]) or "the scenario"

    def refuse(self, message: str) -> ScenarioError:
        return ScenarioError(self.source, [(self.key, message)])


def _apply_one(raw: dict[str, Any], key: str, value: Any, source: str, schema: type[BaseModel]) -> None:
    walk = _Walk(key, key.split("."), source, raw, "model", schema)
    slot: str | int
    while True:
        if walk.kind in ("model", "union"):
            slot, child_kind, child_typ = _model_slot(walk)
        elif walk.kind == "map":
            slot, child_kind, child_typ = _map_slot(walk)
        elif walk.kind == "list":
            slot, child_kind, child_typ = _list_slot(walk)
        else:
            raise walk.refuse(f"{walk.where()} is a value, not a table")
        current = walk.node.get(slot) if walk.kind in ("model", "union") else walk.node[slot]
        if child_kind == "either":  # one table or a list of them: as it is written now
            child_kind = "list" if isinstance(current, list | tuple) else "model"
        if walk.i == len(walk.parts):
            _check_table(value, current, child_kind, child_typ, key, source)
            walk.node[slot] = thaw(value)
            return
        walk.node, walk.kind, walk.typ = _child_node(walk, slot, current, child_kind), child_kind, child_typ


def _child_node(walk: _Walk, slot: Any, current: Any, child_kind: str) -> Any:
    """The node below ``slot``, made ready to walk into (an absent table created, a tuple thawed)."""
    if current is None and child_kind == "model":
        current = walk.node[slot] = {}
    elif isinstance(current, tuple):
        current = walk.node[slot] = list(current)
    if (
        child_kind in ("model", "union", "map")
        and not isinstance(current, dict)
        or child_kind == "list"
        and not isinstance(current, list)
    ):
        raise walk.refuse(f"{walk.where()} is a value, not a table")
    return current


def _model_slot(walk: _Walk) -> tuple[str, str, Any]:
    """A key of the schema: the field, and how its value is typed."""
    fields = _fields(walk.kind, walk.typ, walk.node)
    part = walk.parts[walk.i]
    if part not in fields and walk.kind == "union":
        fields = {**fields, **walk.typ.every_field()} if part in walk.typ.every_field() else fields
    if part not in fields:
        raise walk.refuse(f"unknown key {part!r} in {walk.where()} (known: {known_names(fields)})")
    walk.noun = _NOUNS.get(part, "name")
    walk.i += 1
    child_kind, child_typ = _node_kind(fields[part].annotation)
    return part, child_kind, child_typ


def _map_slot(walk: _Walk) -> tuple[str, str, Any]:
    """A named entry of a table; names may hold dots (``reference``, ``uncertain``): the longest that exists."""
    parts, i, node = walk.parts, walk.i, walk.node
    j = next((j for j in range(len(parts), i, -1) if ".".join(parts[i:j]) in node), None)
    if j is None:
        # the unknown name is then all that is left, or all but the field of the entry it would name
        if _node_kind(walk.typ)[0] == "value":
            name = ".".join(parts[i:])
        elif any("." in str(k) for k in node) and len(parts) - i > 1:
            name = ".".join(parts[i:-1])
        else:
            name = parts[i]
        raise walk.refuse(f"unknown {walk.noun} {name!r} in {walk.where()} (known: {known_names(node)})")
    walk.i = j
    child_kind, child_typ = _node_kind(walk.typ)
    return ".".join(parts[i:j]), child_kind, child_typ


def _list_slot(walk: _Walk) -> tuple[int, str, Any]:
    """An element of a list, by its index."""
    part = walk.parts[walk.i]
    if not part.isdigit() or int(part) >= len(walk.node):
        have = f"indexes 0 to {len(walk.node) - 1}" if walk.node else "the list is empty"
        what = walk.noun if walk.noun != "name" else "element"
        raise walk.refuse(f"no {what} {part!r} in {walk.where()} ({have})")
    walk.i += 1
    child_kind, child_typ = _node_kind(walk.typ)
    return int(part), child_kind, child_typ


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
    elif kind in ("model", "union"):
        fields = _fields(kind, typ, value)
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


ABSENT = object()
"""What :func:`raw_value` returns for a key that is not there."""


def raw_value(raw: Any, key: str) -> Any:
    """The value at a dotted key of a raw scenario mapping (list elements by index), or :data:`ABSENT`."""
    node = raw
    for part in key.split("."):
        if isinstance(node, list | tuple) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return ABSENT
    return node
