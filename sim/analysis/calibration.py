"""Calibration to published figures by history matching in waves (``airlift calibrate``).

This module owns the targets (``[targets]``: metric name -> observed value and uncertainty) and the
stages of a calibration, each an explicit-point sweep (runs stream to disk on any executor and
``--resume`` completes exactly the missing ones; each stage's points are saved in its ``plan.json``
before it runs): the Morris screening (``DIR/screening/``,
:mod:`sim.analysis.calibration_screening`), the waves (``DIR/wave_<k>/``) and the final sample of
the non-implausible space (``DIR/final_<W>/``), whose settings confirmed by simulation are the
ensemble. The numerics (emulators, their validation, implausibility) are in
:mod:`sim.analysis.history_matching`; the outputs in :mod:`sim.analysis.calibration_summary`.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis import history_matching as hm
from sim.analysis.calibration_screening import TRAJECTORIES, Screening, screen, screening_design
from sim.analysis.calibration_summary import Calibration, simulated_implausibility, summarise
from sim.analysis.target_values import dated_values, target_hours
from sim.description.errors import ScenarioError
from sim.description.scenario import Scenario
from sim.description.targets import Target
from sim.description.uncertainty import Parameter, to_points
from sim.experiments.identity import scenario_hash
from sim.experiments.replications import ReplicationResult
from sim.experiments.sweeps import SweepSpec, read_results, run_sweep

__all__ = [
    "load_targets", "check_targets", "targets_until", "calibrate", "Calibration", "PLAN", "Budget", "plan_budget", "next_round",
]  # fmt: skip

PLAN = "calibration_plan.json"
CANDIDATE_BATCH = 16_384  # Halton candidates per screening batch
MAX_BATCHES = 8
DISCREPANCY = 0.05
"""Model discrepancy (an sd, relative to the observed figure) of a target that gives none."""
ENSEMBLE_SIZE = 200
"""Settings drawn from the non-implausible space and run for the final ensemble."""
CUT_RANK = 2
"""Early waves cut on the 2nd largest implausibility (see :func:`history_matching.cut_rank`)."""
FINAL_SHARE = 0.25
"""The least share of the points left after the screening kept for the final sample's rounds."""
MAX_ROUND = 4
"""A later round of the final sample runs at most this many times ``--ensemble-size`` settings."""
MAX_ROUNDS = 20
"""Most rounds of the final sample (each refits the emulators)."""
FINAL = "final sample"
"""The label of every round of the final sample."""
POINTS_PER_ACTIVE = 10
"""Wave 0 runs at least this many points per active input (the "10 d" rule of Loeppky et al. 2009)."""


def load_targets(path: str | Path) -> dict[str, Target]:
    """A targets file: a TOML ``[targets]`` table (and an optional ``description``)."""
    from pydantic import TypeAdapter, ValidationError

    from sim.description.validation import bound_message, field_name

    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(str(p), [("", "file not found")]) from None
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(str(p), [("", f"TOML syntax error: {e}")]) from None
    problems = [(k, "unknown key (a targets file holds a [targets] table)") for k in raw if k not in ("targets", "description")]
    if not isinstance(raw.get("targets"), dict) or not raw["targets"]:
        problems.append(("targets", "missing: a table of metric names and their published values"))
    if problems:
        raise ScenarioError(str(p), problems)
    try:
        return TypeAdapter(dict[str, Target]).validate_python(raw["targets"])
    except ValidationError as e:
        errs = []
        for err in e.errors(include_url=False):
            msg = bound_message(err["type"], err.get("ctx") or {}) or err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling; unknown keys are errors)"
            errs.append((field_name(("targets", *err["loc"])), msg))
        raise ScenarioError(str(p), errs) from None


