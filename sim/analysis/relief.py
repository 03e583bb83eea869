"""What limited the airlift, measured by relief: each resource class relaxed by a fraction, over
the whole window and one local day at a time, paired with the unrelaxed scenario replication by
replication (common random numbers); the people gained, in total and per cohort, with 95% intervals.

A relaxation is one ``relief`` disruption (:class:`sim.description.disruptions.Relief`) added to the
scenario, run through the task engine (:func:`sim.experiments.replications.run_batch`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

import pandas as pd

from sim.description.disruptions import ReliefResource
from sim.description.errors import ScenarioError
from sim.experiments.ensemble import Ensemble, as_ensemble
from sim.experiments.replications import run_batch
from sim.outputs.explain_figures import WHOLE, explain_heatmap
from sim.statistics import mean_ci

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sim.description.scenario import Scenario
    from sim.experiments.executors import ExecutorLike

__all__ = ["RESOURCES", "WHOLE", "Day", "Explanation", "explain", "local_days", "relief_overrides"]

RESOURCES: tuple[str, ...] = get_args(ReliefResource)
"""The resource classes relaxed, in the order tables and figures show them."""
TOTAL = "evacuated_total"
"""The metric a gain is counted in."""
RESOURCE_TEXT = {
    "lanes": "screening lanes at every entry point",
    "aircraft": "aircraft in every fleet",
    "crews": "crews per aircraft in every fleet",
    "holding": "holding room",
    "staging": "staging room and outflow at every base",
    "runway": "runway separation cut",
    "spots": "parking spots of every size class",
}
"""What a relief of each resource class adds, in words."""


@dataclass(frozen=True)
class Day:
    """One local calendar day of the window, in hours after the start (clipped to the window)."""

    date: str
    start: float
    end: float


def local_days(scenario: Scenario) -> list[Day]:
    """Every local calendar day the security window touches (from ``security.start``), in the scenario's local time."""
    end, secured = scenario.end_hours, scenario.secured_from_hours
    start = scenario.start
    days: list[Day] = []
    day = start.date()
    while True:
        midnight = datetime.combine(day, time(0), tzinfo=start.tzinfo)
        a, z = scenario.hours(midnight), scenario.hours(midnight + timedelta(days=1))
        if a >= end:
            return days
        if z > secured:
            days.append(Day(day.isoformat(), max(a, secured), min(z, end)))
        day += timedelta(days=1)


def relief_overrides(scenario: Scenario, resource: str, fraction: float, start: float, end: float) -> dict[str, Any]:
    """The override adding one relief of ``resource`` on every target over ``[start, end)`` hours."""
    kept = [d.model_dump(mode="python", by_alias=True) for d in scenario.disruptions]
    relief = {"kind": "relief", "resource": resource, "target": "*", "fraction": fraction, "start": start / 24, "end": end / 24}
    return {"disruptions": [*kept, relief]}


