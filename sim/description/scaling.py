"""Relative changes: a ``[scale]`` table of factors on dotted keys, ``*`` standing for every name
of a table or every element of a list at its level (``"gates.*.lanes" = 2.0``).

A variant that means "more" says how much more instead of an absolute value, so it stays "twice as
many" whatever values lie underneath: the base file's, an override's, a sweep point's, an ensemble
setting's. A factor scales the key's value and the values of its schedule (:data:`SCHEDULES`: the
same quantity later on); integers are rounded half up. This module finds the numbers a table scales
and scales them in a raw scenario mapping; when they are scaled (after loading, after each
override) is :mod:`sim.description.loading`'s and :mod:`sim.description.scenario`'s business.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from sim.description.errors import ScenarioError
from sim.description.overrides import ABSENT, element_named, key_path, raw_value

__all__ = ["SCHEDULES", "Scaled", "apply_scale", "scaled_numbers"]

SCHEDULES = {"lanes": "lane_schedule", "count": "count_schedule", "outflow_per_day": "outflow_schedule"}
"""A key and the schedule of its later values (``{ from = ..., value = ... }`` steps), scaled with it."""


@dataclass(frozen=True)
class Scaled:
    """One number a ``[scale]`` table changes: its dotted key, its factor (the product of every
    pattern naming it) and whether it is a whole number (then the result is rounded)."""

    key: str
    factor: float
    whole: bool


def scaled_numbers(
    raw: dict[str, Any], scale: Mapping[str, float], source: str, schema: type[BaseModel]
) -> dict[tuple[str | int, ...], Scaled]:
    """Every number of a complete raw scenario (a dump) that ``scale`` changes, by its path
    (:func:`~sim.description.overrides.key_path`: one spelling of each key).

    A pattern without ``*`` must name a number; one with ``*`` must match at least one (names whose
    value is absent or not a number, e.g. a fleet without ``surge_seats``, are passed over). Else a
    :class:`ScenarioError` names ``scale."PATTERN"``."""
    found: dict[tuple[str | int, ...], Scaled] = {}
    for pattern, factor in scale.items():
        matched = 0
        for key in _expand(raw, pattern.split("."), []):
            value = raw_value(raw, key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                if "*" not in pattern:
                    raise ScenarioError(source, [(f'scale."{pattern}"', "not a number-valued scenario key")])
                continue
            matched += 1
            for number in _with_schedule(raw, key, isinstance(value, int)):
                path = key_path(raw, number.key, source, schema)
                before = found.get(path)
                product = factor * (before.factor if before else 1.0)
                found[path] = Scaled(number.key, product, number.whole)
        if not matched:
            if "*" not in pattern:
                key_path(raw, pattern, source, schema)  # names what is unknown, listing the known names
            raise ScenarioError(source, [(f'scale."{pattern}"', "matches no number of the scenario")])
    return found


def _expand(node: Any, parts: Sequence[str], done: list[str]) -> Iterator[str]:
    """The dotted keys ``parts`` names in ``node``, ``*`` standing for every name or element (a
    list element by its ``name`` where it has one, else by its index)."""
    if not parts:
        yield ".".join(done)
        return
    part, rest = parts[0], parts[1:]
    if isinstance(node, Mapping):
        names = list(node) if part == "*" else [part] if part in node else []
        for name in names:
            yield from _expand(node[name], rest, [*done, str(name)])
    elif isinstance(node, list | tuple):
        if part == "*":
            indexes: list[int] = list(range(len(node)))
        else:
            index = int(part) if part.isdigit() else element_named(node, part)
            indexes = [index] if index is not None and index < len(node) else []
        for i in indexes:
            label = node[i].get("name") if isinstance(node[i], Mapping) else None
            yield from _expand(node[i], rest, [*done, label if isinstance(label, str) else str(i)])


def _with_schedule(raw: dict[str, Any], key: str, whole: bool) -> list[Scaled]:
    """The key itself and the values of its schedule (:data:`SCHEDULES`), factor left at 1."""
    parent, _, last = key.rpartition(".")
    numbers = [Scaled(key, 1.0, whole)]
    if last in SCHEDULES and parent:
        steps = raw_value(raw, f"{parent}.{SCHEDULES[last]}")
        if steps is not ABSENT and isinstance(steps, list | tuple):
            numbers += [Scaled(f"{parent}.{SCHEDULES[last]}.{i}.value", 1.0, whole) for i in range(len(steps))]
    return numbers


def apply_scale(
    raw: dict[str, Any],
    scale: Mapping[str, float],
    source: str,
    schema: type[BaseModel],
    only: set[tuple[str | int, ...]] | None = None,
) -> None:
    """Multiply, in place, the numbers of a complete raw scenario that ``scale`` changes (those whose
    path is in ``only``, if given: the keys an override has just set). Whole numbers are rounded
    half up (2.5 lanes become 3)."""
    for path, number in scaled_numbers(raw, scale, source, schema).items():
        if only is not None and path not in only:
            continue
        node: Any = raw
        for slot in path[:-1]:
            node = node[slot]
        value = node[path[-1]] * number.factor
        node[path[-1]] = int(math.floor(value + 0.5)) if number.whole else value
