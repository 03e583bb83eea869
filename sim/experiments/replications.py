"""Experiments: replications with confidence intervals, precision targets, paired comparisons.

This is the only layer that runs simulations. A replication is a pure function of
``(scenario, seed, replication)``; replication ``r`` of every scenario draws from the same
named streams, so comparisons between scenarios are paired (common random numbers). Replications
run through the task engine (:mod:`sim.experiments.tasks`) on any :class:`concurrent.futures.Executor`;
results are identical whatever runs them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.description.lookup import value_at
from sim.description.scenario import Scenario
from sim.experiments.ensemble import Ensemble, aggregate_ensemble, as_ensemble, ensemble_stats, settings_quantiles
from sim.experiments.executors import ExecutorLike, as_executor, make_executor
from sim.experiments.tasks import Progress, collect
from sim.statistics import NO_INTERVAL, mean_ci, sem

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = [
    "run_replication",
    "ReplicationResult",
    "DayTotals",
    "RunResult",
    "run",
    "compare",
    "CompareResult",
    "run_batch",
    "aggregate",
    "make_executor",
    "as_executor",
    "BINDING_MIN_HOURS",
    "HEADLINE",
]

BINDING_MIN_HOURS = 1.0
"""A day's binding constraint is ``none`` unless its largest cause held back this many people-hours."""

HEADLINE = (
    "evacuated_total",
    "stranded_total",
    "stranded_never_arrived",
    "stranded_at_gates",
    "stranded_airfield",
    "departures_total",
    "mean_load_factor",
    "gate_wait_mean_hours",
)
"""The headline metrics, in the order ``run`` and ``compare`` print them."""


@dataclass(frozen=True)
class DayTotals:
    """One local calendar day of one replication."""

    date: str
    """The day in the scenario's local time, ``YYYY-MM-DD``."""
    evacuated: int
    departures: int
    by_operator: Mapping[str, int]
    """People evacuated by each operator that flew someone that day."""


@dataclass(frozen=True)
class ReplicationResult:
    """What one replication returns (:func:`run_replication`)."""

    metrics: Mapping[str, float]
    """Every metric by name (``airlift metrics`` lists them)."""
    daily: tuple[DayTotals, ...]
    """Every local day of the security window, in order."""
    hourly: Mapping[str, np.ndarray]
    """The hourly samples as columns: ``hours`` and the columns of ``timeseries.csv``."""

    def __eq__(self, other: object) -> bool:
        """The same metrics, days and hourly columns (arrays compared element by element)."""
        if not isinstance(other, ReplicationResult):
            return NotImplemented
        same_hours = self.hourly.keys() == other.hourly.keys() and all(
            np.array_equal(self.hourly[k], other.hourly[k]) for k in self.hourly
        )
        return self.metrics == other.metrics and self.daily == other.daily and same_hours

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> ReplicationResult:
        """From a finished world's ``summary()``: ``{"metrics", "daily", "hourly"}``."""
        daily = tuple(DayTotals(d["date"], d["evacuated"], d["departures"], d["by_operator"]) for d in summary["daily"])
        return cls(summary["metrics"], daily, summary["hourly"])


def run_replication(scenario: Scenario, seed: int, replication: int) -> ReplicationResult:
    """Build, run and summarise one replication."""
    from sim.model.world import World, paused_collector, reuse_freed_memory  # the description layer never imports SimPy

    reuse_freed_memory()
    with paused_collector():
        world = World(scenario, seed, replication)
        world.run()
        out = world.summary()
        del world  # young garbage: the collector's first pass after the pause frees it
    return ReplicationResult.from_summary(out)


def _task(args: tuple[Scenario, int, int]) -> ReplicationResult:
    return run_replication(*args)


@dataclass(frozen=True)
class _Replications:
    """How the replications of one scenario run: its ensemble setting per replication, the seed, where."""

    scenario: Scenario
    seed: int
    ensemble: Ensemble | None
    keep: tuple[str, ...]
    executor: Executor | None
    progress: Progress | None

    def scenario_of(self, replication: int) -> Scenario:
        return self.ensemble.apply(self.scenario, replication, self.keep) if self.ensemble else self.scenario

    def describe(self, replication: int) -> str:
        return f"replication {replication} of {self.scenario.name} (seed {self.seed})"

    def run(self, replications: range) -> list[ReplicationResult]:
        """Replications in order; :class:`~sim.experiments.tasks.TasksFailed` names the first that raised."""
        tasks = [(r, (self.scenario_of(r), self.seed, r)) for r in replications]
        done = collect(_task, tasks, executor=self.executor, progress=self.progress, describe=self.describe)
        return [done[r] for r in replications]


