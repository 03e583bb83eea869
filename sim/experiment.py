"""Experiments: replications with confidence intervals, precision targets, paired comparisons.

This is the only layer that runs simulations. A replication is a pure function of
``(scenario, seed, replication)``; replication ``r`` of every scenario draws from the same
named streams, so comparisons between scenarios are paired (common random numbers). Tasks can
run on any :class:`concurrent.futures.Executor`; results are identical whatever runs them.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np

from sim.scenario import Scenario, ScenarioError
from sim.stats import mean_ci

__all__ = ["run_replication", "RunResult", "run", "compare", "CompareResult", "aggregate", "make_executor"]

Progress = Callable[[int], None]


def run_replication(scenario: Scenario, seed: int, replication: int) -> dict[str, Any]:
    """Build, run and summarise one replication: ``{"metrics", "daily", "hourly"}``."""
    from sim.model.world import World  # the description layer never imports SimPy

    world = World(scenario, seed, replication)
    world.run()
    return world.summary()


def _task(args: tuple[Scenario, int, int]) -> dict[str, Any]:
    return run_replication(*args)


def _map(tasks: list[tuple[Scenario, int, int]], executor: Executor | None, progress: Progress | None) -> list[dict[str, Any]]:
    """Run tasks in order (serially, or submitted all at once to an executor)."""
    results = map(_task, tasks) if executor is None else (f.result() for f in [executor.submit(_task, t) for t in tasks])
    out = []
    for r in results:
        out.append(r)
        if progress:
            progress(1)
    return out


def aggregate(values_by_metric: Mapping[str, list[float]]) -> dict[str, dict[str, Any]]:
    """``{name: {"mean", "ci95_low", "ci95_high", "values"}}`` from per-replication values."""
    out = {}
    for name, values in values_by_metric.items():
        mean, lo, hi = mean_ci(values)
        out[name] = {"mean": mean, "ci95_low": lo, "ci95_high": hi, "values": list(values)}
    return out


@dataclass
class RunResult:
    """Replications of one scenario. ``summary()`` is what ``summary.json`` holds."""

    scenario: Scenario
    seed: int
    replications: list[dict[str, Any]]
    precision: dict[str, Any] | None = None
    _metrics: dict[str, dict[str, Any]] | None = field(default=None, repr=False)

    @property
    def metrics(self) -> dict[str, dict[str, Any]]:
        """Each metric's mean, 95% interval and per-replication values."""
        if self._metrics is None:
            names = list(self.replications[0]["metrics"])
            self._metrics = aggregate({n: [r["metrics"][n] for r in self.replications] for n in names})
        return self._metrics

    def mean(self, name: str) -> float:
        return float(self.metrics[name]["mean"])

    def daily(self) -> list[dict[str, Any]]:
        """Mean evacuated and departures per local calendar day, and evacuated by operator."""
        reps = self.replications
        rows = []
        for i, day in enumerate(reps[0]["daily"]):
            ops: dict[str, float] = {}
            for r in reps:
                for op, v in r["daily"][i]["by_operator"].items():
                    ops[op] = ops.get(op, 0.0) + v / len(reps)
            rows.append(
                {
                    "date": day["date"],
                    "evacuated": float(np.mean([r["daily"][i]["evacuated"] for r in reps])),
                    "departures": float(np.mean([r["daily"][i]["departures"] for r in reps])),
                    "by_operator": dict(sorted(ops.items())),
                }
            )
        return rows

    def summary(self) -> dict[str, Any]:
        from sim import __version__

        out: dict[str, Any] = {
            "scenario": self.scenario.model_dump(mode="json", by_alias=True),
            "seed": self.seed,
            "replications": len(self.replications),
            "version": __version__,
            "metrics": self.metrics,
            "by_cohort": _nested(self.metrics, "cohort."),
            "by_operator": _nested(self.metrics, "operator."),
            "daily": self.daily(),
        }
        if self.precision:
            out["precision"] = self.precision
        return out

    def timeseries(self):  # -> pandas.DataFrame
        """One row per replication per simulated hour (see the README for the columns)."""
        import pandas as pd

        frames = []
        for r, rep in enumerate(self.replications):
            h = rep["hourly"]
            df = pd.DataFrame({k: np.asarray(v) for k, v in h.items()})
            df.insert(0, "replication", r)
            frames.append(df)
        df = pd.concat(frames, ignore_index=True)
        start = pd.Timestamp(self.scenario.start)
        df.insert(1, "time", [(start + pd.Timedelta(hours=float(x))).isoformat() for x in df["hours"]])
        return df

    def limits_by_day(self):  # -> pandas.DataFrame
        """Which constraint bound throughput when, per local day (mean over replications).

        Columns: hours spent waiting by cause (aircraft-hours for passengers ``evacuees``, for
        staging room, for a spot, for the runway; gate-hours stopped by a full holding area,
        ``holding``), ``holding_people`` (mean people waiting inside), and ``binding``:

        - ``staging``, ``ramp`` or ``runway`` when that wait is the largest aircraft wait and at
          least five aircraft-hours;
        - else ``airlift`` when people waited inside for aircraft (on average at least 5% of the
          holding capacity): they were through the gates, the airlift could not take them faster;
        - else ``gates`` when aircraft waited for passengers: people could not get through;
        - else ``none``.
        """
        from sim.metrics import LIMIT_CAUSES

        ts = self.timeseries()
        # a sample on the hour closes the hour before it: count it on that hour's day
        start = self.scenario.start
        ts["date"] = [(start + timedelta(hours=h - 1)).date().isoformat() for h in ts["hours"]]
        ts = ts[ts["hours"] > 0]
        cols = [f"limit_{c}_hours" for c in LIMIT_CAUSES]
        last = ts.groupby(["replication", "date"])[cols].max()
        per_rep = last.groupby(level="replication").diff().fillna(last.groupby(level="replication").head(1))
        daily = per_rep.groupby(level="date").mean()
        daily.columns = list(LIMIT_CAUSES)
        daily["holding_people"] = ts.groupby("date")["airfield_people"].mean()
        crowded = 0.05 * self.scenario.airfield.holding_capacity_people

        def binding(row) -> str:
            top = max(("staging", "ramp", "runway"), key=lambda c: row[c])
            if row[top] >= max(row["evacuees"], 5.0):
                return top
            if row["holding_people"] >= crowded:
                return "airlift"
            return "gates" if row["evacuees"] > 0 else "none"

        daily["binding"] = daily.apply(binding, axis=1)
        return daily

    def figures(self) -> dict[str, Any]:
        """The standard plots as matplotlib figures, by file stem."""
        from sim.plots import run_figures

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
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run replications ``0..n-1`` of a scenario.

    With ``precision`` (relative, e.g. 0.05), keep adding replications (at least
    ``replications``, at most ``max_replications``) until the 95% half-width of
    ``stranded_total`` is within ``precision`` of its mean.
    """
    if replications < 1:
        raise ValueError("replications must be at least 1")
    reps = _map([(scenario, seed, r) for r in range(replications)], executor, progress)
    info = None
    if precision is not None:
        while True:
            values = [r["metrics"]["stranded_total"] for r in reps]
            mean, lo, hi = mean_ci(values)
            half = (hi - lo) / 2
            reached = len(values) >= 2 and half <= precision * abs(mean)
            if reached or len(reps) >= max_replications:
                info = {
                    "metric": "stranded_total",
                    "target_relative_half_width": precision,
                    "achieved_relative_half_width": half / abs(mean) if mean else math.inf,
                    "reached": bool(reached),
                    "replications_needed": len(reps),
                    "max_replications": max_replications,
                }
                break
            n = len(reps)
            batch = min(max(2, n // 2), max_replications - n)
            reps += _map([(scenario, seed, r) for r in range(n, n + batch)], executor, progress)
    return RunResult(scenario, seed, reps, info)


@dataclass
class CompareResult:
    """Paired differences B - A per metric, replication by replication."""

    a: RunResult
    b: RunResult

    def differences(self, names: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        names = list(names) if names is not None else [n for n in self.a.metrics if n in self.b.metrics]
        out = {}
        for n in names:
            diffs = [rb["metrics"][n] - ra["metrics"][n] for ra, rb in zip(self.a.replications, self.b.replications)]
            mean, lo, hi = mean_ci(diffs)
            out[n] = {
                "a_mean": self.a.mean(n),
                "b_mean": self.b.mean(n),
                "difference_mean": mean,
                "ci95_low": lo,
                "ci95_high": hi,
                "values": diffs,
            }
        return out

    def summary(self) -> dict[str, Any]:
        from sim import __version__

        return {
            "version": __version__,
            "seed": self.a.seed,
            "replications": len(self.a.replications),
            "a": {"scenario": self.a.scenario.model_dump(mode="json", by_alias=True)},
            "b": {"scenario": self.b.scenario.model_dump(mode="json", by_alias=True)},
            "differences": self.differences(),
        }


def compare(
    a: Scenario,
    b: Scenario,
    replications: int = 10,
    seed: int = 0,
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> CompareResult:
    """Run two scenarios on the same seeds and replications (common random numbers)."""
    return CompareResult(
        run(a, replications, seed, executor=executor, progress=progress),
        run(b, replications, seed, executor=executor, progress=progress),
    )


def make_executor(workers: int | None = None, dask: str | None = None) -> AbstractContextManager[Executor | None]:
    """A context manager yielding the Executor to run on, and closing it afterwards.

    ``None`` (serial) unless ``workers > 1`` (a local process pool, ``forkserver`` start method)
    or ``dask`` is given (``"local"`` for a ``LocalCluster`` of ``workers`` processes, or a
    scheduler address); a Dask client serves through ``Client.get_executor()``.
    """

    @contextlib.contextmanager
    def cm() -> Iterator[Executor | None]:
        if dask:
            try:
                from distributed import Client, LocalCluster
            except ImportError:
                raise ScenarioError("--dask", [("", "Dask is not installed: pip install 'airlift[dask]'")]) from None
            if dask == "local":
                with (
                    LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
                    Client(cluster) as client,
                ):
                    yield client.get_executor(pure=False)
            else:
                with Client(dask) as client:
                    yield client.get_executor(pure=False)
        elif workers and workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            ex = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method))
            try:
                yield ex
            except BaseException:
                # interrupted (Ctrl-C) or failed: drop queued tasks instead of running them all
                ex.shutdown(wait=False, cancel_futures=True)
                raise
            else:
                ex.shutdown(wait=True)
        else:
            yield None

    return cm()
