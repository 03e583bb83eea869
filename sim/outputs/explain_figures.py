"""The figure of ``airlift explain``: a heat map of what relaxing each resource class is worth, by
local day, from the gains table (``explain.csv``). Never runs a simulation."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = ["explain_heatmap", "WHOLE"]

WHOLE = "whole window"
"""The ``day`` of a relaxation over the whole window (as :mod:`sim.analysis.relief` names it)."""


def _day_label(day: str) -> str:
    return "whole\nwindow" if day == WHOLE else date.fromisoformat(day).strftime("%d\n%b")


def _grid(totals: pd.DataFrame, column: str, resources: list[str], days: list[str]) -> np.ndarray:
    table = totals.pivot(index="resource", columns="day", values=column)
    return table.reindex(index=resources, columns=days).to_numpy(dtype=float)


def _annotate(ax: object, gains: np.ndarray, lows: np.ndarray, highs: np.ndarray, norm: TwoSlopeNorm) -> None:
    """Each cell's mean gain; bold where its 95% interval excludes zero."""
    for (i, j), g in np.ndenumerate(gains):
        if math.isnan(g):
            continue
        sure = lows[i, j] > 0 or highs[i, j] < 0
        dark = abs(norm(g) - 0.5) > 0.35
        ax.text(  # type: ignore[attr-defined]
            j,
            i,
            f"{g:+,.0f}" if round(g) else "0",
            ha="center",
            va="center",
            fontsize=7,
            color="white" if dark else "black",
            fontweight="bold" if sure else "normal",
        )


def explain_heatmap(totals: pd.DataFrame, resources: list[str], fraction: float, replications: int) -> Figure:
    """Resources down, the whole window then each local day across; colour and number: mean people
    gained by relaxing that resource by ``fraction`` over that period (bold: interval excludes 0)."""
    days = [WHOLE, *sorted(d for d in totals["day"].unique() if d != WHOLE)]
    gains = _grid(totals, "gain_mean", resources, days)
    lows, highs = _grid(totals, "ci95_low", resources, days), _grid(totals, "ci95_high", resources, days)
    fig = Figure(figsize=(max(7.0, 1.6 + 0.62 * len(days)), 1.6 + 0.5 * len(resources)), layout="constrained")
    axes = fig.subplots(1, 2, width_ratios=[1, max(1, len(days) - 1)], sharey=True)
    # the colour saturates at the widest interval, not the largest mean: a gain within the noise of a
    # small airlift (+2 people, interval -1 to +6) stays pale
    spread = np.concatenate([gains.ravel(), lows.ravel(), highs.ravel()])
    span = float(np.nanmax(np.abs(spread))) if np.isfinite(spread).any() else 1.0
    norm = TwoSlopeNorm(0.0, -max(span, 1.0), max(span, 1.0))
    image = None
    for ax, cols in zip(axes, (slice(0, 1), slice(1, None)), strict=True):
        part = gains[:, cols]
        image = ax.imshow(part, cmap="PuOr", norm=norm, aspect="auto")
        _annotate(ax, part, lows[:, cols], highs[:, cols], norm)
        ax.set_xticks(range(part.shape[1]), [_day_label(d) for d in days[cols]], fontsize=8)
        ax.set_yticks(range(len(resources)), resources)
    axes[1].set_xlabel("relief on this local day only")
    assert image is not None
    bar = fig.colorbar(image, ax=axes, label="people gained (mean)", shrink=0.9)
    bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole people
    fig.suptitle(
        f"People gained by {fraction:.0%} more of each resource\n"
        f"(mean of {replications} paired replications; bold: its 95% interval excludes 0)",
        fontsize=10,
    )
    return fig
