"""Figures of a sensitivity analysis, from the ``sensitivity.csv`` table only (never runs a model).

Morris: mu* against sigma per parameter, with mu*'s bootstrap interval as a horizontal bar; the
leading parameters carry their rank beside the point and their name in a key. Sobol: first-order
and total indices per parameter, with their intervals.
"""

from __future__ import annotations

from typing import Any

__all__ = ["sensitivity_figures", "LABELLED"]

LABELLED = 12
"""Parameters shown by name: the most influential ones (the others are grey dots or left out)."""


def _short(name: str) -> str:
    return name.replace("cohorts.", "").replace("fleets.", "").replace("bases.", "").replace(".0.value", "[1]")


_OFFSETS = [
    (1, 1),
    (-1, 1),
    (1, -1),
    (-1, -1),
    (0, 1.3),
    (0, -1.3),
    (1.4, 0),
    (-1.4, 0),
    (0.5, 1.2),
    (-0.5, 1.2),
    (0.5, -1.2),
    (-0.5, -1.2),
    (1.2, 0.5),
    (-1.2, 0.5),
    (1.2, -0.5),
    (-1.2, -0.5),
]
"""Directions tried, in order, for a rank number beside its point (above first: the interval bars
run left and right of the points)."""


_LEADER = {"arrowstyle": "-", "lw": 0.6, "color": "C0", "shrinkA": 4, "shrinkB": 3}


def _number(ax: Any, i: int, xy: tuple[float, float], offset: tuple[float, float], leader: bool) -> Any:
    """Rank ``i`` at ``offset`` points from ``xy``; kept out of the layout (placed after it)."""
    ann = ax.annotate(str(i), xy, xytext=offset, textcoords="offset points", ha="center", va="center", fontsize=8,
                      color="C0", fontweight="bold", arrowprops=_LEADER if leader else None)  # fmt: skip
    ann.set_in_layout(False)
    return ann


def _rank_numbers(ax: Any, xy: list[tuple[float, float]], half_widths: list[float]) -> list[Any]:
    """Write each point's rank (1, 2, ...) beside it, where it overlaps no other number and no
    labelled point, and if possible no interval bar: the first free place among ``_OFFSETS`` at
    growing distances, greedily in rank order. A number away from its point gets a leader line.
    Needs the final layout, so it draws the figure once."""
    from matplotlib.transforms import Bbox

    fig = ax.figure
    fig.canvas.draw()  # settles the constrained layout: display positions are final from here
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    r = 3.5 * fig.dpi / 72  # marker radius in pixels (markersize 6 points, and a margin)
    centres = ax.transData.transform(xy)
    ends = ax.transData.transform([(x + h, y) for (x, y), h in zip(xy, half_widths, strict=True)])
    taken = [Bbox.from_extents(x - r, y - r, x + r, y + r) for x, y in centres]
    bars = [Bbox.from_extents(2 * x - xe, y - 1, xe, y + 1) for (x, y), (xe, _) in zip(centres, ends, strict=True)]

    def place(i: int, point: tuple[float, float], avoid: list[Any]) -> tuple[Any, Any] | None:
        for dist in (6, 11, 17, 24, 32, 42, 54, 68):
            for dx, dy in _OFFSETS:
                ann = _number(ax, i, point, (dx * dist, dy * dist), leader=False)
                box = ann.get_window_extent(renderer)
                ann.remove()
                inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
                if inside and not any(box.overlaps(t) for t in avoid):
                    return _number(ax, i, point, (dx * dist, dy * dist), leader=dist > 6), box
        return None

    numbers = []
    for i, point in enumerate(xy, start=1):
        found = place(i, point, taken + bars) or place(i, point, taken)
        if found is None:  # nowhere free (an impossible crowd): beside the point regardless
            ann = _number(ax, i, point, (6, 6), leader=False)
            found = ann, ann.get_window_extent(renderer)
        numbers.append(found[0])
        taken.append(found[1])
    return numbers


def _morris(rows: Any, metric: str) -> Any:
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from sim.outputs.run_figures import thousands

    rows = rows.sort_values("mu_star", ascending=False, kind="stable")
    fig, ax = plt.subplots(figsize=(11, 6.5), layout="constrained")
    top = rows.head(LABELLED)
    rest = rows.iloc[LABELLED:]
    ax.scatter(rest["mu_star"], rest["sigma"], s=14, color="0.7", label=f"{len(rest)} other parameters" if len(rest) else None)
    ax.errorbar(top["mu_star"], top["sigma"], xerr=top["mu_star_conf"], fmt="o", color="C0", ecolor="C0", alpha=0.8, capsize=2,
                label="μ* with its 95% bootstrap interval")  # fmt: skip
    hi = max(float(rows["mu_star"].max()), float(rows["sigma"].max()), 1e-9) * 1.1
    ax.plot([0, hi], [0, hi], ls=":", color="0.5", lw=1, label="σ = μ* (non-linear or interacting above)")
    ax.set_xlim(0, max(hi, float((rows["mu_star"] + rows["mu_star_conf"]).max())) * 1.15)
    ax.set_ylim(0, hi)
    ax.set_xlabel(f"μ*: mean absolute elementary effect on {metric} (per move across the range)")
    ax.set_ylabel("σ: spread of the elementary effects")
    thousands(ax.xaxis)
    thousands(ax.yaxis)
    ax.set_title(f"Morris screening: {metric}")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    # names in a key beside the axes, numbers by the points: the leading points often crowd
    # together, where names written beside them would overlap
    blank = [Line2D([], [], ls="") for _ in range(len(top))]
    names = [f"{i:>2}  {_short(p)}" for i, p in enumerate(top["parameter"], start=1)]
    fig.legend(blank, names, loc="outside right upper", fontsize=8, handlelength=0, handletextpad=0,
               title="rank by μ*", title_fontsize=8, frameon=False)  # fmt: skip
    xy = list(zip(top["mu_star"].astype(float), top["sigma"].astype(float), strict=True))
    _rank_numbers(ax, xy, top["mu_star_conf"].astype(float).tolist())
    return fig


def _sobol(rows: Any, metric: str) -> Any:
    import matplotlib.pyplot as plt
    import numpy as np

    rows = rows.sort_values("ST", ascending=False).head(LABELLED)
    y = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.45 * len(rows)), layout="constrained")
    ax.barh(y - 0.2, rows["S1"], 0.4, xerr=rows["S1_conf"], capsize=2, label="S1: first order (alone)", color="C0")
    ax.barh(y + 0.2, rows["ST"], 0.4, xerr=rows["ST_conf"], capsize=2, label="ST: total (with interactions)", color="C1")
    ax.set_yticks(y, [_short(p) for p in rows["parameter"]], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel(f"share of the variance of {metric} (95% bootstrap intervals)")
    ax.set_title(f"Sobol indices: {metric}")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig


def sensitivity_figures(table: Any) -> dict[str, Any]:
    """One figure per metric of a ``sensitivity.csv`` table, by file stem (``morris_<metric>``)."""
    figs = {}
    for (metric, method), rows in table.groupby(["metric", "method"], sort=False):
        stem = f"{method}_{str(metric).replace('.', '_')}"
        figs[stem] = _morris(rows, str(metric)) if method == "morris" else _sobol(rows, str(metric))
    return figs