@dataclass
class Explanation:
    """The gains of every relaxation: ``table`` has one row per (resource, day, cohort) with the
    mean gain in people evacuated and its paired 95% interval; ``cohort`` is ``total`` for all."""

    scenario: Scenario
    fraction: float
    replications: int
    seed: int
    days: list[Day]
    table: pd.DataFrame
    ensemble: str | None = None
    baseline: dict[str, float] = field(default_factory=dict)
    """Mean people evacuated without relief, in total and per cohort."""

    def totals(self) -> pd.DataFrame:
        """``explain.csv``: resource, day, gain_mean, ci95_low, ci95_high, replications (totals)."""
        rows = self.table[self.table["cohort"] == "total"]
        return rows.drop(columns="cohort").reset_index(drop=True)

    def by_cohort(self) -> pd.DataFrame:
        """The gains per cohort (``explain_cohorts.csv``)."""
        return self.table[self.table["cohort"] != "total"].reset_index(drop=True)

    def best_by_day(self) -> pd.DataFrame:
        """For each day (and the whole window), the relief that gains most, with its interval."""
        totals = self.totals()
        best = totals.loc[totals.groupby("day", sort=False)["gain_mean"].idxmax()]
        return best.reset_index(drop=True)

    def sentences(self) -> list[str]:
        """What a planner reads first: the relief worth most over the window, and by day."""
        out = []
        totals = self.totals()
        for row in self.best_by_day().itertuples():
            sure = "" if row.ci95_low > 0 else " (not distinguishable from nothing)"
            when = "over the whole window" if row.day == WHOLE else f"on {row.day}"
            if row.gain_mean <= 0:
                out.append(
                    f"{when}: no relief gains anyone (the best, {RESOURCE_TEXT[str(row.resource)]}: {row.gain_mean:+,.0f})"
                )
                continue
            same = totals[(totals["day"] == row.day) & (totals["resource"] != row.resource)]
            tied = same.loc[(same["gain_mean"] - row.gain_mean).abs() < 0.5, "resource"].tolist()
            also = f"; as much: {', '.join(tied)}" if tied else ""
            out.append(
                f"{when}: {RESOURCE_TEXT[str(row.resource)]} gains most, {row.gain_mean:+,.0f} "
                f"{'person' if round(abs(row.gain_mean)) == 1 else 'people'} "
                f"[{row.ci95_low:+,.0f}, {row.ci95_high:+,.0f}]{sure}{also}"
            )
        return out

    def figures(self) -> dict[str, Figure]:
        """``explain_heatmap``: people gained by resource and day."""
        return {"explain_heatmap": explain_heatmap(self.totals(), list(RESOURCES), self.fraction, self.replications)}

    def summary(self) -> dict[str, Any]:
        """``explain.json``'s content (besides the command and the files)."""
        from sim._version import __version__

        return {
            "kind": "explain",
            "version": __version__,
            "scenario_name": self.scenario.name,
            "fraction": self.fraction,
            "replications": self.replications,
            "seed": self.seed,
            "ensemble": self.ensemble,
            "resources": list(RESOURCES),
            "days": [{"date": d.date, "start_hours": d.start, "end_hours": d.end} for d in self.days],
            "baseline": self.baseline,
            "sentences": self.sentences(),
            "best_by_day": self.best_by_day().to_dict("records"),
            "scenario": self.scenario.model_dump(mode="json", by_alias=True),
        }


def _gain_rows(
    resource: str, day: str, base: Sequence[Mapping[str, float]], relieved: Sequence[Mapping[str, float]], cohorts: Sequence[str]
) -> list[dict[str, Any]]:
    """One row for the total and one per cohort: the paired gains' mean and 95% interval."""
    rows = []
    for cohort, metric in [("total", TOTAL), *((c, f"cohort.{c}.evacuated") for c in cohorts)]:
        gains = [r[metric] - b[metric] for b, r in zip(base, relieved, strict=True)]
        mean, low, high = mean_ci(gains)
        rows.append(
            {
                "resource": resource,
                "day": day,
                "cohort": cohort,
                "gain_mean": mean,
                "ci95_low": low,
                "ci95_high": high,
                "replications": len(gains),
            }
        )
    return rows


def explain(
    scenario: Scenario,
    replications: int = 4,
    fraction: float = 0.5,
    seed: int = 0,
    *,
    executor: ExecutorLike | None = None,
    ensemble: Ensemble | str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> Explanation:
    """Relax each resource class by ``fraction`` over the whole window and over each local day, and
    measure the people gained against the scenario unrelaxed, replication by replication (the same
    ``replications`` indices everywhere: common random numbers). With ``ensemble``, replication ``r``
    runs plausible setting ``r mod K`` in every request."""
    if not 0 < fraction <= 100:
        raise ScenarioError(
            "--relief", [("", f"{fraction:g}: a relief is a fraction above 0 (0.5: half as much again), at most 100")]
        )
    ensemble = as_ensemble(ensemble, scenario, keep=["disruptions"])
    days = local_days(scenario)
    periods = [(WHOLE, scenario.secured_from_hours, scenario.end_hours), *((d.date, d.start, d.end) for d in days)]
    asked = [(res, day, relief_overrides(scenario, res, fraction, a, z)) for res in RESOURCES for day, a, z in periods]
    reps = range(replications)
    results = run_batch(
        scenario, [({}, reps), *((o, reps) for _, _, o in asked)], seed, executor=executor, progress=progress, ensemble=ensemble
    )
    base, cohorts = results[0], list(scenario.cohorts)
    rows = [
        row
        for (res, day, _), relieved in zip(asked, results[1:], strict=True)
        for row in _gain_rows(res, day, base, relieved, cohorts)
    ]
    baseline = {
        c: mean_ci([b[m] for b in base])[0] for c, m in [("total", TOTAL), *((c, f"cohort.{c}.evacuated") for c in cohorts)]
    }
    return Explanation(
        scenario=scenario,
        fraction=fraction,
        replications=replications,
        seed=seed,
        days=days,
        table=pd.DataFrame(rows),
        ensemble=ensemble.source if ensemble is not None else None,
        baseline=baseline,
    )