def aggregate(values_by_metric: Mapping[str, list[float]]) -> dict[str, dict[str, Any]]:
    """``{name: {"mean", "ci95_low", "ci95_high", "values"}}`` from per-replication values."""
    out = {}
    for name, values in values_by_metric.items():
        mean, lo, hi = mean_ci(values)
        out[name] = {"mean": mean, "ci95_low": lo, "ci95_high": hi, "values": list(values)}
    return out


@dataclass
class RunResult:
    """Replications of one scenario. ``summary()`` is what ``summary.json`` holds; the other
    methods give the same results as tidy DataFrames."""

    scenario: Scenario
    seed: int
    replications: list[ReplicationResult]
    precision: dict[str, Any] | None = None
    _metrics: dict[str, dict[str, Any]] | None = field(default=None, repr=False)
    ensemble: Ensemble | None = None
    """Plausible settings the replications were spread over (``sim.experiments.ensemble``), if any."""

    @property
    def metrics(self) -> dict[str, dict[str, Any]]:
        """Each metric's mean, 95% interval (NaN with one replication) and per-replication values."""
        if self._metrics is None:
            names = list(self.replications[0].metrics)
            values = {n: [r.metrics[n] for r in self.replications] for n in names}
            self._metrics = aggregate_ensemble(values, self.ensemble) if self.ensemble else aggregate(values)
        return self._metrics

    def mean(self, name: str) -> float:
        return float(self.metrics[name]["mean"])

    def metrics_frame(self) -> pd.DataFrame:
        """Every metric of every replication in long form: columns ``replication, metric, value``."""
        import pandas as pd

        rows = [(r, name, float(v)) for r, rep in enumerate(self.replications) for name, v in rep.metrics.items()]
        return pd.DataFrame(rows, columns=["replication", "metric", "value"])

    def _day_index(self, dates: Iterable[str]) -> pd.DatetimeIndex:
        """Local calendar days as a timezone-aware index (midnight in the scenario's offset)."""
        import pandas as pd

        tz = self.scenario.start.tzinfo
        return pd.DatetimeIndex([pd.Timestamp(d).tz_localize(tz) for d in dates], name="date")

    def daily(self) -> pd.DataFrame:
        """Per local calendar day (index ``date``): mean ``evacuated`` and ``departures`` over
        replications with their 95% intervals (``*_ci95_low``, ``*_ci95_high``), and mean
        evacuated by operator (``operator.<o>.evacuated``)."""
        import pandas as pd

        reps = self.replications
        ops = sorted({op for r in reps for d in r.daily for op in d.by_operator})
        rows = []
        for i in range(len(reps[0].daily)):
            days = [r.daily[i] for r in reps]
            row: dict[str, float] = {}
            for col, values in (("evacuated", [d.evacuated for d in days]), ("departures", [d.departures for d in days])):
                row[col], row[f"{col}_ci95_low"], row[f"{col}_ci95_high"] = mean_ci([float(v) for v in values])
            for op in ops:
                row[f"operator.{op}.evacuated"] = float(np.mean([d.by_operator.get(op, 0) for d in days]))
            rows.append(row)
        return pd.DataFrame(rows, index=self._day_index(d.date for d in reps[0].daily))

    def _daily_json(self) -> list[dict[str, Any]]:
        """``daily()`` as ``summary.json`` holds it: one dict per day, operators nested, and the
        day's binding constraint (:meth:`limits_by_day`) when the replications kept their hours."""
        binding: dict[str, str] = {}
        if self.replications and len(self.replications[0].hourly.get("hours", ())):
            binding = {day.date().isoformat(): str(b) for day, b in self.limits_by_day()["binding"].items()}
        out = []
        for day, row in self.daily().iterrows():
            ops = {k.split(".")[1]: v for k, v in row.items() if str(k).startswith("operator.") and v}
            date = day.date().isoformat()
            out.append(
                {"date": date, "evacuated": row["evacuated"], "departures": row["departures"]}
                | {"by_operator": ops}
                | ({"binding": binding[date]} if date in binding else {})
            )
        return out

    def summary(self) -> dict[str, Any]:
        from sim._version import __version__

        out: dict[str, Any] = {
            "scenario": self.scenario.model_dump(mode="json", by_alias=True),
            "seed": self.seed,
            "replications": len(self.replications),
            "version": __version__,
            "metrics": self.metrics,
            "by_cohort": _nested(self.metrics, "cohort."),
            "by_operator": _nested(self.metrics, "operator."),
            "daily": self._daily_json(),
        }
        if len(self.replications) < 2:
            out["intervals"] = NO_INTERVAL
        if self.precision:
            out["precision"] = self.precision
        if self.ensemble:
            out["ensemble"] = self.ensemble.describe()
        return out

    def timeseries(self) -> pd.DataFrame:
        """One row per replication per simulated hour (docs/outputs.md lists the columns, the
        per-operator ``evacuated_cumulative.<operator>`` and ``departures_cumulative.<operator>``
        beside their totals); ``time`` is a timezone-aware datetime in the scenario's UTC offset."""
        import pandas as pd

        frames = []
        for r, rep in enumerate(self.replications):
            df = pd.DataFrame({k: np.asarray(v) for k, v in rep.hourly.items()})
            df.insert(0, "replication", r)
            frames.append(df)
        df = pd.concat(frames, ignore_index=True)
        df.insert(1, "time", pd.Timestamp(self.scenario.start) + pd.to_timedelta(df["hours"], unit="h"))
        return df

    def limits_by_day(self) -> pd.DataFrame:
        """What limited throughput on each local day (index ``date``; means over replications).

        Columns: one per cause of :data:`sim.description.metric_catalog.LIMIT_CAUSES`, in people-hours
        held back (people waiting at the gates or inside, each hour, by what kept them waiting: see
        :mod:`sim.model.held_back`), ``holding_people`` (mean people waiting inside), and ``binding``:
        the cause that held back the most people-hours that day, i.e. the tallest segment of the
        day's bar in ``limits_by_day.png`` (ties go to the cause listed first), or ``none`` when no
        cause reached :data:`BINDING_MIN_HOURS`. The label never contradicts the bars under it.
        """
        from sim.description.metric_catalog import LIMIT_CAUSES

        ts = self.timeseries()
        # a sample on the hour closes the hour before it: count it on that hour's local day
        ts["date"] = (ts["time"] - np.timedelta64(1, "h")).dt.floor("D")
        ts = ts[ts["hours"] > 0]
        causes = list(LIMIT_CAUSES)
        cols = [f"limit_{c}_hours" for c in causes]
        last = ts.groupby(["replication", "date"])[cols].max()
        per_rep = last.groupby(level="replication").diff().fillna(last.groupby(level="replication").head(1))
        daily = per_rep.groupby(level="date").mean()
        daily.columns = causes
        daily["holding_people"] = ts.groupby("date")["airfield_people"].mean()
        hours = daily[causes].to_numpy(dtype=float)
        top = hours.argmax(axis=1)
        daily["binding"] = [causes[i] if hours[j, i] >= BINDING_MIN_HOURS else "none" for j, i in enumerate(top)]
        daily.index.name = "date"
        return daily

    def figures(self) -> dict[str, Figure]:
        """The standard plots as matplotlib figures, by file stem."""
        from sim.outputs.run_figures import run_figures

        return run_figures(self)


