"""Prior ranges of the parameters a calibration searches, and the map from the unit cube to values.

A :class:`Prior` is a dotted key with a range and a distribution (uniform, log-uniform, triangular)
as declared in a scenario's ``[uncertain]`` table; ``values(u)`` turns quantiles ``u`` in [0, 1)
into parameter values (scipy.stats), keeping integer keys integers: each integer of the range is
equally likely under ``uniform``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from sim.scenario import Scenario

__all__ = ["Prior", "priors_from_scenario", "value_at"]

Distribution = Literal["uniform", "loguniform", "triangular"]


@dataclass(frozen=True)
class Prior:
    """One uncertain parameter: dotted key, range, distribution, and whether it is an integer."""

    name: str
    low: float
    high: float
    integer: bool = False
    distribution: Distribution = "uniform"
    mode: float | None = None

    def values(self, u: NDArray[np.float64]) -> list[Any]:
        """Parameter values at quantiles ``u`` (each in [0, 1))."""
        from scipy import stats

        lo, hi = self.low, self.high
        if self.integer:
            lo, hi = lo - 0.5, hi + 0.5  # each integer gets an equal share of the unit interval
        if self.distribution == "loguniform":
            x = stats.loguniform(max(lo, 1e-12), hi).ppf(u)
        elif self.distribution == "triangular":
            mode = self.mode if self.mode is not None else (self.low + self.high) / 2
            x = stats.triang((mode - lo) / (hi - lo), loc=lo, scale=hi - lo).ppf(u)
        else:
            x = lo + np.asarray(u) * (hi - lo)
        if self.integer:
            return [int(min(max(round(v), self.low), self.high)) for v in x]
        return [float(v) for v in x]

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "low": self.low, "high": self.high, "distribution": self.distribution}
        if self.integer:
            out["integer"] = True
        if self.mode is not None:
            out["mode"] = self.mode
        return out


def value_at(scenario: Scenario, key: str) -> Any:
    """The value of a dotted key in a scenario (list elements by index)."""
    node: Any = scenario.model_dump(mode="python", by_alias=True)
    for part in key.split("."):
        node = node[int(part)] if isinstance(node, list | tuple) else node[part]
    return node


def priors_from_scenario(scenario: Scenario, extra: Mapping[str, tuple[float, float]] | None = None) -> list[Prior]:
    """The scenario's ``[uncertain]`` table as priors (plus ``extra`` uniform ranges by key)."""
    out = []
    table: Mapping[str, Any] = getattr(scenario, "uncertain", None) or {}
    for key, u in table.items():
        now = value_at(scenario, key)
        # an integer key, or a whole-number key whose range is written in integers (a count_schedule step)
        integer = _is_int(now) or (isinstance(now, float) and now.is_integer() and _is_int(u.low) and _is_int(u.high))
        out.append(Prior(key, float(u.low), float(u.high), integer, u.distribution, getattr(u, "mode", None)))
    for key, (lo, hi) in (extra or {}).items():
        now = value_at(scenario, key)
        whole = _is_int(now) or (isinstance(now, float) and now.is_integer())
        integer = whole and _is_int(lo) and _is_int(hi)  # a whole-number key with a range written as integers
        out = [p for p in out if p.name != key] + [Prior(key, float(lo), float(hi), integer)]
    return out


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)
