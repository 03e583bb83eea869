"""Figures from result tables. Never runs a simulation and knows nothing of SimPy.

Each function takes a finished result and returns a matplotlib ``Figure`` built without pyplot
(so no backend is chosen or changed here); the CLI saves them as PNG, notebooks display them.
Times are drawn on the scenario's local wall clock (the clock of its ``start`` offset), the same
clock as the text and the daily tables, and every time axis says its UTC offset. Every band is a
95% interval of the mean over replications; with one replication there is none, and the figure
says so. Sweep and comparison figures live in :mod:`sim.outputs.sweep_figures`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import matplotlib.dates as mdates
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.description.scenario import Scenario
from sim.statistics import mean_ci


class RunResult(Protocol):
    """What the run figures need of a result (``sim.experiments.replications.RunResult`` has it)."""

    scenario: Scenario

    @property
    def replications(self) -> Sequence[Any]: ...  # sim.experiments.replications.ReplicationResult

    @property
    def metrics(self) -> dict[str, dict[str, Any]]: ...

    def limits_by_day(self) -> Any: ...


__all__ = [
    "published",
    "RUN_FIGURES",
    "run_figures",
    "cumulative",
    "daily_by_operator",
    "crowds",
    "stranded",
    "limits_by_day",
    "PALETTE",
    "utc_offset",
    "scale_with_line",
]

WHERE = (
    ("stranded_never_arrived", "never reached the perimeter", "#bbbbbb"),
    ("stranded_turned_back", "turned back on the way", "#8073ac"),
    ("stranded_at_gates", "at the entry points", "#e08214"),
    ("stranded_airfield", "inside the perimeter", "#b2182b"),
)
"""Where the stranded were: per-cohort metric, label, colour (those of OPTIONAL_WHERE drawn only
when someone is in them)."""
NOT_STRANDED = ("did_not_travel", "did not travel (not stranded)", "#dddddd")
"""People of registered cohorts who chose not to set out: drawn after the stranded, hatched, when any."""
OPTIONAL_WHERE = ("stranded_turned_back",)

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
"""Okabe-Ito colours (distinct also for colour-blind readers); more series than this are grouped."""
OTHER = "#999999"

CAUSES = {
    "gates": ("gates: every screening lane busy", "#E69F00"),
    "holding": ("holding: holding area full", "#0072B2"),
    "fleet": ("fleet: every aircraft flying", "#F0E442"),
    "crew": ("crew: waiting for a rested crew", "#D55E00"),
    "ramp": ("ramp: waiting for a parking spot", "#009E73"),
    "runway": ("runway: waiting for the runway", "#555555"),
    "staging": ("staging: waiting for staging room", "#CC79A7"),
}
"""Short labels and colours of the causes of LIMIT_CAUSES (people held back by ...); an unknown cause still gets drawn."""
CONSTRAINT_COLOURS = {"airlift": "#56B4E9", "gates": "#E69F00", "none": "#999999"}


def thousands(ax_axis: Any) -> None:
    """Tick labels with thousands separators (``12,500``)."""
    ax_axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 10 or v == int(v) else f"{v:,.2g}"))


def utc_offset(start: datetime) -> str:
    """``UTC+04:30`` for a start with that offset."""
    off = start.utcoffset() or timedelta(0)
    sign = "-" if off < timedelta(0) else "+"
    minutes = abs(int(off.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _local(t: datetime) -> datetime:
    """The wall-clock time of ``t`` in its own offset, without the offset (so matplotlib keeps it)."""
    return t.replace(tzinfo=None)


def _dates(start: datetime, hours: Sequence[float] | np.ndarray) -> np.ndarray:
    """Matplotlib date numbers, on the local wall clock, for hours after ``start``."""
    return np.asarray(mdates.date2num([_local(start) + timedelta(hours=float(h)) for h in hours]), dtype=float)


def _day_number(day: Any) -> float:
    """Matplotlib date number of the middle of a local calendar day (bars cover their day)."""
    d = date.fromisoformat(str(day)[:10])
    return float(mdates.date2num(datetime(d.year, d.month, d.day, 12)))


def _time_axis(ax: Any, s: Scenario, days: Sequence[Any] | None = None) -> None:
    """The local clock, labelled with the UTC offset: the security window (or, with ``days``,
    those whole local days), with date ticks, or hour ticks for a short window."""
    if days is not None and len(days):
        lo = _day_number(days[0]) - 0.5
        hi = _day_number(days[-1]) + 0.5
    else:
        lo = float(mdates.date2num(_local(s.start)))
        hi = lo + max(s.end_hours, 1.0) / 24
    ax.set_xlim(lo - (hi - lo) * 0.02, hi + (hi - lo) * 0.02)
    if days is None and hi - lo <= 2:
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=8))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b\n%H:%M"))
    else:
        ax.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, int(np.ceil((hi - lo) / 10)))))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.set_xlabel(f"local time ({utc_offset(s.start)})", fontsize=9)
    ax.grid(alpha=0.3)


def _end_line(ax: Any, s: Scenario, label: bool = True) -> None:
    """The security end as a dashed vertical line, and the security start, if it comes after the
    scenario start, as a dash-dotted one, each named in the legend (a label written beside a line
    would cover whatever is drawn there, such as the published total at the end)."""
    lines = [(s.end_hours, "security end", "--")]
    if s.secured_from_hours > 0:
        lines.append((s.secured_from_hours, "security start", "-."))
    for hours, text, style in lines:
        x = mdates.date2num(_local(s.at(hours)))
        ax.axvline(x, color="black", ls=style, lw=1, label=text if label else None)


def scale_with_line(peak: float, line: float, room: float = 1.1) -> tuple[float, bool]:
    """The top of a y axis showing data up to ``peak`` and a reference ``line`` (a capacity): the
    line is kept in view unless it is more than three times the peak, where it would flatten the data
    into the bottom of the plot. Returns the top and whether the line is in view."""
    peak = max(peak, 1.0)
    if line <= 3 * peak:
        return max(peak, line) * room, True
    return peak * 1.25, False


def _capacity_label(cap: int, shown: bool) -> str:
    return f"holding capacity ({cap:,} people)" if shown else f"holding capacity ({cap:,} people, above the axis)"


def legend(ax: Any, **kwargs: Any) -> None:
    """A legend, if anything drawn has a label (an empty run draws nothing)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)


