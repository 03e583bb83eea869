"""Figures of sweeps, from their tables. Never runs a simulation.

A metric against one swept key (mean with its 95% band), two keys as a heat map when the points
form a grid or as a scatter coloured by the metric when they do not (a Latin hypercube), people
and people stranded by cohort as small multiples (one cohort would dwarf the rest on a shared
axis). Axes are labelled in words with their unit and thousands separators. (Capacity curves and
comparisons: :mod:`sim.outputs.compare_figures`.)
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import matplotlib
import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.outputs.run_figures import thousands
from sim.statistics import point_summary

__all__ = [
    "metric_label",
    "key_label",
    "sweep_metric",
    "sweep_heatmap",
    "sweep_scatter",
    "stranded_by_cohort_vs",
    "sweep_figures",
    "is_grid",
    "figure_names",
    "capacity_curve_name",
    "whole_steps",
]

_WORDS = {
    "evacuated_total": "people evacuated",
    "stranded_total": "people stranded",
    "stranded_never_arrived": "people stranded who never reached the perimeter",
    "stranded_at_gates": "people stranded at the entry points",
    "stranded_at_gates_in_crowd": "people stranded waiting outside the entry points",
    "stranded_at_gates_gave_up": "people stranded who gave up at the entry points",
    "stranded_airfield": "people stranded inside the perimeter",
    "stranded_turned_back": "people stranded who turned back on the way",
    "did_not_travel_total": "people who did not travel (not stranded)",
    "population_total": "people in the scenario",
    "departures_total": "departures",
    "peak_day_evacuated": "people evacuated on the peak day",
    "mean_load_factor": "mean load factor (share of seats)",
    "mean_evacuees_per_departure": "evacuees per departure",
    "gate_wait_mean_hours": "mean wait to be screened (hours)",
    "gate_wait_p95_hours": "95th-percentile wait to be screened (hours)",
    "troops_flown": "troops flown out",
    "troops_stranded": "troops left behind",
    "holding_peak_people": "peak people in the holding area",
}
_WHERE_STRANDED = {
    "never_arrived": "never reached the perimeter",
    "at_gates": "at the entry points",
    "airfield": "inside the perimeter",
    "turned_back": "turned back on the way",
}
"""Where a cohort's stranded were (the tail of ``cohort.<cohort>.stranded_<where>``), in words."""
_PATTERNS = (
    (r"cohort\.(.+)\.people", "people in cohort {}"),
    (r"cohort\.(.+)\.evacuated", "{} evacuated (people)"),
    (r"cohort\.(.+)\.stranded", "{} stranded (people)"),
    (r"cohort\.(.+)\.stranded_(.+)", "{} stranded: {} (people)"),
    (r"operator\.(.+)\.evacuated", "people evacuated by {}"),
    (r"operator\.(.+)\.departures", "departures by {}"),
    (r"base\.(.+)\.received", "people received at {}"),
    (r"limit\.(.+)_hours", "hours waited for {}"),
)


def metric_label(metric: str) -> str:
    """A metric's name in words, with its unit (``"people stranded"``)."""
    if metric in _WORDS:
        return _WORDS[metric]
    for pattern, words in _PATTERNS:
        m = re.fullmatch(pattern, metric)
        if m:
            return words.format(*(_WHERE_STRANDED.get(g, g.replace("_", " ")) for g in m.groups()))
    return metric


def key_label(key: str, is_time: bool = False) -> str:
    """A swept key on an axis: its dotted name, with the unit where it is not in the name (a time:
    days after start)."""
    if key == "security.end":
        return "security end (days after start, and the date)"
    if is_time:
        return f"{key} (days after start, and the date)"
    if key.startswith("ramp.spots."):
        return f"{key} (parking spots)"
    if key.endswith(".lanes") or ".lane_schedule." in key:
        return f"{key} (screening lanes)"
    return key


def _day_axis(ax: Any, key: str, start: datetime | None, is_time: bool = False) -> None:
    """With a start, label days of ``security.end`` (or of another time key) with their dates too ("17 / 31 Aug")."""
    if not (is_time or key == "security.end") or start is None:
        return
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}\n{start + timedelta(days=float(x)):%d %b}"))


