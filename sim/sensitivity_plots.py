"""Figures of a sensitivity analysis, from the ``sensitivity.csv`` table only (never runs a model).

Morris: mu* against sigma per parameter, labelled, with mu*'s bootstrap interval as a horizontal
bar. Sobol: first-order and total indices per parameter, with their intervals.
"""

from __future__ import annotations

from typing import Any

__all__ = ["sensitivity_figures", "LABELLED"]

LABELLED = 12
"""Parameters shown by name: the most influential ones (the others are grey dots or left out)."""


def _short(name: str) -> str:
    return name.replace("cohorts.", "").replace("fleets.", "").replace("bases.", "").replace(".0.value", "[1]")


def _morris(rows: Any, metric: str) -> Any:
    import matplotlib.pyplot as plt

    rows = rows.sort_values("mu_star", ascending=False)
    fig, ax = plt.subplots(figsize=(9, 6.5), layout="constrained")
    top = rows.head(LABELLED)
    rest = rows.iloc[LABELLED:]
    ax.scatter(rest["mu_star"], rest["sigma"], s=14, color="0.7", label=f"{len(rest)} other parameters" if len(rest) else None)
    ax.errorbar(top["mu_star"], top["sigma"], xerr=top["mu_star_conf"], fmt="o", color="C0", ecolor="C0", alpha=0.8, capsize=2,
                label="μ* with its 95% bootstrap interval")  # fmt: skip
    for i, (_, r) in enumerate(top.iterrows()):
        ax.annotate(
            _short(r["parameter"]),
            (r["mu_star"], r["sigma"]),
            xytext=(5, 4 + 7 * (i % 2)),
            textcoords="offset points",
            fontsize=8,
        )
    hi = max(float(rows["mu_star"].max()), float(rows["sigma"].max()), 1e-9) * 1.1
    ax.plot([0, hi], [0, hi], ls=":", color="0.5", lw=1, label="σ = μ* (non-linear or interacting above)")
    ax.set_xlim(0, max(hi, float((rows["mu_star"] + rows["mu_star_conf"]).max())) * 1.15)
    ax.set_ylim(0, hi)
    ax.set_xlabel(f"μ*: mean absolute elementary effect on {metric} (per move across the range)")
    ax.set_ylabel("σ: spread of the elementary effects")
    ax.set_title(f"Morris screening: {metric}")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
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
