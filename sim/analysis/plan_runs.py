"""The planning search run on a scenario: each candidate's replications through the task engine with
the scenario, the lever values as overrides and, with an ensemble, setting ``r mod K`` for replication
``r``; the goals judged on every replication's metrics; the answer as a :class:`PlanResult`.

Every candidate runs the same replication indices, hence the same random streams (common random
numbers) and, with an ensemble, the same settings: candidates differ by their levers, not by luck.
Counts are rounded up to whole rounds of the ensemble's settings (``block = K``), so each setting
weighs the same in every candidate's probability.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.analysis.plan_text import choice_sentence, refusal_sentence
from sim.analysis.planning import DEFAULT_FIRST, DEFAULT_MOST, Lever, Plan, parse_lever, per_look_alpha, plan
from sim.description.errors import ScenarioError
from sim.description.goals import Goal, all_hold, parse_goals
from sim.description.metric_catalog import metric_names
from sim.description.scenario import Scenario
from sim.experiments.ensemble import Ensemble, as_ensemble
from sim.experiments.executors import ExecutorLike, as_executor
from sim.experiments.replications import run_batch
from sim.experiments.tasks import Progress

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["GoalOutcomes", "PlanQuestion", "PlanResult", "run_plan"]

Readings = dict[tuple[tuple[str, Any], ...], dict[int, dict[str, float]]]
"""Per candidate (its lever values as sorted pairs), per replication, the metrics the goals read."""


def _candidate_key(values: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(values.items()))


@dataclass
class GoalOutcomes:
    """The ``Evaluate`` of a planning search on a scenario: runs each ``(lever values, replications)``
    through :func:`~sim.experiments.replications.run_batch` (all requests of a call on one pass of the
    task engine) and says, replication by replication, whether every goal held. It keeps the
    metrics the goals read (:attr:`readings`) for the plan's table."""

    scenario: Scenario
    goals: Sequence[Goal]
    seed: int = 0
    executor: ExecutorLike | None = None
    ensemble: Ensemble | None = None
    progress: Progress | None = None
    on_batch: Callable[[int], None] | None = None
    """Called with the number of replications a call is about to run (a progress bar's new total)."""
    readings: Readings = field(default_factory=dict)

    def __call__(self, batch: Sequence[tuple[Mapping[str, float], range]]) -> list[list[bool]]:
        if self.on_batch is not None:
            self.on_batch(sum(len(reps) for _, reps in batch))
        requests = [(dict(values), reps) for values, reps in batch]
        metrics = run_batch(
            self.scenario, requests, self.seed, executor=self.executor, progress=self.progress, ensemble=self.ensemble
        )
        read = list(dict.fromkeys(name for goal in self.goals for name in goal.metrics()))
        out = []
        for (values, reps), results in zip(batch, metrics):
            kept = self.readings.setdefault(_candidate_key(values), {})
            for r, m in zip(reps, results):
                kept[r] = {name: float(m[name]) for name in read}
            out.append([all_hold(self.goals, m) for m in results])
        return out


