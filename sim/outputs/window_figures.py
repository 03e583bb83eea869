"""The security-window curve as a figure: people evacuated and stranded against the security end,
everyone and each cohort in its own panel (each on its own scale), from the table of
:func:`sim.analysis.security_window.window_curve`. Never runs a simulation.

Each panel draws, for evacuated (blue) and stranded (vermilion): the median of single
replications (line), the 5-95% of the per-setting means across plausible settings (dark band,
with an ensemble) and the 5-95% of single replications (light band). The legend sits below the
panels, outside every axes, so it never hides a line.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter

from sim.outputs.run_figures import thousands

__all__ = ["security_window_curve", "WINDOW_CURVE", "COLOURS"]

WINDOW_CURVE = "security_window_curve"
"""The file stem a sweep of ``security.end`` saves the curve (``.png``) and its numbers (``.csv``) as."""
COLOURS = {"evacuated": "#0072B2", "stranded": "#D55E00"}
"""Blue and vermilion (Okabe-Ito): told apart with every common colour-vision deficiency."""
_SETTINGS_ALPHA, _REPLICATIONS_ALPHA = 0.35, 0.13
_REFERENCE_STYLE: dict[str, Any] = {"color": "#333333", "ls": ":", "lw": 1.2}


def _date_axis(ax: Any, ends: Any, start: datetime | None) -> None:
    """Ticks at the ends swept (every other one, or fewer, so that at most four are labelled), as days
    after start or, when the start is known, as dates (with the local time when not all are whole days)."""
    ends = np.unique(np.asarray(ends, dtype=float))
    ax.xaxis.set_major_locator(FixedLocator(ends[:: max(1, -(-len(ends) // 4))]))
    ax.tick_params(axis="x", labelsize=8)
    whole_days = bool(np.all(np.mod(ends, 1) == 0))
    if start is not None:
        shown = "%d %b" if whole_days else "%d %b\n%H:%M"
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{start + timedelta(days=float(x)):{shown}}"))


def _panel(ax: Any, curve: Any, key: str, cohort: str) -> None:
    """One cohort's evacuated and stranded curves with their bands."""
    for metric, colour in COLOURS.items():
        rows = curve[(curve["cohort"] == cohort) & (curve["metric"] == metric)].sort_values(key)
        if rows.empty:
            continue
        x = rows[key].to_numpy(dtype=float)
        ax.fill_between(x, rows["p5"], rows["p95"], color=colour, alpha=_REPLICATIONS_ALPHA, lw=0)
        if rows["settings_p5"].notna().all():
            ax.fill_between(x, rows["settings_p5"], rows["settings_p95"], color=colour, alpha=_SETTINGS_ALPHA, lw=0)
        ax.plot(x, rows["p50"], color=colour, marker="o", ms=3, lw=1.6, label=metric)
    ax.set_title("everyone" if cohort == "all" else cohort.replace("_", " "), fontsize=10)
    ax.set_ylim(bottom=0)
    thousands(ax.yaxis)
    ax.grid(alpha=0.3)


def _legend_handles(curve: Any, reference: str | None) -> list[Any]:
    """The two lines and the bands, in words (the band without an ensemble is chance alone), and the
    scenario's own end (``reference``: its label) when it is drawn."""
    n = int(curve["replications"].max())
    settings = int(curve["settings"].max())
    with_settings = bool(curve["settings_p5"].notna().any()) and settings > 1
    handles: list[Any] = [
        Line2D([], [], color=COLOURS["evacuated"], marker="o", ms=3, label=f"evacuated: median of {n} replications"),
        Line2D([], [], color=COLOURS["stranded"], marker="o", ms=3, label=f"stranded: median of {n} replications"),
    ]
    grey = "#555555"
    if with_settings:
        handles.append(Patch(color=grey, alpha=_SETTINGS_ALPHA, label=f"5–95% of the {settings} plausible settings' means"))
        single = "5–95% of single replications (chance and settings)"
    else:
        single = "5–95% of single replications (chance)"
    handles.append(Patch(color=grey, alpha=_REPLICATIONS_ALPHA, label=single))
    if reference:
        handles.append(Line2D([], [], **_REFERENCE_STYLE, label=reference))
    return handles


def security_window_curve(
    curve: Any,
    key: str = "security.end",
    start: datetime | None = None,
    title: str | None = None,
    scenario_end: float | None = None,
) -> Figure:
    """The curve of ``curve`` (a :func:`~sim.analysis.security_window.window_curve` table, ``key`` in days
    after ``start``): everyone first, then each cohort, up to four panels a row. ``scenario_end``: the
    swept scenario's own end (days after ``start``), marked by a dotted line when within the sweep."""
    cohorts = list(dict.fromkeys(curve["cohort"]))
    ncols = min(4, max(1, len(cohorts)))
    nrows = max(1, -(-len(cohorts) // ncols))
    fig = Figure(figsize=(max(6.6, 3.3 * ncols), 1.5 + 2.5 * nrows), layout="constrained")  # wide enough for the legend
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, squeeze=False))
    ends = curve[key].to_numpy(dtype=float)
    marked = scenario_end is not None and ends.min() <= scenario_end <= ends.max()
    for i, (ax, cohort) in enumerate(zip(axes.ravel(), cohorts)):
        if marked:
            ax.axvline(scenario_end, **_REFERENCE_STYLE, zorder=1)
        _panel(ax, curve, key, cohort)
        _date_axis(ax, curve[key], start)
        lowest = i + ncols >= len(cohorts)  # the lowest panel of each column keeps its dates and says what they are
        ax.xaxis.set_tick_params(labelbottom=lowest)
        if lowest:
            ax.set_xlabel("security end (date)" if start is not None else f"{key} (days after start)", fontsize=9)
    for ax in axes.ravel()[len(cohorts) :]:
        ax.set_visible(False)
    fig.supylabel("people (each panel its own scale)", fontsize=9)
    fig.suptitle(title or "People evacuated and stranded against the day security ends", fontsize=11)
    reference = None
    if marked and scenario_end is not None:
        when = f"{start + timedelta(days=scenario_end):%d %b}" if start is not None else f"day {scenario_end:g}"
        reference = f"the scenario's own security end ({when})"
    handles = _legend_handles(curve, reference)
    columns = min(-(-len(handles) // 2), max(2, ncols))  # two rows, fewer columns than panels a row
    fig.legend(handles=handles, loc="outside lower center", ncols=columns, fontsize=8, frameon=False)
    return fig
