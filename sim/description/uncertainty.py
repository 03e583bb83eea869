"""Declared uncertainty: a scenario's ``[uncertain]`` table as typed parameters, and samples of them.

Samplers (SALib, :mod:`scipy.stats.qmc`) work on the unit hypercube; this module maps each unit
coordinate to a parameter value through the quantile function (``ppf``) of the parameter's
distribution in :mod:`scipy.stats`, rounding integer parameters within their range. It knows
nothing of running the model: sensitivity analysis and calibration build on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from sim.description.errors import ScenarioError
from sim.description.lookup import uncertain_is_integer
from sim.description.ranges import Uncertain
from sim.description.scenario import Scenario, validate

__all__ = ["Parameter", "parameters", "with_uncertain", "parse_ranges", "to_values", "to_points", "unit_sample"]

Distribution = Literal["uniform", "loguniform", "triangular"]


@dataclass(frozen=True)
class Parameter:
    """One uncertain parameter: its dotted key, range, distribution and whether it is an integer."""

    name: str
    low: float
    high: float
    distribution: Distribution = "uniform"
    mode: float | None = None
    integer: bool = False
    note: str = ""

    def dist(self) -> Any:
        """The frozen :mod:`scipy.stats` distribution sampled. An integer parameter is drawn
        continuously over ``[low - 0.5, high + 0.5]`` and rounded, so each integer of a uniform
        range is equally likely."""
        from scipy import stats

        pad = 0.5 if self.integer else 0.0
        lo, hi = self.low - pad, self.high + pad
        if self.distribution == "loguniform":
            return stats.loguniform(max(lo, self.low / 2), hi)
        if self.distribution == "triangular":
            assert self.mode is not None
            return stats.triang((self.mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
        return stats.uniform(loc=lo, scale=hi - lo)

    def value(self, u: float | np.ndarray) -> np.ndarray:
        """Values at unit-interval quantiles ``u`` (integers rounded and kept within the range)."""
        x = np.asarray(self.dist().ppf(np.clip(u, 0.0, 1.0)), dtype=float)
        if self.integer:
            return np.clip(np.rint(x), self.low, self.high).astype(int)
        return np.clip(x, self.low, self.high)

    def describe(self) -> dict[str, Any]:
        """The parameter as written in a calibration's plan: name, range, distribution, and
        ``integer`` / ``mode`` only when they apply (a resumed calibration compares these)."""
        out: dict[str, Any] = {"name": self.name, "low": self.low, "high": self.high, "distribution": self.distribution}
        if self.integer:
            out["integer"] = True
        if self.mode is not None:
            out["mode"] = self.mode
        return out


def with_uncertain(scenario: Scenario, ranges: Mapping[str, Uncertain | Mapping[str, Any]], source: str = "--vary") -> Scenario:
    """A validated copy of ``scenario`` whose ``[uncertain]`` table gains (or replaces) ``ranges``."""
    raw = scenario.model_dump(mode="python", by_alias=True)
    table = {k: u.model_dump(mode="python") for k, u in scenario.uncertain.items()}
    for key, spec in ranges.items():
        table[key] = spec.model_dump(mode="python") if isinstance(spec, Uncertain) else dict(spec)
    raw["uncertain"] = table
    return validate(raw, source)


def parameters(scenario: Scenario, extra_vary: Mapping[str, Uncertain | Mapping[str, Any]] | None = None) -> list[Parameter]:
    """The scenario's uncertain parameters in table order, with ``extra_vary`` added or replacing.

    Raises :class:`ScenarioError` (naming ``uncertain."KEY"``) for an unknown key or a range the
    key does not accept, and if nothing is uncertain.
    """
    if extra_vary:
        scenario = with_uncertain(scenario, extra_vary)
    if not scenario.uncertain:
        problem = ("uncertain", "no uncertain parameters: add an [uncertain] table or --vary KEY=LO:HI")
        raise ScenarioError(scenario.name, [problem])
    return [
        Parameter(key, float(u.low), float(u.high), u.distribution, None if u.mode is None else float(u.mode),
                  uncertain_is_integer(scenario, key), u.note)
        for key, u in scenario.uncertain.items()
    ]  # fmt: skip


def parse_ranges(items: Sequence[str], source: str = "--vary") -> dict[str, dict[str, float]]:
    """``["gates.abbey.lanes=3:10"]`` -> ``{"gates.abbey.lanes": {"low": 3, "high": 10}}``
    (uniform; integers stay integers)."""
    out: dict[str, dict[str, float]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        parts = text.split(":")
        try:
            if not sep or not key.strip() or len(parts) != 2:
                raise ValueError
            low, high = (int(p) if p.strip().lstrip("-").isdigit() else float(p) for p in parts)
        except ValueError:
            raise ScenarioError(source, [(item, "expected KEY=LO:HI, e.g. gates.abbey.lanes=3:10")]) from None
        out[key.strip()] = {"low": low, "high": high}
    return out


def to_values(params: Sequence[Parameter], unit: np.ndarray) -> np.ndarray:
    """An ``(n, k)`` array of unit-cube samples as parameter values, column by column (float array)."""
    unit = np.atleast_2d(np.asarray(unit, dtype=float))
    if unit.shape[1] != len(params):
        raise ValueError(f"{unit.shape[1]} columns for {len(params)} parameters")
    return np.column_stack([p.value(unit[:, j]) for j, p in enumerate(params)]).astype(float)


def to_points(params: Sequence[Parameter], unit: np.ndarray) -> list[dict[str, int | float]]:
    """Unit-cube samples as sweep points: ``{dotted key: value}`` with Python ints for integer keys."""
    values = to_values(params, unit)
    return [{p.name: int(row[j]) if p.integer else float(row[j]) for j, p in enumerate(params)} for row in values]


def unit_sample(k: int, n: int, seed: int, method: Literal["lhs", "sobol", "random"] = "lhs") -> np.ndarray:
    """``n`` points in the ``k``-dimensional unit cube: a Latin hypercube, a scrambled Sobol'
    sequence (``n`` a power of 2 keeps its balance) or plain random points, from scipy, on a
    named stream of ``seed``."""
    from scipy.stats import qmc

    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x0CE27A1]))
    if method == "lhs":
        return qmc.LatinHypercube(d=k, rng=rng).random(n)
    if method == "sobol":
        return qmc.Sobol(d=k, rng=rng).random(n)
    return rng.random((n, k))