@dataclass
class PlanResult(Plan):
    """A :class:`~sim.analysis.planning.Plan` on a scenario: also its goals, scenario, seed and
    ensemble, what the goals read on each replication, and the plan as a sentence, a table, the
    content of ``plan.json`` and figures."""

    goals: tuple[Goal, ...] = ()
    scenario: Scenario | None = None
    seed: int = 0
    ensemble: Ensemble | None = None
    readings: Readings = field(default_factory=dict, repr=False)

    def sentence(self) -> str:
        """The answer in one sentence (what ``airlift plan`` prints)."""
        texts = [g.text for g in self.goals]
        if self.choice is not None:
            c = self.choice
            sentence = choice_sentence(texts, c.values, c.probability, c.lower, c.replications, self.scenario)
            unsettled = [d for d in self.candidates if d.cost <= c.cost and d is not c and d.verdict == "undecided"]
            if unsettled:  # the choice is the cheapest shown to meet the goal, not surely the cheapest that does
                sentence += f"; {len(unsettled)} cheaper candidate(s) stayed undecided: raise --max-replications to settle them"
            return sentence
        return refusal_sentence(texts, self.probability_target, self.best.summary(), self.scenario)

    def goal_means(self, values: Mapping[str, Any]) -> dict[str, float]:
        """The mean over its replications of each metric the goals read, for one candidate."""
        by_replication = self.readings.get(_candidate_key(values), {})
        names = list(dict.fromkeys(name for goal in self.goals for name in goal.metrics()))
        n = len(by_replication)
        return {name: sum(r[name] for r in by_replication.values()) / n for name in names} if n else {}

    def candidate_rows(self) -> list[dict[str, Any]]:
        """Every candidate, cheapest first: its levers, cost, estimate, bounds, replications and
        verdict, whether it is the choice and on the cost–probability front, and the goals' metrics."""
        front = {id(c) for c in self.front()}
        return [
            c.summary() | {"chosen": c is self.choice, "on_front": id(c) in front, "metrics": self.goal_means(c.values)}
            for c in self.candidates
        ]

    def table(self) -> pd.DataFrame:
        """:meth:`candidate_rows` as a DataFrame: one column per lever, then the rest (``mean <metric>``
        for the goals' metrics)."""
        import pandas as pd

        rows = []
        for row in self.candidate_rows():
            flat = dict(row["levers"]) | {k: v for k, v in row.items() if k not in ("levers", "metrics")}
            rows.append(flat | {f"mean {name}": v for name, v in row["metrics"].items()})
        return pd.DataFrame(rows)

    def summary(self) -> dict[str, Any]:
        """What ``plan.json`` holds (see docs/planning.md)."""
        from sim._version import __version__

        c = self.choice
        out: dict[str, Any] = {
            "goal": " and ".join(g.text for g in self.goals),
            "goals": [g.text for g in self.goals],
            "probability_target": self.probability_target,
            "confidence": self.confidence,
            "levers": [{"key": lv.key, "values": list(lv.values), "cost_per_unit": lv.cost_per_unit} for lv in self.levers],
            "choice": dict(c.values) if c is not None else None,
            "probability": c.probability if c is not None else None,
            "probability_low": c.lower if c is not None else None,
            "probability_high": c.upper if c is not None else None,
            "cost": c.cost if c is not None else None,
            "sentence": self.sentence(),
            "best": self.best.summary(),
            "search": self._search(),
            "candidates": self.candidate_rows(),
            "front": [dict(f.values) for f in self.front()],
            "replications": self.replications,
            "seed": self.seed,
            "version": __version__,
            "scenario": self.scenario.model_dump(mode="json", by_alias=True) if self.scenario is not None else None,
        }
        if self.ensemble is not None:
            out["ensemble"] = self.ensemble.describe()
        return out

    def _search(self) -> dict[str, Any]:
        return {
            "first": self.first,
            "most": self.most,
            "looks": self.looks,
            "alpha_per_look": per_look_alpha(self.confidence, self.looks, len(self.candidates)),
            "block": len(self.ensemble) if self.ensemble is not None else 1,
            "replications_total": self.replications,
            "bound": "one-sided Clopper-Pearson, Bonferroni over every look at every candidate",
        }

    def figures(self) -> dict[str, Figure]:
        """Probability against each lever (and the cost–probability front for several levers), by file stem."""
        from sim.outputs.plan_figures import plan_figures

        start = self.scenario.start if self.scenario is not None else None
        return plan_figures(self.candidate_rows(), [lv.key for lv in self.levers], self.probability_target, start)


def _levers(levers: str | Lever | Sequence[str | Lever], costs: Mapping[str, float] | None, scenario: Scenario) -> list[Lever]:
    """Levers parsed, costed and checked against the scenario (each key must take its lowest and
    highest value), before anything runs."""
    given = [levers] if isinstance(levers, str | Lever) else list(levers)
    parsed = [parse_lever(x) if isinstance(x, str) else x for x in given]
    if not parsed:
        raise ScenarioError("--lever", [("", "at least one lever is needed, e.g. security.end=17..21")])
    keys = [lv.key for lv in parsed]
    twice = [(k, "given twice") for k in dict.fromkeys(k for k in keys if keys.count(k) > 1)]
    if twice:
        raise ScenarioError("--lever", twice)
    stray = [(k, f"a cost for a key that is no lever (levers: {', '.join(keys)})") for k in costs or {} if k not in keys]
    if stray:
        raise ScenarioError("--cost", stray)
    out = [Lever(lv.key, lv.values, (costs or {}).get(lv.key, lv.cost_per_unit)) for lv in parsed]
    for lv in out:
        for value in dict.fromkeys((lv.values[0], lv.values[-1])):
            scenario.with_overrides({lv.key: value}, source=f"--lever {lv.key}={value}")
    return out