def whole_steps(ax: Any, values: Any) -> None:
    """Whole-number ticks on the x axis when every swept value is a whole number (aircraft, lanes,
    spots): no tick at 1.5 aircraft."""
    arr = np.asarray(values, dtype=float)
    if arr.size and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _title(text: str, width: int = 60) -> str:
    return "\n".join(textwrap.wrap(text, width))


def sweep_metric(df: Any, key: str, metric: str, start: datetime | None = None, is_time: bool = False) -> Figure:
    """A metric against one swept key (``is_time``: in days after ``start``): mean over replications
    with its 95% interval."""
    ps = point_summary(df, [key], metric).sort_values(key)
    n = int(ps["n"].max())
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(ps[key], ps["mean"], marker="o", color="#0072B2", label=f"mean of {n} replications")
    if n > 1:
        ax.fill_between(ps[key], ps["ci95_low"], ps["ci95_high"], color="#0072B2", alpha=0.2, lw=0, label="95% interval")
    ax.set_xlabel(key_label(key, is_time))
    ax.set_ylabel(metric_label(metric))
    thousands(ax.yaxis)
    ax.set_title(_title(f"{metric_label(metric).capitalize()} against {key}"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    whole_steps(ax, ps[key])
    _day_axis(ax, key, start, is_time)
    return fig


def _ink(rgba: Any) -> str:
    """Black or white, whichever reads better on a cell of this colour (WCAG relative luminance)."""
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(tuple(rgba)[:3])]
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return "black" if (lum + 0.05) / 0.05 > 1.05 / (lum + 0.05) else "white"


def is_grid(df: Any, keys: Sequence[str]) -> bool:
    """Whether the points fill the grid of their keys' values (else: a Latin hypercube, or a
    subset of a grid)."""
    points = df[list(keys)].drop_duplicates()
    return len(points) == int(np.prod([df[k].nunique() for k in keys]))


def sweep_heatmap(df: Any, x: str, y: str, metric: str) -> Figure:
    """Mean of a metric over a grid of two swept keys, the number written in each cell."""
    table = df.groupby([y, x])[metric].mean().unstack(x).sort_index()
    fig = Figure(figsize=(7, 5.2), layout="constrained")
    ax = fig.add_subplot()
    cmap = matplotlib.colormaps["viridis"]
    im = ax.imshow(table.to_numpy(), origin="lower", aspect="auto", cmap=cmap)
    ax.set_xticks(range(len(table.columns)), [f"{v:g}" for v in table.columns])
    ax.set_yticks(range(len(table.index)), [f"{v:g}" for v in table.index])
    ax.set_xlabel(key_label(x))
    ax.set_ylabel(key_label(y))
    for (i, j), v in np.ndenumerate(table.to_numpy()):
        ax.text(j, i, f"{v:,.0f}", ha="center", va="center", color=_ink(cmap(im.norm(v))), fontsize=8)
    bar = fig.colorbar(im, ax=ax, label=f"{metric_label(metric)} (mean)")
    thousands(bar.ax.yaxis)
    n = int(df.groupby([y, x]).size().max())
    ax.set_title(_title(f"{metric_label(metric).capitalize()} (mean of {n} replications), by {y} and {x}"), fontsize=10)
    return fig


def sweep_scatter(df: Any, x: str, y: str, metric: str) -> Figure:
    """Points that do not form a grid (a Latin hypercube): each point where it was run, coloured
    by the mean of the metric there."""
    ps = point_summary(df, ["point", x, y] if "point" in df.columns else [x, y], metric)
    fig = Figure(figsize=(7, 5.2), layout="constrained")
    ax = fig.add_subplot()
    sc = ax.scatter(ps[x], ps[y], c=ps["mean"], cmap="viridis", s=60, edgecolors="black", linewidths=0.4)
    bar = fig.colorbar(sc, ax=ax, label=f"{metric_label(metric)} (mean)")
    thousands(bar.ax.yaxis)
    ax.set_xlabel(key_label(x))
    ax.set_ylabel(key_label(y))
    ax.grid(alpha=0.3)
    n = int(ps["n"].max())
    ax.set_title(
        _title(f"{metric_label(metric).capitalize()} at {len(ps)} sampled points (mean of {n} replications)"), fontsize=10
    )
    return fig


def stranded_by_cohort_vs(df: Any, key: str, start: datetime | None = None, is_time: bool = False) -> Figure:
    """The headline plot: people stranded against a swept key, one panel per cohort, each on its
    own scale (on one axis the largest cohort hides the others), with 95% bands."""
    cohorts = [c[len("cohort.") : -len(".stranded")] for c in df.columns if c.startswith("cohort.") and c.endswith(".stranded")]
    ncols = min(3, max(1, len(cohorts)))
    nrows = max(1, -(-len(cohorts) // ncols))
    fig = Figure(figsize=(3.6 * ncols, 1.2 + 2.6 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, squeeze=False)).ravel()
    for ax, c in zip(axes, cohorts):
        ps = point_summary(df, [key], f"cohort.{c}.stranded").sort_values(key)
        ax.plot(ps[key], ps["mean"], marker="o", ms=3, color="#D55E00")
        if int(ps["n"].max()) > 1:
            ax.fill_between(ps[key], ps["ci95_low"], ps["ci95_high"], color="#D55E00", alpha=0.2, lw=0)
        ax.set_title(c.replace("_", " "), fontsize=10)
        ax.set_ylim(bottom=0)
        thousands(ax.yaxis)
        ax.grid(alpha=0.3)
        whole_steps(ax, ps[key])
        _day_axis(ax, key, start, is_time)
    for ax in axes[len(cohorts) :]:
        ax.set_visible(False)
    fig.supxlabel(key_label(key, is_time), fontsize=9)
    fig.supylabel("people stranded (each panel its own scale)", fontsize=9)
    n = int(df.groupby(key).size().max()) if len(df) else 0
    fig.suptitle(f"People stranded by cohort against {key} (mean of {n}; band: 95% interval)", fontsize=11)
    return fig


def sweep_figures(
    df: Any, keys: list[str], metrics: list[str], start: datetime | None = None, time_keys: Sequence[str] = ()
) -> dict[str, Figure]:
    """The standard figures of a sweep, by file stem (``start``: the scenario start, for dates;
    ``time_keys``: keys swept as times, given in ``df`` as days after start). Keys whose values are
    not numbers have no figure. Every stem is one of :func:`figure_names`."""
    figs: dict[str, Figure] = {}
    numeric = [k for k in keys if np.issubdtype(df[k].dtype, np.number)]
    if len(numeric) >= 1:
        figs[f"stranded_by_cohort_vs_{numeric[0]}"] = stranded_by_cohort_vs(df, numeric[0], start, numeric[0] in time_keys)
    if len(numeric) == 1:
        for m in metrics:
            figs[f"{m}_vs_{numeric[0]}"] = sweep_metric(df, numeric[0], m, start, numeric[0] in time_keys)
    elif len(numeric) >= 2:
        grid = is_grid(df, numeric[:2])
        for m in metrics:
            if grid:
                figs[f"{m}_heatmap"] = sweep_heatmap(df, numeric[0], numeric[1], m)
            else:
                figs[f"{m}_scatter"] = sweep_scatter(df, numeric[0], numeric[1], m)
    return figs


def capacity_curve_name(key: str) -> str:
    """The file a sweep saves the capacity curve along ``key`` as."""
    return f"capacity_curve_{key}.png"


def figure_names(keys: Sequence[str], metrics: Sequence[str]) -> set[str]:
    """Every file name a figure of a sweep over ``keys`` reporting ``metrics`` may have: what
    :func:`sweep_figures` and the capacity curves are saved as (and nothing a user would name a file)."""
    names = {f"{m}_{kind}.png" for m in metrics for kind in ("heatmap", "scatter")}
    for key in keys:
        names |= {f"stranded_by_cohort_vs_{key}.png", capacity_curve_name(key), *(f"{m}_vs_{key}.png" for m in metrics)}
    return names