def _finite(x: Any) -> float | None:
    return float(x) if x is not None and np.isfinite(float(x)) else None


def finite_max(values: Any) -> float:
    """The largest finite value, or 0 (an interval is NaN with one replication)."""
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    return float(arr.max()) if arr.size else 0.0


def band(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% interval of the mean, column by column, over the rows (replications)."""
    rows = np.atleast_2d(np.asarray(rows, dtype=float))
    cols = [mean_ci(list(rows[:, j])) for j in range(rows.shape[1])]
    m, lo, hi = (np.array([c[i] for c in cols]) for i in range(3))
    return m, lo, hi


def _hourly(result: RunResult) -> list[dict[str, Any]]:
    return [r.hourly for r in result.replications]


def _band_note(n: int) -> str:
    return "band: 95% interval of the mean" if n > 1 else "one replication: no interval"


def cumulative(result: RunResult) -> Figure:
    """Cumulative evacuated: each replication, their mean with its 95% band, the security end, and
    the published figures the scenario carries (``reference_cumulative`` dated points, and the
    total ``reference.evacuated_total`` at the security end); an operator's published total
    (``reference.operator.<operator>.evacuated``) is drawn against that operator's own mean line."""
    s = result.scenario
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    reps = _hourly(result)
    t = _dates(s.start, reps[0]["hours"])
    rows = np.array([h["evacuated_cumulative"] for h in reps], dtype=float)
    for row in rows:
        ax.plot(t, row, color="#0072B2", alpha=0.15, lw=0.8)
    mean, lo, hi = band(rows)
    if len(reps) > 1:
        ax.fill_between(t, lo, hi, color="#0072B2", alpha=0.25, lw=0, label="95% interval of the mean")
    ax.plot(t, mean, color="#0072B2", lw=2, marker="o" if len(t) < 3 else None, label=f"model: mean of {len(reps)} replications")
    published = [(s.hours(p.at), p.evacuated, p.source) for p in s.reference_cumulative if p.operator is None]
    if "evacuated_total" in s.reference:
        published.append((s.end_hours, s.reference["evacuated_total"], "published total"))
    if published:
        ax.scatter(
            _dates(s.start, [p[0] for p in published]),
            [p[1] for p in published],
            marker="D",
            s=36,
            color="#D55E00",
            zorder=5,
            label="published figures",
        )
    _published_operators(ax, s, reps, t)
    _end_line(ax, s)
    ax.set_ylabel("people evacuated (cumulative)")
    thousands(ax.yaxis)
    ax.set_ylim(bottom=0)
    ax.set_title(f"{s.name}: cumulative evacuated")
    handles, labels = ax.get_legend_handles_labels()
    if len(labels) > 7:  # a long key (operators with published figures) beside the axes: inside, it covers the curves
        fig.set_size_inches(10, 4.5)
        fig.legend(handles, labels, loc="outside right upper", fontsize=8)
    else:
        legend(ax, loc="upper left", fontsize=8)
    _time_axis(ax, s)
    return fig


OPERATOR_COLOURS = ("#009E73", "#CC79A7", "#E69F00", "#56B4E9")
"""Palette colours for operators' lines on the cumulative plot: not the model's blue nor the published vermillion."""


def _published_operators(ax: Any, s: Scenario, reps: list[dict[str, Any]], t: np.ndarray) -> None:
    """Each operator with a published total (``reference`` ``operator.<operator>.evacuated``) or
    dated counts (``[[reference_cumulative]]`` with its ``operator``): the mean of its hourly
    ``evacuated_cumulative.<operator>`` column, dashed, and the published figures as diamonds in the
    same colour (the total at the security end)."""
    dated = {op: [(s.hours(p.at), p.evacuated) for p in s.reference_cumulative if p.operator == op] for op in s.operators}
    ops = [op for op in s.operators if f"operator.{op}.evacuated" in s.reference or dated[op]]
    ops = [op for op in ops if all(f"evacuated_cumulative.{op}" in h for h in reps)]
    for i, op in enumerate(ops):
        colour = OPERATOR_COLOURS[i % len(OPERATOR_COLOURS)]
        mean = np.mean([np.asarray(h[f"evacuated_cumulative.{op}"], dtype=float) for h in reps], axis=0)
        ax.plot(t, mean, color=colour, lw=1.6, ls="--", label=f"model: {op} (mean)")
        points = dated[op] + (
            [(s.end_hours, s.reference[f"operator.{op}.evacuated"])] if f"operator.{op}.evacuated" in s.reference else []
        )
        ax.scatter(
            _dates(s.start, [h for h, _ in points]),
            [v for _, v in points],
            marker="D",
            s=36,
            color=colour,
            edgecolors="black",
            linewidths=0.6,
            zorder=5,
            label=f"published: {op}",
        )


def _daily_totals(result: RunResult) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
    """Local days, evacuated per day by replication (rows), and mean evacuated per day by operator."""
    reps = result.replications
    days = [d.date for d in reps[0].daily]
    totals = np.array([[d.evacuated for d in r.daily] for r in reps], dtype=float)
    ops: dict[str, np.ndarray] = {}
    for r in reps:
        for i, d in enumerate(r.daily):
            for op, v in d.by_operator.items():
                ops.setdefault(op, np.zeros(len(days)))[i] += v / len(reps)
    return days, totals, ops


def grouped(values: dict[str, np.ndarray], keep: int = len(PALETTE)) -> list[tuple[str, np.ndarray, str]]:
    """Series by decreasing total, each with a palette colour; past ``keep`` the smaller ones
    are summed into one grey "other" series (eleven colours cannot be told apart)."""
    order = sorted(values, key=lambda k: -float(values[k].sum()))
    if len(order) > keep + 1:
        head, tail = order[:keep], order[keep:]
    else:
        head, tail = order, []
    out = [(k, values[k], PALETTE[i % len(PALETTE)]) for i, k in enumerate(head)]
    if tail:
        out.append((f"{len(tail)} others: " + ", ".join(tail), np.sum([values[k] for k in tail], axis=0), OTHER))
    return out


def daily_by_operator(result: RunResult) -> Figure:
    """Mean evacuated per local day stacked by operator (small ones grouped), with the 95%
    interval of each day's total."""
    s = result.scenario
    days, totals, ops = _daily_totals(result)
    x = np.array([_day_number(d) for d in days])
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    ax = fig.add_subplot()
    bottom = np.zeros(len(days))
    for label, vals, colour in grouped(ops):
        ax.bar(x, vals, bottom=bottom, label=label, color=colour, width=0.8)
        bottom += vals
    mean, lo, hi = band(totals)
    if len(totals) > 1:
        ax.errorbar(
            x, mean, yerr=[mean - lo, hi - mean], fmt="none", ecolor="black", capsize=2, lw=1, label="95% interval of the total"
        )
    n = len(totals)
    ax.set_ylabel("people evacuated per day")
    thousands(ax.yaxis)
    ax.set_title(f"{s.name}: evacuated per local day by operator\n(mean of {n}; {_band_note(n).replace('band', 'bars')})")
    legend(ax, ncol=2, fontsize=7, loc="upper left")
    ax.set_ylim(0, max(finite_max(hi), finite_max(bottom), 1.0) * 1.35)
    _time_axis(ax, s, days=days)
    return fig


def crowds(result: RunResult) -> Figure:
    """People waiting outside the perimeter at the entry points, airfield holding (with its capacity)
    and aircraft on the ground over time:
    the mean of replications with its 95% band."""
    s = result.scenario
    reps = _hourly(result)
    t = _dates(s.start, reps[0]["hours"])
    fig = Figure(figsize=(9, 7), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    series = (
        ("gate_queue_people", "people waiting outside\nthe perimeter", "#E69F00"),
        ("airfield_people", "people in the holding area", "#0072B2"),
        ("aircraft_on_ground", "aircraft on the ground", "#555555"),
    )
    for ax, (col, label, color) in zip(axes, series):
        mean, lo, hi = band(np.array([h[col] for h in reps], dtype=float))
        ax.plot(t, mean, color=color, label="mean", marker="o" if len(t) < 3 else None)
        if len(reps) > 1:
            ax.fill_between(t, lo, hi, color=color, alpha=0.25, lw=0, label="95% interval of the mean")
        ax.set_ylabel(label, fontsize=9)
        thousands(ax.yaxis)
        ax.set_ylim(bottom=0)
        _end_line(ax, s, label=ax is axes[0])
        _time_axis(ax, s)
    cap = s.airfield.holding_capacity_people
    peak = max(finite_max(band(np.array([h["airfield_people"] for h in reps], dtype=float))[2]), 0.0)
    top, shown = scale_with_line(peak, cap)
    axes[1].axhline(cap, color="#0072B2", ls=":", lw=1.2, label=_capacity_label(cap, shown))
    axes[1].set_ylim(0, top)
    axes[2].yaxis.set_major_locator(MaxNLocator(integer=True))  # a count of aircraft: no 0.5 ticks
    for ax in axes:
        legend(ax, fontsize=7, loc="upper left")
    for ax in axes[:-1]:
        ax.set_xlabel("")
    n = len(reps)
    axes[0].set_title(f"{s.name}: waiting outside, holding area and ramp\n(mean of {n}; {_band_note(n)})")
    return fig


def _cohort_means(m: Mapping[str, Any], cohorts: list[str], key: str) -> np.ndarray:
    """The mean of ``cohort.<c>.<key>`` for each cohort (0 where a result has no such metric)."""
    return np.array([float(m[f"cohort.{c}.{key}"]["mean"]) if f"cohort.{c}.{key}" in m else 0.0 for c in cohorts])


def stranded(result: RunResult) -> Figure:
    """Mean stranded people by cohort and where they were when the airport closed; beyond them,
    hatched, the people of registered cohorts who did not travel (not stranded), if any."""
    m = result.metrics
    cohorts = list(result.scenario.cohorts)
    fig = Figure(figsize=(8, 1.4 + 0.6 * len(cohorts)), layout="constrained")
    ax = fig.add_subplot()
    left = np.zeros(len(cohorts))
    for key, label, color in WHERE:
        vals = _cohort_means(m, cohorts, key)
        if key in OPTIONAL_WHERE and not vals.any():
            continue
        ax.barh(cohorts, vals, left=left, label=label, color=color)
        left += vals
    key, label, color = NOT_STRANDED
    away = _cohort_means(m, cohorts, key)
    if away.any():
        ax.barh(cohorts, away, left=left, label=label, color=color, hatch="//", edgecolor="#999999")
    for y, (total, beyond) in enumerate(zip(left, left + away, strict=True)):
        ax.annotate(f"{total:,.0f}", (beyond, y), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_xlim(0, max(float((left + away).max()) * 1.18, 1.0))
    replications = len(result.replications)
    ax.set_xlabel(
        f"people (mean of {replications} replications); the number: those stranded"
        if away.any()
        else f"people stranded (mean of {replications} replications)"
    )
    thousands(ax.xaxis)
    ax.set_title(f"{result.scenario.name}: stranded by cohort and where they were")
    # below the axes, not inside them: inside, it covers the longest bars and their totals
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 3), fontsize=8, frameon=False)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    return fig


def limits_by_day(result: RunResult) -> Figure:
    """People-hours held back by cause per day (mean of replications), each day's binding constraint
    written above its bar in the colour of the cause it names; below, the people waiting inside
    the airfield for an aircraft."""
    s = result.scenario
    table = result.limits_by_day()
    extra = {"binding", "holding_people"}
    causes = [c for c in table.columns if c not in extra]
    x = np.array([_day_number(d) for d in table.index])
    fig = Figure(figsize=(9, 6.2), layout="constrained")
    ax, low = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1.2])
    bottom = np.zeros(len(x))
    fallback = iter(PALETTE)
    colours: dict[str, str] = {}
    for key in causes:
        label, colour = CAUSES.get(key, (f"{key} (hours)", next(fallback, OTHER)))
        colours[key] = colour
        vals = table[key].to_numpy(dtype=float)
        if len(x):
            ax.bar(x, vals, bottom=bottom, width=0.8, color=colour, label=label)
        bottom += vals
    top = max(float(bottom.max(initial=0.0)), 1.0)
    if not len(x):
        ax.text(0.5, 0.5, "the window is shorter than one hour: nobody held back recorded", transform=ax.transAxes, ha="center")
    if "binding" in table.columns:
        for xi, y, b in zip(x, bottom, table["binding"]):
            colour = colours.get(str(b), CONSTRAINT_COLOURS.get(str(b), "black"))
            ax.text(
                xi, y + top * 0.02, str(b), rotation=90, ha="center", va="bottom", fontsize=8, color=colour, fontweight="bold"
            )
    ax.set_ylim(0, top * 1.35)
    ax.set_ylabel("people-hours held back per day\n(mean per replication)")
    thousands(ax.yaxis)
    fig.suptitle(f"{s.name}: what limited throughput; above each day, its binding constraint", fontsize=11)
    if len(x):
        ax.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0.0, 1.01), ncol=3, frameon=False)
    if "holding_people" in table.columns:
        holding = table["holding_people"].to_numpy(dtype=float)
        cap = s.airfield.holding_capacity_people
        top, shown = scale_with_line(float(np.max(holding, initial=0)), cap, room=1.25)
        low.bar(x, holding, width=0.8, color=CONSTRAINT_COLOURS["airlift"])
        low.axhline(cap, color="#0072B2", ls=":", lw=1, label=_capacity_label(cap, shown))
        low.legend(fontsize=7, loc="upper left")
        low.set_ylim(0, top)
    low.set_ylabel("people waiting\ninside (mean)", fontsize=9)
    thousands(low.yaxis)
    _time_axis(low, s, days=list(table.index) or [s.start.date()])
    ax.set_xlabel("")
    return fig