@dataclass(frozen=True)
class PlanQuestion:
    """A planning question checked before anything runs: goals over the scenario's metric names,
    levers that are keys of the scenario taking their values, an ensemble valid for it."""

    scenario: Scenario
    goals: tuple[Goal, ...]
    probability: float
    levers: tuple[Lever, ...]
    ensemble: Ensemble | None = None

    @classmethod
    def of(
        cls,
        scenario: Scenario,
        goals: str | Sequence[str],
        probability: float,
        levers: str | Lever | Sequence[str | Lever],
        costs: Mapping[str, float] | None = None,
        ensemble: Ensemble | str | Path | None = None,
    ) -> PlanQuestion:
        """The question, or a :class:`ScenarioError` naming the goal, lever, cost or ensemble at fault."""
        if not 0 < probability < 1:
            raise ScenarioError("--probability", [("", f"{probability} is not strictly between 0 and 1")])
        parsed_goals = parse_goals([goals] if isinstance(goals, str) else list(goals), metric_names(scenario))
        if not parsed_goals:
            raise ScenarioError("--goal", [("", "at least one goal is needed, e.g. 'cohort.siv.evacuated >= 50000'")])
        parsed_levers = _levers(levers, costs, scenario)
        ens = as_ensemble(ensemble, scenario, [lv.key for lv in parsed_levers])
        return cls(scenario, tuple(parsed_goals), probability, tuple(parsed_levers), ens)

    def answer(
        self,
        *,
        replications: int = DEFAULT_FIRST,
        max_replications: int = DEFAULT_MOST,
        seed: int = 0,
        executor: ExecutorLike | None = None,
        confidence: float = 0.95,
        progress: Progress | None = None,
        on_batch: Callable[[int], None] | None = None,
    ) -> PlanResult:
        """Run the search (:func:`sim.analysis.planning.plan`) with replications of the scenario."""
        if replications < 1 or max_replications < 1:
            raise ValueError("replications and max_replications must be at least 1")
        outcomes = GoalOutcomes(self.scenario, self.goals, seed, as_executor(executor), self.ensemble, progress, on_batch)
        found = plan(
            self.levers,
            self.probability,
            outcomes,
            first=replications,
            most=max_replications,
            confidence=confidence,
            block=len(self.ensemble) if self.ensemble is not None else 1,
        )
        return PlanResult(
            **{name: getattr(found, name) for name in ("probability_target", "confidence", "levers", "candidates", "choice")},
            first=found.first,
            most=found.most,
            goals=self.goals,
            scenario=self.scenario,
            seed=seed,
            ensemble=self.ensemble,
            readings=outcomes.readings,
        )


def run_plan(
    scenario: Scenario,
    goals: str | Sequence[str],
    probability: float,
    levers: str | Lever | Sequence[str | Lever],
    *,
    costs: Mapping[str, float] | None = None,
    replications: int = DEFAULT_FIRST,
    max_replications: int = DEFAULT_MOST,
    seed: int = 0,
    executor: ExecutorLike | None = None,
    ensemble: Ensemble | str | Path | None = None,
    confidence: float = 0.95,
    progress: Progress | None = None,
) -> PlanResult:
    """The cheapest lever values under which every goal holds with ``probability``, shown by a
    one-sided lower confidence bound at ``confidence`` (see :func:`sim.analysis.planning.plan`).

    ``goals``: comparisons over metric names (``"cohort.siv.evacuated >= 50000"``), all required;
    ``levers``: ``"KEY=LO..HI[:STEP]"`` texts or :class:`~sim.analysis.planning.Lever` objects;
    ``costs``: per unit of a lever above its lowest value (default 1). Every candidate is screened
    with ``replications``, then the undecided ones, cheapest first, are doubled up to
    ``max_replications``. With ``ensemble``, replication ``r`` runs plausible setting ``r mod K``
    (the levers win over the setting's values) and counts are rounded up to multiples of ``K``.
    ``executor``: any :class:`concurrent.futures.Executor`, or a ``dask.distributed.Client``."""
    question = PlanQuestion.of(scenario, goals, probability, levers, costs, ensemble)
    return question.answer(
        replications=replications,
        max_replications=max_replications,
        seed=seed,
        executor=executor,
        confidence=confidence,
        progress=progress,
    )
