"""Figures of a capacity curve (marginal gains with their intervals) and of a paired comparison
(differences with their intervals). Built without pyplot; never runs a simulation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.outputs.sweep_figures import _day_axis, whole_steps
from sim.outputs.sweep_figures import key_label as _label

__all__ = ["capacity_curve_figure", "compare_differences"]

PEOPLE_ROWS = (
    "evacuated_total",
    "stranded_total",
    "stranded_never_arrived",
    "stranded_turned_back",
    "stranded_at_gates",
    "stranded_airfield",
    "did_not_travel_total",
)
"""The whole-run rows of people drawn by default (those a scenario without registered cohorts lacks, or
has at zero, are left out)."""


def _nobody(d: Mapping[str, Any], name: str) -> bool:
    """A row only registered cohorts fill (turned back, did not travel), empty on both sides."""
    return name in ("stranded_turned_back", "did_not_travel_total") and not (d.get("a_mean") or d.get("b_mean"))


def compare_differences(differences: Mapping[str, Mapping[str, Any]], names: Sequence[str] | None = None) -> Figure:
    """Paired differences B - A with their 95% intervals, one row per metric (``compare.json``'s
    ``differences``); an interval that does not cross zero is a difference the replications can
    tell from noise. Metrics without an interval (one replication) are drawn as points only."""
    if names is None:
        names = [
            n
            for n in differences
            if (n in PEOPLE_ROWS and not _nobody(differences[n], n)) or (n.startswith("cohort.") and n.endswith(".stranded"))
        ]
    rows = [(n, differences[n]) for n in names if n in differences]
    fig = Figure(figsize=(8, 1.3 + 0.45 * max(len(rows), 1)), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(rows))
    mean = np.array([float(d["difference_mean"]) for _, d in rows])
    lo = np.array([np.nan if d.get("ci95_low") is None else float(d["ci95_low"]) for _, d in rows])
    hi = np.array([np.nan if d.get("ci95_high") is None else float(d["ci95_high"]) for _, d in rows])
    ok = np.isfinite(lo) & np.isfinite(hi)
    clear = ok & ((lo > 0) | (hi < 0))
    ax.errorbar(mean[ok], y[ok], xerr=[mean[ok] - lo[ok], hi[ok] - mean[ok]], fmt="none", ecolor="black", capsize=3, lw=1)
    ax.scatter(mean, y, c=np.where(clear, "#0072B2", "#999999"), zorder=3, s=30)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [n for n, _ in rows], fontsize=8)
    ax.invert_yaxis()
    span = float(np.nanmax(np.abs(np.concatenate([mean, lo[ok], hi[ok]])), initial=0.0))
    if span < 1:  # no difference of a whole person: a scale of people, not of hundredths of one
        ax.set_xlim(-1.5, 1.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 10 or v == int(v) else f"{v:,.2g}"))
    ax.set_xlabel("difference B - A (people; bars: paired 95% interval)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("What changes from A to B (blue: the interval excludes zero)", fontsize=10)
    return fig


def capacity_curve_figure(curve: Any, start: datetime | None = None) -> Figure:
    """A :class:`sim.analysis.capacity.CapacityCurve`: above, the mean metric at each point; below, the
    marginal gain per unit between consecutive points with its paired 95% interval (grey: not
    distinguishable from zero), where the curve flattens, and the single slope if a line fits."""
    fig = Figure(figsize=(8, 6), layout="constrained")
    top, low = fig.subplots(2, 1, sharex=True, height_ratios=[1.3, 1])
    top.plot(curve.points, curve.means, marker="o", color="#0072B2")
    top.set_ylabel(f"{curve.metric}\n(mean of {curve.replications} replications)", fontsize=9)
    top.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    top.grid(alpha=0.3)
    g = curve.gains
    mid = ((g["from"] + g["to"]) / 2).to_numpy(dtype=float)
    width = (g["to"] - g["from"]).to_numpy(dtype=float) * 0.8
    per = g["per_unit"].to_numpy(dtype=float)
    lo = g["per_unit_ci95_low"].to_numpy(dtype=float)
    hi = g["per_unit_ci95_high"].to_numpy(dtype=float)
    colours = np.where(g["distinguishable"].to_numpy(dtype=bool), "#0072B2", "#BBBBBB")
    low.bar(mid, per, width=width, color=colours)
    legend = [Patch(color="#0072B2", label="gain above noise"), Patch(color="#BBBBBB", label="not distinguishable from zero")]
    slo = g["per_unit_sim_low"].to_numpy(dtype=float)
    shi = g["per_unit_sim_high"].to_numpy(dtype=float)
    sim_ok = np.isfinite(slo) & np.isfinite(shi)
    low.errorbar(
        mid[sim_ok], per[sim_ok], yerr=[per[sim_ok] - slo[sim_ok], shi[sim_ok] - per[sim_ok]], fmt="none", ecolor="#AAAAAA", lw=4
    )
    ok = np.isfinite(lo) & np.isfinite(hi)
    low.errorbar(mid[ok], per[ok], yerr=[per[ok] - lo[ok], hi[ok] - per[ok]], fmt="none", ecolor="black", capsize=3, lw=1)
    if sim_ok.any():
        legend.append(Patch(color="#AAAAAA", label="simultaneous 95% interval (straight-line test)"))
    low.axhline(0, color="black", lw=0.8)
    if curve.flattens_at is not None:
        for ax in (top, low):
            ax.axvline(curve.flattens_at, color="#D55E00", ls="--", lw=1)
        top.annotate("flattens", (curve.flattens_at, 0.05), xycoords=("data", "axes fraction"), color="#D55E00", fontsize=8)
    unit = "day" if curve.key == "security.end" else "unit"
    if curve.linear and curve.slope is not None:
        legend.append(
            low.axhline(curve.slope, color="#009E73", ls=":", lw=1.5, label=f"one slope fits: {curve.slope:,.0f} per {unit}")
        )
    low.legend(handles=legend, fontsize=8, loc="upper right")
    low.set_ylabel(f"gain per {unit}\n(paired 95% interval)", fontsize=9)
    low.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    low.grid(axis="y", alpha=0.3)
    low.set_xlabel(_label(curve.key))
    whole_steps(low, curve.points)
    _day_axis(low, curve.key, start)
    top.set_title(f"Capacity curve: {curve.metric} against {curve.key}, and what each step adds", fontsize=10)
    return fig
