"""Values of a scenario by dotted name (``disruptions.0.end``, ``disruptions.abbey_bombing.end``), as
overrides, sweeps and the ``[uncertain]`` table name them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sim.description.overrides import ABSENT, key_path, raw_value
from sim.description.scaling import scaled_numbers
from sim.description.scenario import Scenario

__all__ = ["scaled_keys", "uncertain_is_integer", "value_at"]


def value_at(scenario: Scenario, key: str) -> Any:
    """The value of a dotted key in ``scenario`` (list elements by index, e.g. ``disruptions.0.end``).

    Raises :class:`KeyError` naming the key if the scenario has no such key.
    """
    value = raw_value(scenario.model_dump(mode="python", by_alias=True), key)
    if value is ABSENT:
        raise KeyError(key)
    return value


def uncertain_is_integer(scenario: Scenario, key: str) -> bool:
    """Whether an ``[uncertain]`` key is sampled as integers (see :class:`~sim.description.ranges.Uncertain`)."""
    u = scenario.uncertain[key]
    current = raw_value(scenario.model_dump(mode="python", by_alias=True), key)
    if isinstance(current, bool):
        return False
    if isinstance(current, int):
        return True
    return isinstance(current, float) and current.is_integer() and isinstance(u.low, int) and isinstance(u.high, int)


def scaled_keys(scenario: Scenario, keys: Iterable[str]) -> set[str]:
    """Those of ``keys`` whose values the scenario's ``[scale]`` changes (by name or index alike):
    an override of one of them is scaled in turn."""
    if not scenario.scale:
        return set()
    raw = scenario.model_dump(mode="python", by_alias=True)
    scaled = scaled_numbers(raw, scenario.scale, scenario.name, Scenario)
    return {k for k in keys if key_path(raw, k, scenario.name, Scenario) in scaled}