def check_targets(targets: Mapping[str, Target], scenario: Scenario, source: str) -> None:
    """Every end-of-run target must name a metric a run of ``scenario`` produces (the metric
    catalogue); every dated one a series of ``scenario`` at times inside its security window."""
    from sim.description.metric_catalog import metric_names
    from sim.description.targets import target_problems

    valid = metric_names(scenario)
    listed = ", ".join(valid)
    problems = [
        (f"targets.{n}", f"unknown metric (see `airlift metrics`; valid: {listed})")
        for n, t in targets.items()
        if not t.dated and n not in valid
    ]
    for n, t in targets.items():
        problems += target_problems(n, t, scenario.operators, scenario.hours, scenario.end_hours)
    if problems:
        raise ScenarioError(source, problems)


def targets_until(targets: Mapping[str, Target], scenario: Scenario, until: Any | None) -> dict[str, Target]:
    """The targets dated at or before ``until`` (a datetime or days after the start; ``None``: all).
    A series read at a time is dated then, a window at its end, an end-of-run metric at
    ``security.end`` (excluded unless ``until`` is at or after it)."""
    if until is None:
        return dict(targets)
    limit = scenario.hours(until)
    kept = {n: t for n, t in targets.items() if target_hours(t, scenario) <= limit + 1e-9}
    if not kept:
        why = f"no target is dated at or before {until} (end-of-run metrics are dated at security.end)"
        raise ScenarioError("--until", [("", why)])
    return kept


def _observations(targets: Mapping[str, Target], discrepancy: float = DISCREPANCY) -> list[hm.Observation]:
    """The targets as history matching reads them; a target without its own ``discrepancy`` gets
    ``discrepancy`` times its observed value (an sd) added to its variance."""
    out = []
    for n, t in targets.items():
        variance = t.variance + (0.0 if t.discrepancy is not None else (discrepancy * t.observed) ** 2)
        floor = None if t.min is None else float(t.min)
        ceiling = None if t.max is None else float(t.max)
        out.append(hm.Observation(n, t.observed, variance, floor, ceiling))
    return out


