"""The capacity curve of a sweep: what each step of a swept key buys, with paired intervals.

A single least-squares line across a curve that bends misstates it (a large early gain and a
flat tail average to a slope that holds nowhere). So the curve is reported as its **marginal
gains** between consecutive points, each with a paired 95% interval (replication *r* of every
point shares its random numbers, so each replication gives one exact difference); it
**flattens** at the first point from which every further gain is indistinguishable from zero
(its interval contains zero); and a **single slope** (the mean over replications of each
replication's least-squares slope) is given only when a straight line fits: when that slope lies
within every segment's *simultaneous* 95% interval (Bonferroni over the segments, so that a truly
straight curve passes 95% of the time however many points it has), and the curve does not
flatten part-way (gains above noise followed by gains indistinguishable from zero are a bend,
whatever the power of the test). The plot draws those intervals, so the line then visibly
crosses each of them.
This module computes; it runs no simulation, and its figure is drawn by :mod:`sim.outputs.compare_figures`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.statistics import interval_available, mean_ci, scipy_stats, sem

if TYPE_CHECKING:
    from datetime import datetime

    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["CapacityCurve", "capacity_curve", "CRITERIA"]

CRITERIA = (
    "gains: paired 95% Student t intervals of the change between consecutive points; flattens at: the first point "
    "from which every further gain's interval contains zero; a straight line fits when the least-squares slope lies "
    "within every segment's simultaneous 95% interval (Bonferroni over the segments) and the curve does not flatten part-way"
)
"""How the curve is judged, written next to it in JSON outputs."""


@dataclass(frozen=True)
class CapacityCurve:
    """Marginal gains of ``metric`` along ``key``; see the module docstring for the criteria.

    ``gains``: one row per pair of consecutive points: ``from``, ``to``, ``gain`` (mean change of
    the metric) with ``gain_ci95_low``/``gain_ci95_high``, the same per unit of ``key``
    (``per_unit``, ``per_unit_ci95_low``, ``per_unit_ci95_high``), and ``distinguishable`` (the
    interval excludes zero; ``False`` when there is no interval, with one replication), and
    ``per_unit_sim_low``/``per_unit_sim_high`` (the simultaneous interval, Bonferroni over the
    segments) and ``fits_line`` (the least-squares slope lies within it).
    """

    key: str
    metric: str
    replications: int
    points: list[float]
    means: list[float]
    gains: pd.DataFrame
    flattens_at: float | None
    linear: bool | None
    slope: float | None
    slope_ci95_low: float | None
    slope_ci95_high: float | None

    def figure(self, start: datetime | None = None) -> Figure:
        """The curve and its marginal gains as a matplotlib figure (``start``: dates on the axis)."""
        from sim.outputs.compare_figures import capacity_curve_figure

        return capacity_curve_figure(self, start)

    def summary(self) -> dict[str, Any]:
        """The curve as plain data, for JSON (NaN intervals become ``null`` when written)."""
        return {
            "key": self.key,
            "metric": self.metric,
            "replications": self.replications,
            "points": self.points,
            "means": self.means,
            "gains": self.gains.to_dict("records"),
            "flattens_at": self.flattens_at,
            "linear": self.linear,
            "slope": self.slope,
            "slope_ci95_low": self.slope_ci95_low,
            "slope_ci95_high": self.slope_ci95_high,
            "criteria": CRITERIA,
        }

    def describe(self, unit: str | None = None) -> list[str]:
        """The curve in words, one line each (what ``airlift sweep`` prints)."""
        unit = unit or ("day" if self.key == "security.end" else f"unit of {self.key}")
        lines = [f"capacity curve of {self.metric} against {self.key} (paired over {self.replications} replications):"]
        for _, g in self.gains.iterrows():
            ci = (
                f"95% CI {g['per_unit_ci95_low']:+,.0f} to {g['per_unit_ci95_high']:+,.0f}"
                if interval_available(g["per_unit_ci95_low"], g["per_unit_ci95_high"])
                else "95% CI n/a"
            )
            flag = "" if g["distinguishable"] else "   (not distinguishable from zero)"
            lines.append(f"  {g['from']:g} -> {g['to']:g}: {g['per_unit']:+,.0f} per {unit} ({ci}){flag}")
        if self.replications < 2:
            lines.append("  with one replication there are no intervals: flattening and straightness cannot be judged")
            return lines
        if self.flattens_at is None:
            span = f"{self.points[0]:g} and {self.points[-1]:g}"
            lines.append(f"  it does not flatten between {span}: the last gain is still above noise")
        elif self.flattens_at == self.points[0]:
            lines.append(f"  it is flat throughout: no gain is distinguishable from zero from {self.flattens_at:g}")
        else:
            lines.append(f"  it flattens at {self.flattens_at:g}: from there no further gain is distinguishable from zero")
        if self.linear and self.slope is not None:
            lines.append(
                f"  a straight line fits (it crosses every segment's simultaneous interval): {self.slope:+,.0f} per {unit} "
                f"(95% CI {self.slope_ci95_low:+,.0f} to {self.slope_ci95_high:+,.0f}) "
                f"between {self.points[0]:g} and {self.points[-1]:g}"
            )
        elif self.linear is False:
            off = [f"{g['from']:g} -> {g['to']:g}" for _, g in self.gains.iterrows() if not g["fits_line"]]
            why = (
                f"a straight line misses {', '.join(off)} (outside their simultaneous 95% interval)"
                if off
                else "it rises, then flattens"
            )
            lines.append(f"  no single slope: {why}")
        return lines


def capacity_curve(df: pd.DataFrame, key: str = "security.end", metric: str = "evacuated_total") -> CapacityCurve | None:
    """The capacity curve of a sweep table (one row per point and replication), or ``None`` when
    ``key`` takes fewer than two values or its values are not numbers (names, or times as ISO text:
    :func:`sim.experiments.sweeps.times_in_days` gives those as days after start). With other keys
    swept too, each replication's values are averaged over them; replications missing a point
    (failed tasks) are left out."""
    if key not in df.columns or metric not in df.columns or df[key].nunique() < 2 or df[key].dtype.kind not in "biuf":
        return None
    wide = df.pivot_table(index="replication", columns=key, values=metric, aggfunc="mean").sort_index(axis=1).dropna()
    if wide.empty:
        return None
    import pandas as pd

    x = np.asarray(wide.columns, dtype=float)
    y = wide.to_numpy(dtype=float)  # replications x points
    n = y.shape[0]
    rows = _gains(x, y)
    flattens_at = _flattens_at(rows) if n >= 2 else None
    mean_slope, slope_lo, slope_hi = _fit_line(x, y, rows)
    bends_flat = flattens_at is not None and flattens_at != rows[0]["from"]
    linear: bool | None = None if n < 2 else all(row["fits_line"] for row in rows) and not bends_flat
    return CapacityCurve(
        key=key,
        metric=metric,
        replications=n,
        points=[float(v) for v in x],
        means=[float(v) for v in y.mean(axis=0)],
        gains=pd.DataFrame(rows),
        flattens_at=flattens_at,
        linear=linear,
        slope=mean_slope if linear else None,
        slope_ci95_low=slope_lo if linear else None,
        slope_ci95_high=slope_hi if linear else None,
    )


def _gains(x: np.ndarray, y: np.ndarray) -> list[dict[str, Any]]:
    """One row per segment: the paired mean gain with its 95% interval, also per unit of ``x``."""
    dx = np.diff(x)
    diffs = np.diff(y, axis=1)  # paired gains, per replication
    rows = []
    for j in range(len(dx)):
        g, glo, ghi = mean_ci(list(diffs[:, j]))
        rows.append(
            {
                "from": float(x[j]),
                "to": float(x[j + 1]),
                "gain": g,
                "gain_ci95_low": glo,
                "gain_ci95_high": ghi,
                "per_unit": g / dx[j],
                "per_unit_ci95_low": glo / dx[j],
                "per_unit_ci95_high": ghi / dx[j],
                "distinguishable": bool(interval_available(glo, ghi) and (glo > 0 or ghi < 0)),
            }
        )
    return rows


def _flattens_at(rows: list[dict[str, Any]]) -> float | None:
    """The first point from which no further gain is distinguishable from zero (``None``: the last one is)."""
    flattens_at: float | None = None
    for row in reversed(rows):
        if row["distinguishable"]:
            break
        flattens_at = row["from"]
    return flattens_at


def _fit_line(x: np.ndarray, y: np.ndarray, rows: list[dict[str, Any]]) -> tuple[float, float, float]:
    """The mean over replications of each one's least-squares slope, with its 95% interval; each
    row gains its simultaneous interval (Bonferroni over the segments) and ``fits_line``."""
    n = y.shape[0]
    dx = np.diff(x)
    diffs = np.diff(y, axis=1)
    fitted = np.array([np.polyfit(x, y[r], 1)[0] for r in range(n)])  # each replication's own line
    mean_slope, slope_lo, slope_hi = mean_ci(list(fitted))
    tol = 1e-9 * max(1.0, abs(mean_slope))  # rounding of polyfit, not a difference
    t_sim = float(scipy_stats().t.ppf(1 - 0.05 / (2 * len(rows)), n - 1)) if n >= 2 else math.nan
    for j, row in enumerate(rows):
        half = t_sim * sem(list(diffs[:, j] / dx[j]))
        row["per_unit_sim_low"], row["per_unit_sim_high"] = row["per_unit"] - half, row["per_unit"] + half
        row["fits_line"] = bool(row["per_unit_sim_low"] - tol <= mean_slope <= row["per_unit_sim_high"] + tol)
    return mean_slope, slope_lo, slope_hi
