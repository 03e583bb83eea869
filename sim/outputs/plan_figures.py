"""Figures of a planning search, from its candidates (``plan.json``'s ``candidates``). Never runs a simulation.

``plan_probability``: the probability that every goal holds against each lever, with the bounds each
candidate was judged by and the target; ``plan_front`` (several levers): probability against cost, the
candidates that no cheaper one beats joined as the front.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from matplotlib.figure import Figure

from sim.outputs.sweep_figures import key_label

__all__ = ["plan_probability", "plan_front", "plan_figures", "VERDICT_COLOURS"]

VERDICT_COLOURS = {"met": "#009E73", "not met": "#D55E00", "undecided": "#E69F00"}
"""Colour-blind-safe colours of the three verdicts (Okabe–Ito)."""


def _title(text: str) -> str:
    return "\n".join(textwrap.wrap(text, 64))


def _lever_axis(ax: Any, key: str, values: Sequence[Any], start: datetime | None) -> None:
    """Ticks at the lever's values (up to 15 of them); days of ``security.end`` also as the local date
    ("17 / 31 Aug"), with the time of day when it is not midnight."""
    ax.set_xlabel(key_label(key))
    shown = sorted(set(values))
    if len(shown) > 15:
        return
    ax.set_xticks(shown)
    if key == "security.end" and start is not None:
        labels = []
        for v in shown:
            when = start + timedelta(days=float(v))
            labels.append(f"{v:g}\n{when:%d %b}" + (f"\n{when:%H:%M}" if (when.hour, when.minute) != (0, 0) else ""))
        ax.set_xticklabels(labels)
    else:
        ax.set_xticklabels([f"{v:g}" for v in shown])


def _target(ax: Any, target: float) -> None:
    ax.axhline(target, color="black", ls="--", lw=1, label=f"target {target:g}")
    ax.set_ylim(-0.03, 1.03)
    ax.set_ylabel("probability that every goal holds")
    ax.grid(alpha=0.3)


def _bounds(ax: Any, x: Sequence[float], rows: Sequence[Mapping[str, Any]], verdicts: bool = True) -> None:
    """Each candidate's estimate with the lower and upper bounds it was judged by, coloured by verdict."""
    for xi, row in zip(x, rows):
        p, lo, hi = row["probability"], row["probability_low"], row["probability_high"]
        colour = VERDICT_COLOURS.get(row["verdict"], "grey") if verdicts else "grey"
        ax.errorbar([xi], [p], yerr=[[p - lo], [hi - p]], fmt="o", color=colour, capsize=3, ms=5)
        if row.get("chosen"):
            ax.plot([xi], [p], "o", ms=13, mfc="none", mec="black", mew=1.5)
            ax.annotate("choice", (xi, p), textcoords="offset points", xytext=(8, -14), fontsize=8)


def _verdict_legend(ax: Any, target: float) -> None:
    handles = [ax.plot([], [], "o", color=c, label=v)[0] for v, c in VERDICT_COLOURS.items()]
    handles.append(ax.plot([], [], "o", ms=11, mfc="none", mec="black", label="choice")[0])
    _target(ax, target)
    ax.legend(fontsize=8, loc="best")


def plan_probability(
    rows: Sequence[Mapping[str, Any]], keys: Sequence[str], target: float, start: datetime | None = None
) -> Figure:
    """The probability that every goal holds against each lever: one panel per lever. With one lever
    every candidate is a point with its bounds; with several, a panel shows at each value of its
    lever the best candidate over the other levers (its bounds) and the others as faint dots."""
    fig = Figure(figsize=(7, 4.2 if len(keys) == 1 else 3.4 * len(keys)), layout="constrained")
    for i, key in enumerate(keys):
        ax = fig.add_subplot(len(keys), 1, i + 1)
        if len(keys) == 1:
            ordered = sorted(rows, key=lambda r: r["levers"][key])
            _bounds(ax, [r["levers"][key] for r in ordered], ordered)
        else:
            best: dict[Any, Mapping[str, Any]] = {}
            for r in rows:
                v = r["levers"][key]
                if v not in best or (r["probability_low"], r["probability"]) > (
                    best[v]["probability_low"],
                    best[v]["probability"],
                ):
                    best[v] = r
                ax.plot([v], [r["probability"]], ".", color="grey", alpha=0.35)
            _bounds(ax, list(best), list(best.values()))
        _lever_axis(ax, key, [r["levers"][key] for r in rows], start)
        _verdict_legend(ax, target)
    n = max((int(r["replications"]) for r in rows), default=0)
    fig.suptitle(_title(f"Probability that the goals hold, by lever (estimate and bounds; up to {n} replications each)"))
    return fig


def plan_front(rows: Sequence[Mapping[str, Any]], keys: Sequence[str], target: float) -> Figure:
    """Probability against cost: every candidate, and the front (no cheaper candidate is more likely)."""
    fig = Figure(figsize=(7, 4.4), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([r["cost"] for r in rows], [r["probability"] for r in rows], ".", color="grey", alpha=0.5, label="candidate")
    front = sorted((r for r in rows if r.get("on_front")), key=lambda r: r["cost"])
    ax.step([r["cost"] for r in front], [r["probability"] for r in front], where="post", color="#0072B2", lw=1, alpha=0.6)
    _bounds(ax, [r["cost"] for r in front], front)
    if len(front) <= 10:
        for r in front:
            text = ", ".join(f"{k.rsplit('.', 1)[-1]} {r['levers'][k]:g}" for k in keys)
            ax.annotate(text, (r["cost"], r["probability"]), textcoords="offset points", xytext=(6, 6), fontsize=7)
    ax.set_xlabel("cost (per unit of each lever above its lowest value)")
    _verdict_legend(ax, target)
    ax.set_title(_title("Cost against probability: the front of candidates no cheaper one beats"))
    return fig


def plan_figures(
    rows: Sequence[Mapping[str, Any]], keys: Sequence[str], target: float, start: datetime | None = None
) -> dict[str, Figure]:
    """The figures of a plan by file stem: ``plan_probability``, and ``plan_front`` for several levers."""
    out = {"plan_probability": plan_probability(rows, keys, target, start)}
    if len(keys) > 1:
        out["plan_front"] = plan_front(rows, keys, target)
    return out