@dataclass(frozen=True)
class Budget:
    """How a calibration spends its runs: screening points, wave points and the final sample
    (each point run ``replications`` times)."""

    trajectories: int
    """Morris trajectories of the screening (0: no screening, every input is active)."""
    screening_points: int
    ensemble_size: int
    """Settings of the final sample's first round (the ensemble is those that simulation confirms)."""
    wave_points: int
    """Points of all the waves together."""
    waves: int
    points: int = 0
    """Every point the budget affords (``budget // replications``): the final sample's rounds may
    use whatever the screening and the waves leave (:data:`FINAL_SHARE` of it at least)."""

    def most_active(self) -> int:
        """Active inputs wave 0 can afford :data:`POINTS_PER_ACTIVE` points each for."""
        return max(1, (self.wave_points - 4 * (self.waves - 1)) // POINTS_PER_ACTIVE)

    def first_wave(self, active: int) -> int:
        """Wave 0's points: its share of the wave points, but at least 10 per active input (and 4
        left for each later wave)."""
        return min(max(self.wave_points // self.waves, POINTS_PER_ACTIVE * active), self.wave_points - 4 * (self.waves - 1))

    def later_wave(self, first: int) -> int:
        """Each later wave's points: the rest, shared equally."""
        return (self.wave_points - first) // max(self.waves - 1, 1)

    def describe(self, replications: int) -> dict[str, int]:
        return {
            "screening_trajectories": self.trajectories,
            "screening_runs": self.screening_points * replications,
            "wave_runs": self.wave_points * replications,
            "final_sample_runs": (self.points - self.screening_points - self.wave_points) * replications,
            "final_sample_first_round_runs": self.ensemble_size * replications,
        }


def plan_budget(budget: int, replications: int, inputs: int, waves: int, ensemble_size: int) -> Budget:
    """Share ``budget`` runs: the screening (Morris, :data:`TRAJECTORIES` trajectories, fewer if
    they would take more than a third of the budget, none below 2 or with fewer than 3 inputs),
    the final sample (a first round of ``ensemble_size`` settings, at most a third of the budget;
    with its later rounds, at least :data:`FINAL_SHARE` of what the screening leaves) and the waves."""
    trajectories = 0
    if inputs >= 3:
        trajectories = min(TRAJECTORIES, budget // 3 // ((inputs + 1) * replications))
        trajectories = trajectories if trajectories >= 2 else 0
    screening = trajectories * (inputs + 1)
    points = budget // replications
    size = max(1, min(ensemble_size, budget // (3 * replications)))
    final = max(size, int((points - screening) * FINAL_SHARE))
    left = points - screening - final
    if left < 4 * waves:
        why = (
            f"{budget} runs leave {max(left, 0)} points for {waves} waves (at least 4 each) after the screening "
            f"({screening} points) and the final sample ({final} settings) at -n {replications}: give a larger --budget"
        )
        raise ScenarioError("--budget", [("", why)])
    return Budget(trajectories, screening, size, left, waves, points)


def _definition(scenario: Scenario, targets: Mapping[str, Target], params: Sequence[Parameter], **kw: Any) -> dict[str, Any]:
    from sim._version import __version__

    return {
        "method": "history matching in waves after Morris screening: validated Gaussian-process emulators (scikit-learn), "
        "implausibility cut-off, a final sample of the non-implausible space confirmed by simulation",
        "cutoff": hm.CUTOFF,
        "scenario": scenario.name,
        "scenario_hash": scenario_hash(scenario),
        "targets": {
            n: t.model_dump(mode="json", exclude_none=True, exclude_defaults=True, by_alias=True) for n, t in targets.items()
        },
        "parameters": [p.describe() for p in params],
        **kw,
        "version": __version__,
    }


STAGES_BEFORE = 1
"""Stages before wave 0 (the screening)."""


def _stages(waves: int) -> list[tuple[str, str]]:
    """Every stage of a calibration with ``waves`` waves: its label and its folder."""
    return [("screening", "screening"), *((f"wave {k}", f"wave_{k}") for k in range(waves)), (FINAL, f"final_{waves}")]


def _gather(out: Path, stages: Sequence[tuple[str, str]], names: list[str], n_params: int):  # -> (runs, u, means)
    """Every run of the finished ``stages`` (with ``stage`` and ``stage_no`` columns), the per-point
    replication means (indexed by stage_no and point) and their unit-cube coordinates."""
    import pandas as pd

    frames, units = [], {}
    for no, (label, folder) in enumerate(stages):
        if not (out / folder / "results.csv").exists():
            continue
        units[no], _ = _read_wave_plan(out / folder / "plan.json", n_params)
        df = read_results(out / folder).copy()  # one block: adding columns stays cheap
        df["stage"], df["stage_no"] = label, no
        frames.append(df)
    if not frames:
        return pd.DataFrame(), np.zeros((0, n_params)), pd.DataFrame()
    runs = pd.concat(frames, ignore_index=True)
    means = runs.groupby(["stage_no", "point"], sort=True)[names].mean()
    u_all = np.vstack([units[no][p] for no, p in means.index]) if len(means) else np.zeros((0, n_params))
    return runs, u_all, means


def _v_stoch(runs: Any, names: list[str]) -> np.ndarray:
    """The variance of one replication around its point's mean, pooled over every point run."""
    groups = (runs["stage_no"].astype(str) + ":" + runs["point"].astype(str)).to_numpy()
    return hm.pooled_variance(runs[names].to_numpy(dtype=float), groups)


# long: the whole calibration in order (check, plan, screening, waves, final sample, summary), one call each
def calibrate(
    scenario: Scenario,
    targets: Mapping[str, Target],
    params: Sequence[Parameter],
    out: str | Path,
    *,
    budget: int = 240,
    replications: int = 2,
    seed: int = 0,
    waves: int = 3,
    ensemble_size: int = ENSEMBLE_SIZE,
    cut_rank: int = CUT_RANK,
    discrepancy: float = DISCREPANCY,
    until: Any | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    progress: Callable[[int], None] | None = None,
    on_wave: Callable[[str, int], None] | None = None,
    command: str | None = None,
) -> Calibration:
    """History-match ``scenario``'s ``params`` to ``targets`` within ``budget`` model runs.

    First a Morris screening finds the active inputs; wave 0 is a Latin hypercube over the prior
    ranges with at least 10 points per active input; after each wave one Gaussian process per
    target is fitted on the active inputs and validated (leave-one-out), and the next wave runs a
    spread-out subset of the candidates that the validated emulators of every wave so far do not
    rule out (early waves on the ``cut_rank``-th largest implausibility, the last on the largest).
    Finally ``ensemble_size`` settings drawn at random from the non-implausible space are run;
    those whose simulated means pass every target are the ensemble. ``until`` keeps only targets
    dated at or before it; ``discrepancy`` is the relative model discrepancy of a target without
    its own. ``on_wave(label, tasks)`` is called before each stage runs.
    """
    from sim.outputs.folders import claim_folder

    out = Path(out)
    targets = targets_until(targets, scenario, until)
    _check_request(scenario, targets, params, replications, cut_rank, discrepancy)
    plan = plan_budget(budget, replications, len(params), waves, ensemble_size)
    definition = _definition(
        scenario, targets, params, budget=budget, replications=replications, seed=seed, waves=waves,
        ensemble_size=ensemble_size, cut_rank=cut_rank, discrepancy=discrepancy,
        until=None if until is None else str(until), allocation=plan.describe(replications),
    )  # fmt: skip
    obs = _observations(targets, discrepancy)
    names = list(targets)
    with claim_folder(
        out, command or "airlift calibrate (Python API: calibrate)", resumable=True, kind="calibration"
    ):  # one writer at a time
        _start(out, definition, resume)
        outputs = partial(_dated_values, dict(targets)) if any(t.dated for t in targets.values()) else None
        history = _Stages(out, scenario, list(params), names, obs, replications, seed, executor, progress, on_wave, outputs)
        screening = history.screen(plan)
        log = history.run(plan, screening, hm.cut_rank(cut_rank, len(names)))
        runs, u_all, means = _gather(out, history.stages, names, len(params))
        v_stoch = _v_stoch(runs, names)
        final = partial(_emulators, u_all, means, v_stoch, replications, names, seed + 999_983, None)
        extra = {"screening": screening.report(params, names), "stages_run": log, "ensemble_from": history.stages[-1][0]}
        return summarise(out, definition, params, obs, runs, u_all, means, v_stoch, final, extra, seed, command)


def _check_request(
    scenario: Scenario, targets: Mapping[str, Target], params: Sequence[Parameter], replications: int, rank: int, disc: float
) -> None:
    """A :class:`ScenarioError` saying what is wrong with the request, if anything."""
    source = f"{scenario.name} targets"
    if not params:
        raise ScenarioError(scenario.name, [("uncertain", "no uncertain parameters to calibrate: declare an [uncertain] table")])
    if not targets:
        raise ScenarioError(source, [("targets", "no targets: add a [targets] table or give --targets FILE")])
    if replications < 2:
        raise ScenarioError("-n", [("", "calibration needs at least 2 replications per point to estimate the stochastic noise")])
    if rank < 1:
        raise ScenarioError("--cut-rank", [("", f"{rank}: 1 (the largest implausibility), 2 (the second largest) or more")])
    if not 0 <= disc <= 10:
        raise ScenarioError("--discrepancy", [("", f"{disc}: a share of the observed value, from 0 to 10")])
    check_targets(targets, scenario, source)


def _read_wave_plan(plan: Path, n_params: int) -> tuple[np.ndarray, dict[str, Any]]:
    """A stage's saved ``plan.json``: its unit-cube points (``n_params`` numbers in 0..1 each) and how
    they were screened; anything else is a ``ScenarioError`` naming the file."""
    from sim.outputs.files import read_json

    saved = read_json(plan)
    try:
        unit = np.asarray(saved["unit"], dtype=float)
        unit = unit.reshape(0, n_params) if unit.size == 0 else unit
        if unit.ndim != 2 or unit.shape[1] != n_params or not np.all((unit >= 0) & (unit <= 1)):
            raise ValueError
    except (KeyError, TypeError, ValueError):
        why = f"unit: not a list of points of {n_params} numbers in 0..1 each, as airlift writes it"
        raise ScenarioError(str(plan), [("", why)]) from None
    screening = saved.get("screening")
    if not isinstance(screening, dict):
        raise ScenarioError(str(plan), [("screening", "not a JSON object, as airlift writes it")])
    return unit, screening


def _start(out: Path, definition: dict[str, Any], resume: bool) -> None:
    """Write the plan into ``out``: a new calibration needs a folder without one; a resumed one,
    the same plan (but for the number of waves, see :func:`_same_plan`)."""
    from sim.outputs.files import read_json, write_json

    plan_path = out / PLAN
    if plan_path.exists():
        if not resume:
            raise ScenarioError(str(out), [("", f"{PLAN} exists: use --resume to complete it, or another --out")])
        old = read_json(plan_path)
        if _same_plan(old) != _same_plan(json.loads(json.dumps(definition))):
            raise ScenarioError(str(plan_path), [("", "--resume: this folder holds a different calibration")])
    write_json(plan_path, definition)


EmulatorSet = list[hm.Emulator | None]
"""One wave's emulators, one per target; ``None`` for one that failed its validation (it does not cut)."""


@dataclass
class _Stages:
    """The stages of one calibration: each planned (its unit-cube points saved in ``<folder>/plan.json``
    before anything runs, so a resumed calibration runs the same points), then run as a sweep of
    explicit points in its folder (its ``--resume`` completes exactly the missing runs)."""

    out: Path
    scenario: Scenario
    params: list[Parameter]
    names: list[str]
    obs: list[hm.Observation]
    replications: int
    seed: int
    executor: Executor | None
    progress: Callable[[int], None] | None
    on_wave: Callable[[str, int], None] | None
    outputs: Callable[[Scenario, ReplicationResult], Mapping[str, float]] | None = None
    """What a task adds beside the metrics: the dated targets' values (``None``: none is dated)."""
    stages: list[tuple[str, str]] = field(default_factory=list)
    sets: list[EmulatorSet] = field(default_factory=list)
    unfitted: list[Callable[[], tuple[EmulatorSet, dict[str, Any]]]] = field(default_factory=list)
    """Emulators of finished waves, fitted only when a new stage is screened (never on resume)."""
    active_by_target: list[tuple[int, ...]] | None = None
    active: tuple[int, ...] = ()
    validations: dict[str, Any] = field(default_factory=dict)
    """The validation of the newest emulator set, by target."""
    screening_points: int = 0
    raw_sets: list[list[hm.Emulator]] = field(default_factory=list)
    """Every set as fitted, failing emulators included (for the held-out check of the next wave)."""

    def _sweep(self, no: int, u: np.ndarray) -> None:
        label, folder = self.stages[no]
        if len(u) == 0:
            return
        if self.on_wave:
            self.on_wave(label, len(u) * self.replications)
        spec = SweepSpec(
            None,
            {p.name: [] for p in self.params},
            self.replications,
            self.seed,
            base=self.scenario,
            explicit=to_points(self.params, u),
            outputs=self.outputs,
        )
        res = run_sweep(spec, self.out / folder, executor=self.executor, resume=True, progress=self.progress)
        res.raise_failures(f"run(s) of the {label}")

    def _saved(self, no: int, make: Callable[[], tuple[np.ndarray, dict[str, Any]]]) -> tuple[np.ndarray, dict[str, Any]]:
        """Stage ``no``'s points and how they were chosen: as saved before, or made and saved now."""
        from sim.outputs.files import write_json

        plan = self.out / self.stages[no][1] / "plan.json"
        if plan.exists():
            return _read_wave_plan(plan, len(self.params))
        u, how = make()
        write_json(plan, {"unit": u.tolist(), "screening": how})
        return u, how

    def screen(self, budget: Budget) -> Screening:
        """Run the Morris screening and find the active inputs (all of them, without a screening)."""
        self.stages = _stages(budget.waves)
        d = len(self.params)
        if budget.trajectories == 0:  # every input is active; each emulator picks its most correlated ones
            self.active = tuple(range(d))
            return Screening([], self.active, np.zeros((d, len(self.names))))
        planned = screening_design(self.params, budget.trajectories, self.seed)
        u, how = self._saved(0, lambda: (planned.unit, {"trajectories": budget.trajectories}))
        design = (
            screening_design(self.params, int(how.get("trajectories", 0)), self.seed) if len(u) != len(planned.unit) else planned
        )
        if not np.allclose(design.unit, u):
            raise ScenarioError(str(self.out / "screening" / "plan.json"), [("unit", "not the screening design airlift wrote")])
        self.screening_points = len(u)
        self._sweep(0, u)
        runs, _, means = _gather(self.out, self.stages[:1], self.names, d)
        v_stoch = _v_stoch(runs, self.names)
        result = screen(design, means.to_numpy(dtype=float), self.obs, v_stoch, self.replications, budget.most_active())
        self.active_by_target, self.active = result.active_by_target, result.active
        return result

    def run(self, budget: Budget, screening: Screening, rank: int) -> list[dict[str, Any]]:
        """Plan and run every wave and the final sample. Returns the log of the stages."""
        first = budget.first_wave(len(screening.active))
        log: list[dict[str, Any]] = []
        if budget.trajectories:
            log.append({"stage": "screening", "points": self.screening_points})
        for k in range(budget.waves):
            want = first if k == 0 else budget.later_wave(first)
            last = k == budget.waves - 1
            make = partial(self._plan, k + STAGES_BEFORE, want, 1 if last else rank, False)
            u, how = self._saved(k + STAGES_BEFORE, make)
            first = len(u) if k == 0 else first  # as run (a resumed calibration may have another budget)
            log.append({"stage": f"wave {k}", **how, "points": len(u)})
            self._sweep(k + STAGES_BEFORE, u)
        self._final_rounds(budget, budget.points - sum(entry["points"] for entry in log), log)
        return log

    def _final_rounds(self, budget: Budget, left: int, log: list[dict[str, Any]]) -> None:
        """The final sample, in rounds (folders ``final_<W>``, ``final_<W>_r2``, ...): the first runs
        ``ensemble_size`` settings drawn at random from the non-implausible space; while fewer than
        that many settings of the final sample pass and ``left`` points remain, another round draws
        from the space as the emulators refitted on every round so far see it (:func:`next_round`)."""
        size, first_folder = min(budget.ensemble_size, left), self.stages[-1][1]
        for r in range(1, MAX_ROUNDS + 1):
            if r > 1:
                self.stages.append((FINAL, f"{first_folder}_r{r}"))
            no = len(self.stages) - 1
            u, how = self._saved(no, partial(self._plan, no, size, 1, True))
            log.append({"stage": FINAL, "round": r, **how, "points": len(u)})
            self._sweep(no, u)
            left -= len(u)
            passed, passed_last = self._confirmed(no)
            size = next_round(budget.ensemble_size, passed, passed_last, len(u), left) if len(u) else 0
            if not size and not (self.out / f"{first_folder}_r{r + 1}" / "plan.json").exists():
                return  # (a round planned before, by a resumed calibration with another budget, is completed)

    def _confirmed(self, last: int) -> tuple[int, int]:
        """Settings of the final sample whose simulated means pass every target: in every round so
        far, and in round ``last`` (a stage number)."""
        runs, _, means = _gather(self.out, self.stages, self.names, len(self.params))
        ok = simulated_implausibility(runs, means[self.names].to_numpy(dtype=float), self.obs, _v_stoch(runs, self.names))
        ok = ok.max(axis=1) < hm.CUTOFF
        stage = means.index.get_level_values(0).to_numpy()
        final = np.isin(stage, [no for no, (label, _) in enumerate(self.stages) if label == FINAL])
        return int(ok[final].sum()), int(ok[stage == last].sum())

    def _plan(self, no: int, want: int, rank: int, sample: bool) -> tuple[np.ndarray, dict[str, Any]]:
        """Stage ``no``'s points: a Latin hypercube (wave 0), a spread-out subset of the candidates
        no earlier wave's emulators rule out (later waves), or a random sample of them (``sample``)."""
        from scipy.stats import qmc

        d = len(self.params)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, no - STAGES_BEFORE, 0xCA1B]))
        if no == STAGES_BEFORE:
            return qmc.LatinHypercube(d, rng=rng).random(want), {"candidates": 0, "non_implausible": None}
        validations = self._fit_sets(no)
        runs, u_done, _ = _gather(self.out, self.stages[:no], self.names, d)
        v_stoch = _v_stoch(runs, self.names)
        kept, seen = _screen(self.sets, self.obs, v_stoch, d, rng, want, rank)
        how = {
            "candidates": seen,
            "non_implausible": len(kept),
            "non_implausible_fraction": len(kept) / seen,
            "cut_on": "largest" if rank == 1 else f"{rank}{ {2: 'nd', 3: 'rd'}.get(rank, 'th') } largest",
            **validations,
        }
        if len(kept) < want:  # a small space: more draws from it by random walks
            kept, how["walked"] = self._walked(kept, u_done, v_stoch, rank, rng, want)
        if len(kept) == 0:
            return np.zeros((0, d)), how
        if sample:
            return kept[np.sort(rng.choice(len(kept), size=min(want, len(kept)), replace=False))], how
        columns = list(self.active) or list(range(d))
        return kept[hm.spread_order(kept[:, columns], want, rng)], how

    def _walked(
        self, kept: np.ndarray, u_done: np.ndarray, v_stoch: np.ndarray, rank: int, rng: np.random.Generator, want: int
    ) -> tuple[np.ndarray, int]:
        """``kept`` and enough more draws from the non-implausible space (:func:`history_matching.walk`)
        to make ``want``, from ``kept`` and the points run so far the emulators keep; the draws made."""

        def inside(u: np.ndarray) -> np.ndarray:
            ok = np.ones(len(u), dtype=bool)
            for ems in self.sets:
                idx = np.flatnonzero(ok)
                ok[idx] = hm.not_implausible(u[idx], ems, self.obs, v_stoch, rank)
            return ok

        seeds = np.vstack([kept, u_done[inside(u_done)]]) if len(u_done) else kept
        if not len(seeds):
            return kept, 0
        used = sorted({i for ems in self.sets for e in ems if e is not None for i in e.reads(len(self.params))})
        more = hm.walk(seeds, inside, used, want - len(kept), rng)
        return np.vstack([kept, more]), len(more)

    def _fit_sets(self, no: int) -> dict[str, Any]:
        """Fit the emulators of every finished wave before stage ``no`` not fitted yet; the
        validation of the newest set (the one fitted after the wave just before ``no``): its
        leave-one-out errors, and the errors of the set before it on that wave's runs (points it
        chose, held out from it). An emulator failing either no longer cuts."""
        d = len(self.params)
        for k in range(len(self.sets), no - STAGES_BEFORE):
            runs, u_done, means = _gather(self.out, self.stages[: k + 1 + STAGES_BEFORE], self.names, d)
            v_stoch = _v_stoch(runs, self.names)
            seed = self.seed + 1000 * k
            ems = _emulators(u_done, means, v_stoch, self.replications, self.names, seed, self.active_by_target, self.executor)
            checks = [hm.validation(hm.loo_errors(e)) for e in ems]
            self.sets.append([e if c["passed"] else None for e, c in zip(ems, checks, strict=True)])
            self.validations = {"emulators": dict(zip(self.names, checks, strict=True))}
            if k > 0:
                wave = np.asarray(means.index.get_level_values(0) == k + STAGES_BEFORE)
                self.validations["emulators_held_out"] = self._held_out(k - 1, u_done[wave], means[wave], v_stoch)
            self.raw_sets.append(ems)
        return self.validations

    def _held_out(self, k: int, u: np.ndarray, means: Any, v_stoch: np.ndarray) -> dict[str, Any]:
        """Set ``k``'s emulators against the next wave's replication means (points they did not
        see); an emulator that fails no longer cuts."""
        verdicts = {}
        for j, (name, em) in enumerate(zip(self.names, self.raw_sets[k], strict=True)):
            z = hm.heldout_errors(em, u, means[name].to_numpy(dtype=float), v_stoch[j] / self.replications)
            verdicts[name] = hm.validation(z)
            if not verdicts[name]["passed"]:
                self.sets[k][j] = None
        return verdicts


def next_round(wanted: int, passed: int, passed_last: int, size_last: int, left: int) -> int:
    """Settings the next round of the final sample runs: none once ``wanted`` have passed or no
    point is ``left``; else enough for the settings still wanted at the last round's share passed
    (``passed_last`` of ``size_last``, a Laplace estimate) with a fifth more, at least a quarter of
    ``wanted`` and at most :data:`MAX_ROUND` times ``wanted``, within the points left (none if
    they are fewer than a quarter of ``wanted``: a round refits every emulator)."""
    need, least = wanted - passed, -(-wanted // 4)
    if need <= 0 or left < least:
        return 0
    share = (passed_last + 1) / (size_last + 2)
    return int(min(left, MAX_ROUND * wanted, max(need, least, math.ceil(1.2 * need / share))))


def _dated_values(targets: dict[str, Target], scenario: Scenario, result: ReplicationResult) -> dict[str, float]:
    """A wave task's dated target values (a top-level function: tasks may run in other processes)."""
    return dated_values(targets, scenario, result)


def _same_plan(definition: dict[str, Any]) -> dict[str, Any]:
    """What must match to resume: everything but the number of waves (and the budget that goes
    with it, and how it is shared), so ``--resume --waves W+1 --budget ...`` adds a wave."""
    return {k: v for k, v in definition.items() if k not in ("waves", "budget", "version", "allocation")}


def _emulators(
    u: np.ndarray,
    means: Any,
    v_stoch: np.ndarray,
    n: int,
    names: list[str],
    seed: int,
    active: list[tuple[int, ...]] | None,
    executor: Executor | None = None,
) -> list[hm.Emulator]:
    return hm.fit_emulators(u, means[names].to_numpy(dtype=float), v_stoch / n, names, seed, active, executor)


def _screen(
    emulator_sets: list[EmulatorSet],
    obs: list[hm.Observation],
    v_stoch: np.ndarray,
    d: int,
    rng: np.random.Generator,
    want: int,
    rank: int,
) -> tuple[np.ndarray, int]:
    """Halton candidates over the prior not ruled out by any wave's emulators (batches until 5 times
    ``want`` are in, or :data:`MAX_BATCHES`): with each set, fewer than ``rank`` targets implausible."""
    from scipy.stats import qmc

    kept: list[np.ndarray] = []
    seen = 0
    halton = qmc.Halton(d, scramble=True, rng=rng)
    for _ in range(MAX_BATCHES):
        u = halton.random(CANDIDATE_BATCH)
        seen += len(u)
        for ems in emulator_sets:
            u = u[hm.not_implausible(u, ems, obs, v_stoch, rank)]
            if not len(u):
                break
        kept.append(u)
        if sum(len(x) for x in kept) >= 5 * want:
            break
    return np.vstack(kept), seen
