"""Figures from result tables. Never runs a simulation and knows nothing of SimPy.

Each function takes a finished result and returns a matplotlib ``Figure`` built without pyplot
(so no backend is chosen or changed here); the CLI saves them as PNG, notebooks display them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

import matplotlib
import matplotlib.dates as mdates
import numpy as np
from matplotlib.figure import Figure

from sim.scenario import Scenario
from sim.stats import point_summary


class RunResult(Protocol):
    """What the run figures need of a result (``sim.experiment.RunResult`` has it)."""

    scenario: Scenario
    replications: list[dict[str, Any]]

    @property
    def metrics(self) -> dict[str, dict[str, Any]]: ...

    def daily(self) -> Any: ...

    def limits_by_day(self) -> Any: ...


__all__ = ["run_figures", "cumulative", "daily_by_operator", "crowds", "stranded"]

WHERE = (
    ("stranded_never_arrived", "never reached a gate", "#bbbbbb"),
    ("stranded_at_gates", "at the gates", "#e08214"),
    ("stranded_airfield", "inside the airfield", "#b2182b"),
)


def _dates(start: datetime, hours: np.ndarray) -> np.ndarray:
    """Matplotlib date numbers for hours after ``start`` (local time)."""
    return np.asarray(mdates.date2num([start + timedelta(hours=float(h)) for h in hours]))


def _date_axis(ax: Any) -> None:
    ax.xaxis.set_major_locator(mdates.DayLocator(interval=2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.grid(alpha=0.3)


def _end_line(ax: Any, result: RunResult) -> None:
    s = result.scenario
    ax.axvline(s.at(s.end_hours), color="black", ls="--", lw=1)
    ax.annotate(
        "security end",
        (s.at(s.end_hours), 0.98),
        xycoords=("data", "axes fraction"),
        ha="right",
        va="top",
        fontsize=8,
        rotation=90,
    )


def cumulative(result: RunResult) -> Figure:
    """Cumulative evacuated, each replication and their mean, with the security end marked."""
    s = result.scenario
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    reps = [r["hourly"] for r in result.replications]
    hours = reps[0]["hours"]
    for h in reps:
        ax.plot(_dates(s.start, h["hours"]), h["evacuated_cumulative"] / 1000, color="#2166ac", alpha=0.15, lw=0.8)
    mean = np.mean([h["evacuated_cumulative"] for h in reps], axis=0)
    ax.plot(_dates(s.start, hours), mean / 1000, color="#2166ac", lw=2, label=f"mean of {len(reps)} replications")
    _end_line(ax, result)
    ax.set_ylabel("people evacuated (thousands)")
    ax.set_title(f"{s.name}: cumulative evacuated")
    ax.legend(loc="upper left")
    _date_axis(ax)
    return fig


def daily_by_operator(result: RunResult) -> Figure:
    """Mean evacuated per local day, stacked by operator."""
    daily = result.daily()
    fig = Figure(figsize=(9, 4.5), layout="constrained")
    ax = fig.add_subplot()
    days = np.asarray(mdates.date2num([d.to_pydatetime() for d in daily.index]))
    ops = sorted(c.split(".")[1] for c in daily.columns if c.startswith("operator."))
    bottom = np.zeros(len(days))
    cmap = matplotlib.colormaps["tab20"]
    for i, op in enumerate(ops):
        vals = daily[f"operator.{op}.evacuated"].to_numpy(dtype=float)
        ax.bar(days, vals, bottom=bottom, label=op, color=cmap(i % 20), width=0.8)
        bottom += vals
    ax.set_ylabel("people evacuated per day (mean)")
    ax.set_title(f"{result.scenario.name}: evacuated per day by operator")
    ax.legend(ncol=3, fontsize=8, loc="upper left")
    _date_axis(ax)
    return fig


def crowds(result: RunResult) -> Figure:
    """Gate crowds, airfield holding and aircraft on the ground over time (mean of replications)."""
    s = result.scenario
    reps = [r["hourly"] for r in result.replications]
    t = _dates(s.start, reps[0]["hours"])
    fig = Figure(figsize=(9, 7), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    series = (
        ("gate_queue_people", "people in gate crowds", "#e08214"),
        ("airfield_people", "people in the holding area", "#2166ac"),
        ("aircraft_on_ground", "aircraft on the ground", "#4d4d4d"),
    )
    for ax, (col, label, color) in zip(axes, series):
        mean = np.mean([h[col] for h in reps], axis=0)
        ax.plot(t, mean, color=color)
        ax.fill_between(
            t,
            np.min([h[col] for h in reps], axis=0),
            np.max([h[col] for h in reps], axis=0),
            color=color,
            alpha=0.2,
            lw=0,
        )
        ax.set_ylabel(label, fontsize=9)
        _end_line(ax, result)
        _date_axis(ax)
    axes[1].axhline(s.airfield.holding_capacity_people, color="#2166ac", ls=":", lw=1)
    axes[0].set_title(f"{s.name}: crowds, holding area and ramp (mean; band = range over replications)")
    return fig


def stranded(result: RunResult) -> Figure:
    """Mean stranded people by cohort and where they were when the airport closed."""
    m = result.metrics
    cohorts = list(result.scenario.cohorts)
    fig = Figure(figsize=(8, 1.2 + 0.6 * len(cohorts)), layout="constrained")
    ax = fig.add_subplot()
    left = np.zeros(len(cohorts))
    for key, label, color in WHERE:
        vals = np.array([m[f"cohort.{c}.{key}"]["mean"] for c in cohorts])
        ax.barh(cohorts, vals / 1000, left=left / 1000, label=label, color=color)
        left += vals
    for y, total in enumerate(left):
        ax.annotate(f"{total:,.0f}", (total / 1000, y), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_xlim(0, max(left.max() / 1000 * 1.15, 1e-3))
    ax.set_xlabel("people stranded (thousands, mean)")
    ax.set_title(f"{result.scenario.name}: stranded by cohort and where")
    ax.legend(loc="upper right", fontsize=8)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    return fig


def limits_by_day(result: RunResult) -> Figure:
    """Waiting hours by cause per day (mean of replications), the binding constraint written above."""
    table = result.limits_by_day()
    known = {
        "evacuees": ("aircraft waiting for passengers", "#e08214"),
        "staging": ("aircraft waiting for staging room", "#762a83"),
        "ramp": ("aircraft waiting for a spot", "#1b7837"),
        "runway": ("aircraft waiting for the runway", "#4d4d4d"),
        "crew": ("aircraft waiting for a rested crew", "#c51b7d"),
        "holding": ("gate-hours stopped: holding area full", "#2166ac"),
    }
    # every cause column is drawn (the binding label may name any of them)
    spare = (matplotlib.colormaps["tab10"](i) for i in range(10))
    causes = [(c, *known.get(c, (f"{c} (hours)", next(spare)))) for c in table.columns if c not in ("binding", "holding_people")]
    days = np.asarray(mdates.date2num([d.to_pydatetime() for d in table.index]))
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    ax = fig.add_subplot()
    bottom = np.zeros(len(days))
    for key, label, color in causes:
        vals = table[key].to_numpy(dtype=float)
        ax.bar(days, vals, bottom=bottom, width=0.8, color=color, label=label)
        bottom += vals
    top = max(float(bottom.max()), 1.0)
    for x, y, b in zip(days, bottom, table["binding"]):
        ax.text(x, min(y, top) + top * 0.01, b, rotation=90, ha="center", va="bottom", fontsize=7)
    ax.set_ylim(0, top * 1.25)
    ax.set_ylabel("hours waited (mean per replication)")
    ax.set_title(f"{result.scenario.name}: what limited throughput, and the binding constraint of each day")
    ax.legend(fontsize=7, loc="upper right")
    _date_axis(ax)
    return fig


def run_figures(result: RunResult) -> dict[str, Figure]:
    """Every standard figure of a run, by file stem."""
    return {
        "cumulative_evacuated": cumulative(result),
        "daily_by_operator": daily_by_operator(result),
        "crowds_and_airfield": crowds(result),
        "stranded_by_cohort": stranded(result),
        "limits_by_day": limits_by_day(result),
    }


# -- sweeps -----------------------------------------------------------------------------------


def _label(key: str) -> str:
    return "security end (days after start, and the date)" if key == "security.end" else key


def _day_axis(ax: Any, key: str, start: datetime | None) -> None:
    """With a start, label days of ``security.end`` with their dates too ("17 / 31 Aug")."""
    if key != "security.end" or start is None:
        return
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}\n{start + timedelta(days=float(x)):%d %b}"))


def sweep_metric(df: Any, key: str, metric: str, start: datetime | None = None) -> Figure:
    """A metric against one swept key: mean over replications with its 95% interval."""
    ps = point_summary(df, [key], metric).sort_values(key)
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(ps[key], ps["mean"], marker="o", color="#2166ac")
    ax.fill_between(ps[key], ps["ci95_low"], ps["ci95_high"], color="#2166ac", alpha=0.2, lw=0, label="95% interval")
    ax.set_xlabel(_label(key))
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} against {key} ({int(ps['n'].max())} replications per point)")
    ax.grid(alpha=0.3)
    ax.legend()
    _day_axis(ax, key, start)
    return fig


def sweep_heatmap(df: Any, x: str, y: str, metric: str) -> Figure:
    """Mean of a metric over a grid of two swept keys."""
    table = df.groupby([y, x])[metric].mean().unstack(x).sort_index()
    fig = Figure(figsize=(7, 5), layout="constrained")
    ax = fig.add_subplot()
    im = ax.imshow(table.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(table.columns)), [f"{v:g}" for v in table.columns])
    ax.set_yticks(range(len(table.index)), [f"{v:g}" for v in table.index])
    ax.set_xlabel(_label(x))
    ax.set_ylabel(_label(y))
    for (i, j), v in np.ndenumerate(table.to_numpy()):
        ax.text(j, i, f"{v:,.0f}", ha="center", va="center", color="white", fontsize=7)
    fig.colorbar(im, ax=ax, label=f"{metric} (mean)")
    ax.set_title(f"{metric}: {y} against {x}")
    return fig


def stranded_by_cohort_vs(df: Any, key: str, start: datetime | None = None) -> Figure:
    """The headline plot: people stranded, by cohort, against a swept key (e.g. the security end)."""
    cohorts = sorted(
        c[len("cohort.") : -len(".stranded")] for c in df.columns if c.startswith("cohort.") and c.endswith(".stranded")
    )
    fig = Figure(figsize=(8, 4.8), layout="constrained")
    ax = fig.add_subplot()
    cmap = matplotlib.colormaps["tab10"]
    for i, c in enumerate(cohorts):
        ps = point_summary(df, [key], f"cohort.{c}.stranded").sort_values(key)
        ax.plot(ps[key], ps["mean"] / 1000, marker="o", ms=3, color=cmap(i), label=c)
        ax.fill_between(ps[key], ps["ci95_low"] / 1000, ps["ci95_high"] / 1000, color=cmap(i), alpha=0.15, lw=0)
    ax.set_xlabel(_label(key))
    ax.set_ylabel("people stranded (thousands; band: 95% interval)")
    ax.set_title(f"People stranded by cohort against {key}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _day_axis(ax, key, start)
    return fig


def sweep_figures(df: Any, keys: list[str], metrics: list[str], start: datetime | None = None) -> dict[str, Figure]:
    """The standard figures of a sweep, by file stem (``start``: the scenario start, for dates)."""
    figs: dict[str, Figure] = {}
    numeric = [k for k in keys if np.issubdtype(df[k].dtype, np.number)]
    if len(numeric) >= 1:
        figs[f"stranded_by_cohort_vs_{numeric[0]}"] = stranded_by_cohort_vs(df, numeric[0], start)
    if len(numeric) == 1:
        for m in metrics:
            figs[f"{m}_vs_{numeric[0]}"] = sweep_metric(df, numeric[0], m, start)
    elif len(numeric) >= 2:
        for m in metrics:
            figs[f"{m}_heatmap"] = sweep_heatmap(df, numeric[0], numeric[1], m)
    return figs