def _nested(metrics: Mapping[str, Any], prefix: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name, stats in metrics.items():
        if name.startswith(prefix):
            who, _, what = name[len(prefix) :].partition(".")
            out.setdefault(who, {})[what] = stats["mean"]
    return out


def run(
    scenario: Scenario,
    replications: int = 10,
    seed: int = 0,
    *,
    precision: float | None = None,
    max_replications: int = 200,
    executor: ExecutorLike | None = None,
    progress: Progress | None = None,
    ensemble: Ensemble | str | Path | None = None,
    keep: Iterable[str] = (),
) -> RunResult:
    """Run replications ``0..n-1`` of a scenario.

    With ``precision`` (relative, e.g. 0.05), keep adding replications (at least
    ``replications``, at most ``max_replications``) until the 95% half-width of
    ``stranded_total`` is within ``precision`` of its mean. With ``ensemble`` (an
    :class:`~sim.experiments.ensemble.Ensemble` or its CSV file), replication ``r`` runs plausible setting
    ``r mod K`` (except the keys in ``keep``), and each metric also reports its range across settings.

    ``executor``: any :class:`concurrent.futures.Executor`, or a ``dask.distributed.Client``.
    """
    if replications < 1:
        raise ValueError("replications must be at least 1")
    held = tuple(keep)
    ens = as_ensemble(ensemble, scenario, held)
    batch = _Replications(scenario, seed, ens, held, as_executor(executor), progress)
    reps = batch.run(range(replications))
    info = None
    if precision is not None:
        reps, info = _until_precise(batch, reps, precision, max_replications)
    return RunResult(scenario, seed, reps, info, ensemble=ens)


def _until_precise(
    batch: _Replications, reps: list[ReplicationResult], precision: float, max_replications: int
) -> tuple[list[ReplicationResult], dict[str, Any]]:
    """Add batches of replications (half as many again, at least 2) until the 95% half-width of
    ``stranded_total`` is within ``precision`` of its mean, or ``max_replications`` ran."""
    while True:
        values = [r.metrics["stranded_total"] for r in reps]
        mean, lo, hi = mean_ci(values)
        half = (hi - lo) / 2
        reached = len(values) >= 2 and half <= precision * abs(mean)
        if reached or len(reps) >= max_replications:
            return reps, {
                "metric": "stranded_total",
                "target_relative_half_width": precision,
                "achieved_relative_half_width": half / abs(mean) if mean else math.inf,
                "reached": bool(reached),
                "replications_needed": len(reps),
                "max_replications": max_replications,
            }
        n = len(reps)
        reps = reps + batch.run(range(n, n + min(max(2, n // 2), max_replications - n)))


def _metrics_task(args: tuple[Scenario, Mapping[str, Any], int, int]) -> Mapping[str, float]:
    """One replication of ``base`` with ``overrides`` (validated before the batch started), built
    where the task runs; only its metrics travel back."""
    base, overrides, seed, replication = args
    scenario = base.with_overrides(overrides, check_uncertain=False) if overrides else base
    return run_replication(scenario, seed, replication).metrics


def merge_setting(setting: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A plausible setting and a request's overrides, in the order they are applied. A request that
    replaces a whole table or list the setting reaches into (``disruptions``, with the setting's
    ``disruptions.2.value``) comes first, so that the setting's values inside it still hold; then the
    setting; then the rest of the request, which wins over the setting on the same key."""
    parents = {k: v for k, v in overrides.items() if any(s.startswith(f"{k}.") for s in setting)}
    rest = {k: v for k, v in overrides.items() if k not in parents}
    return {**parents, **{k: v for k, v in setting.items() if k not in rest}, **rest}


def run_batch(
    scenario: Scenario,
    requests: Sequence[tuple[Mapping[str, Any], range]],
    seed: int = 0,
    *,
    executor: ExecutorLike | None = None,
    progress: Progress | None = None,
    ensemble: Ensemble | None = None,
) -> list[list[Mapping[str, float]]]:
    """The metrics of replications ``rs`` of ``scenario`` with each request's ``(overrides, rs)``,
    all on one pass of the task engine (what a search over candidate settings, such as a
    planning search, evaluates). Replication ``r`` draws the same random streams in every request
    (common random numbers); with ``ensemble`` it runs setting ``r mod K``, the request's
    overrides winning. Every request is validated before anything runs;
    :class:`~sim.experiments.tasks.TasksFailed` names the first replication that raised."""
    for i, (overrides, _) in enumerate(requests):
        if overrides:
            scenario.with_overrides(overrides, source=f"request {i} ({dict(overrides)})")
    if ensemble is not None:
        ensemble.check(scenario, [k for overrides, _ in requests for k in overrides])

    def over(overrides: Mapping[str, Any], r: int) -> dict[str, Any]:
        setting = ensemble.settings[ensemble.setting_of(r)] if ensemble is not None else {}
        return merge_setting(setting, overrides)

    tasks = [((i, r), (scenario, over(o, r), seed, r)) for i, (o, rs) in enumerate(requests) for r in rs]
    done = collect(
        _metrics_task,
        tasks,
        executor=as_executor(executor),
        progress=progress,
        describe=lambda key: f"replication {key[1]} of request {key[0]} ({dict(requests[key[0]][0])})",
    )
    return [[done[(i, r)] for r in rs] for i, (_, rs) in enumerate(requests)]


@dataclass
class CompareResult:
    """Paired differences B - A per metric, replication by replication."""

    a: RunResult
    b: RunResult

    def _names(self, names: Iterable[str] | None) -> list[str]:
        return list(names) if names is not None else [n for n in self.a.metrics if n in self.b.metrics]

    def paired_values(self, name: str) -> list[float]:
        """B - A of one metric, per replication."""
        return [float(rb.metrics[name] - ra.metrics[name]) for ra, rb in zip(self.a.replications, self.b.replications)]

    def differences(self, names: Iterable[str] | None = None) -> pd.DataFrame:
        """One row per metric (index ``metric``): ``a_mean``, ``b_mean``, ``difference_mean`` and its
        paired 95% interval ``ci95_low``/``ci95_high``; ``se_paired`` (standard error of the paired
        differences), ``se_unpaired`` (what it would be with independent runs: the two sides'
        standard errors combined) and ``variance_reduction`` (``1 - se_paired² / se_unpaired²``: the
        share of the variance that common random numbers removed). Intervals and standard errors
        are NaN with one replication. With an ensemble, ``ci95_*`` is the stochastic interval and
        ``settings_low``/``settings_high`` the range across settings, ``settings_p5``/``settings_p50``/``settings_p95``
        the percentiles of the per-setting mean differences (:mod:`sim.experiments.ensemble`)."""
        import pandas as pd

        rows = []
        for n in self._names(names):
            mean, lo, hi = mean_ci(self.paired_values(n))
            se_p = sem(self.paired_values(n))
            se_u = math.hypot(sem(self.a.metrics[n]["values"]), sem(self.b.metrics[n]["values"]))
            reduction = 1 - (se_p / se_u) ** 2 if se_u > 0 else math.nan
            row = {
                "metric": n,
                "a_mean": self.a.mean(n),
                "b_mean": self.b.mean(n),
                "difference_mean": mean,
                "ci95_low": lo,
                "ci95_high": hi,
                "se_paired": se_p,
                "se_unpaired": se_u,
                "variance_reduction": reduction,
            }
            if self.a.ensemble:  # paired setting by setting: the two intervals of sim.experiments.ensemble
                st = ensemble_stats(
                    self.paired_values(n), [self.a.ensemble.setting_of(r) for r in range(len(self.a.replications))]
                )
                row |= {k: st[k] for k in ("ci95_low", "ci95_high", "settings_low", "settings_high")}
                row |= settings_quantiles(st["per_setting"])
            rows.append(row)
        return pd.DataFrame(rows).set_index("metric")

    def figure(self, names: Iterable[str] | None = None) -> Figure:
        """The paired differences with their 95% intervals (the headline and per-cohort stranded
        metrics unless ``names`` are given), as a matplotlib figure."""
        from sim.outputs.compare_figures import compare_differences

        d = self.summary()["differences"]
        return compare_differences(d, list(names) if names is not None else None)

    def summary(self) -> dict[str, Any]:
        from sim._version import __version__

        diffs = self.differences()
        out: dict[str, Any] = {
            "version": __version__,
            "seed": self.a.seed,
            "replications": len(self.a.replications),
            "a": {"scenario": self.a.scenario.model_dump(mode="json", by_alias=True)},
            "b": {"scenario": self.b.scenario.model_dump(mode="json", by_alias=True)},
            "differences": {
                str(n): {k: float(v) for k, v in row.items()} | {"values": self.paired_values(str(n))}
                for n, row in diffs.iterrows()
            },
        }
        if len(self.a.replications) < 2:
            out["intervals"] = NO_INTERVAL
        return out


def compare(
    a: Scenario,
    b: Scenario,
    replications: int = 10,
    seed: int = 0,
    *,
    executor: ExecutorLike | None = None,
    progress: Progress | None = None,
    ensemble: Ensemble | str | Path | None = None,
) -> CompareResult:
    """Run two scenarios on the same seeds and replications (common random numbers).

    With ``ensemble``, replication ``r`` of both sides runs setting ``r mod K``; a key that B
    sets to another value than A keeps B's value (the comparison is about that change).
    ``executor``: any :class:`concurrent.futures.Executor`, or a ``dask.distributed.Client``.
    """
    executor = as_executor(executor)
    ens = as_ensemble(ensemble, a)
    keep = [k for k in ens.keys if value_at(a, k) != value_at(b, k)] if ens else []
    if ens:
        ens.check(b, keep)  # both sides' settings checked before either runs
    return CompareResult(
        run(a, replications, seed, executor=executor, progress=progress, ensemble=ens),
        run(b, replications, seed, executor=executor, progress=progress, ensemble=ens, keep=keep),
    )
