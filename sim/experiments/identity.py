"""What tells experiments' inputs apart: a scenario's hash, its values as flat dotted keys, and the
plain Python value of a table cell. The one home of these helpers for every layer above."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sim.description.scenario import Scenario

__all__ = ["scenario_hash", "flat_keys", "plain"]


def scenario_hash(scenario: Scenario | Mapping[str, Any]) -> str:
    """16 hex digits identifying a resolved scenario (a :class:`Scenario`, or its JSON dump as a
    manifest or ``summary.json`` saves it): what a sweep's manifest holds as ``scenario_hash``."""
    raw = scenario.model_dump(mode="json", by_alias=True) if isinstance(scenario, Scenario) else scenario
    return hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()[:16]


def _index_lists(node: Any) -> Any:
    """Lists of tables become tables keyed by each element's ``name`` where it has one, else by position
    (``disruptions.abbey_bombing.end``, ``gates.abbey.closed.0.end``), as overrides name them: a list
    with an element removed then differs in that element only."""
    if isinstance(node, Mapping):
        return {str(k): _index_lists(v) for k, v in node.items()}
    if isinstance(node, list) and node and all(isinstance(x, Mapping) for x in node):
        return {x["name"] if isinstance(x.get("name"), str) else str(i): _index_lists(x) for i, x in enumerate(node)}
    return node


def flat_keys(tree: Mapping[str, Any]) -> dict[str, Any]:
    """A nested mapping (e.g. a scenario's JSON dump) as ``{dotted key: value}``, by
    :func:`pandas.json_normalize`; list elements that are tables are reached by name, else by index."""
    import pandas as pd

    indexed = _index_lists(tree)
    if not indexed:
        return {}
    records: list[dict[str, Any]] = pd.json_normalize(indexed, sep=".").to_dict(orient="records")
    return {str(k): plain(v) for k, v in records[0].items()}


def plain(value: Any) -> Any:
    """A NumPy scalar (what a pandas cell holds) as the Python number it stands for; anything else as it is."""
    return value.item() if hasattr(value, "item") else value