def published(metrics: Mapping[str, Mapping[str, Any]], reference: Mapping[str, float], name: str = "") -> Figure:
    """Each published figure against the model's mean and 95% interval, one row per figure on its
    own scale (totals and flight counts differ by orders of magnitude)."""
    keys = [k for k in reference if k in metrics]
    fig = Figure(figsize=(8, 0.6 + 0.75 * max(len(keys), 1)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(max(len(keys), 1), 1, squeeze=False)).ravel()
    for ax, k in zip(axes, keys):
        st, pub = metrics[k], float(reference[k])
        mean, lo, hi = float(st["mean"]), _finite(st.get("ci95_low")), _finite(st.get("ci95_high"))
        if lo is not None and hi is not None and hi > lo:
            ax.errorbar(
                [mean],
                [0],
                xerr=[[mean - lo], [hi - mean]],
                fmt="o",
                color="#0072B2",
                capsize=4,
                label="model: mean, 95% interval",
            )
        else:
            ax.plot([mean], [0], "o", color="#0072B2", label="model: mean (no interval)")
        ax.plot([pub], [0], "D", color="#D55E00", ms=8, label="published")
        span = max(abs(mean), abs(pub), float(hi or 0), 1.0)
        ax.set_xlim(min(0.0, mean, pub) - 0.05 * span, max(mean, pub, float(hi or 0)) + 0.1 * span)
        ax.set_yticks([])
        ax.set_ylabel(k, rotation=0, ha="right", va="center", fontsize=8)
        thousands(ax.xaxis)
        ax.grid(axis="x", alpha=0.3)
    if keys:
        fig.legend(*axes[0].get_legend_handles_labels(), fontsize=8, loc="outside lower center", ncol=2)
    axes[0].set_title(f"{name}: model against the published figures", fontsize=10)
    return fig


RUN_FIGURES = ("cumulative_evacuated", "daily_by_operator", "crowds_and_airfield", "stranded_by_cohort", "limits_by_day")


def run_figures(result: RunResult) -> dict[str, Figure]:
    """Every standard figure of a run, by file stem."""
    return {
        "cumulative_evacuated": cumulative(result),
        "daily_by_operator": daily_by_operator(result),
        "crowds_and_airfield": crowds(result),
        "stranded_by_cohort": stranded(result),
        "limits_by_day": limits_by_day(result),
    }
