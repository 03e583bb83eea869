"""Calibration to published figures by history matching in waves (``airlift calibrate``).

This module owns the targets (``[targets]``: metric name -> observed value and uncertainty), the
waves (each one an explicit-point sweep in ``DIR/wave_<k>/``, so runs stream to disk on any
executor and ``--resume`` completes exactly the missing ones) and the outputs: ``ensemble.csv``
(the plausible settings), ``calibration.json`` and plots. The numerics (emulators, implausibility)
are in :mod:`sim.analysis.history_matching`; running an ensemble is :mod:`sim.experiments.ensemble`.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis import history_matching as hm
from sim.analysis.calibration_summary import Calibration, summarise
from sim.analysis.target_values import dated_values
from sim.description.errors import ScenarioError
from sim.description.scenario import Scenario
from sim.description.targets import Target
from sim.description.uncertainty import Parameter, to_points
from sim.experiments.identity import scenario_hash
from sim.experiments.replications import ReplicationResult
from sim.experiments.sweeps import SweepSpec, read_results, run_sweep

__all__ = ["load_targets", "check_targets", "calibrate", "Calibration", "PLAN"]

PLAN = "calibration_plan.json"
CANDIDATE_BATCH = 16_384  # Halton candidates per screening batch
MAX_BATCHES = 8


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


def _observations(targets: Mapping[str, Target]) -> list[hm.Observation]:
    return [
        hm.Observation(
            n, t.observed, t.variance, None if t.min is None else float(t.min), None if t.max is None else float(t.max)
        )
        for n, t in targets.items()
    ]


def _definition(scenario: Scenario, targets: Mapping[str, Target], params: Sequence[Parameter], **kw: Any) -> dict[str, Any]:
    from sim._version import __version__

    return {
        "method": "history matching in waves, Gaussian-process emulators (scikit-learn), implausibility cut-off",
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


def _gather(out: Path, waves: int, names: list[str], n_params: int):  # -> tuple[pd.DataFrame, np.ndarray]
    """Per-point replication means of all finished waves, with the unit-cube coordinates."""
    import pandas as pd

    frames, units = [], []
    for k in range(waves):
        plan = out / f"wave_{k}" / "plan.json"
        if not (out / f"wave_{k}" / "results.csv").exists():
            break
        u, _ = _read_wave_plan(plan, n_params)
        df = read_results(out / f"wave_{k}").copy()  # one block: adding columns stays cheap
        df["wave"] = k
        frames.append(df)
        units.append(u)
    if not frames:
        return pd.DataFrame(), np.zeros((0, n_params)), pd.DataFrame()
    runs = pd.concat(frames, ignore_index=True)
    means = runs.groupby(["wave", "point"], sort=True)[names].mean()
    u_all = np.vstack([units[w][p] for w, p in means.index])
    return runs, u_all, means


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
    executor: Executor | None = None,
    resume: bool = False,
    progress: Callable[[int], None] | None = None,
    on_wave: Callable[[int, int], None] | None = None,
    command: str | None = None,
) -> Calibration:
    """History-match ``scenario``'s ``params`` to ``targets`` within ``budget`` model runs.

    Wave 0 is a Latin hypercube over the prior ranges; each later wave fits one Gaussian process
    per target to the runs so far, screens Halton candidates, keeps those not implausible under
    every emulator so far (the non-implausible space shrinks wave by wave) and runs a spread-out
    subset of them. Finally every simulated point whose replication means are within the cut-off
    on every target is a plausible setting. ``on_wave(k, tasks)`` is called before each wave.
    """
    from sim.outputs.folders import claim_folder

    out = Path(out)
    names = list(targets)
    per_wave = _points_per_wave(scenario, targets, params, budget, replications, waves)
    definition = _definition(
        scenario, targets, params, budget=budget, replications=replications, seed=seed, waves=waves, points_per_wave=per_wave
    )
    obs = _observations(targets)
    with claim_folder(
        out, command or "airlift calibrate (Python API: calibrate)", resumable=True, kind="calibration"
    ):  # one writer at a time
        _start(out, definition, resume)
        outputs = partial(_dated_values, dict(targets)) if any(t.dated for t in targets.values()) else None
        history = _Waves(out, scenario, list(params), names, obs, replications, seed, executor, progress, on_wave, outputs)
        wave_log = history.run(waves, per_wave)
        runs, u_all, means = _gather(out, waves, names, len(params))
        v_stoch = _v_stoch(out, waves, names)
        final = partial(_emulators, u_all, means, v_stoch, replications, names, seed + 999_983)
        return summarise(out, definition, params, obs, runs, u_all, means, v_stoch, final, wave_log, seed, command)


def _points_per_wave(
    scenario: Scenario, targets: Mapping[str, Target], params: Sequence[Parameter], budget: int, replications: int, waves: int
) -> int:
    """Points a wave runs, after checking the request (a :class:`ScenarioError` says what is wrong)."""
    source = f"{scenario.name} targets"
    if not params:
        raise ScenarioError(scenario.name, [("uncertain", "no uncertain parameters to calibrate: declare an [uncertain] table")])
    if not targets:
        raise ScenarioError(source, [("targets", "no targets: add a [targets] table or give --targets FILE")])
    if replications < 2:
        raise ScenarioError("-n", [("", "calibration needs at least 2 replications per point to estimate the stochastic noise")])
    per_wave = budget // (waves * replications)
    if per_wave < 4:
        raise ScenarioError(
            "--budget", [("", f"{budget} runs make fewer than 4 points a wave; give at least {4 * waves * replications}")]
        )
    check_targets(targets, scenario, source)
    return per_wave


def _read_wave_plan(plan: Path, n_params: int) -> tuple[np.ndarray, dict[str, Any]]:
    """A wave's saved ``plan.json``: its unit-cube points (``n_params`` numbers in 0..1 each) and how
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


@dataclass
class _Waves:
    """The waves of one calibration: each planned (its unit-cube points saved in ``wave_<k>/plan.json``
    before anything runs, so a resumed calibration runs the same points), then run as a sweep of
    explicit points in ``wave_<k>/`` (its ``--resume`` completes exactly the missing runs)."""

    out: Path
    scenario: Scenario
    params: list[Parameter]
    names: list[str]
    obs: list[hm.Observation]
    replications: int
    seed: int
    executor: Executor | None
    progress: Callable[[int], None] | None
    on_wave: Callable[[int, int], None] | None
    outputs: Callable[[Scenario, ReplicationResult], Mapping[str, float]] | None = None
    """What a task adds beside the metrics: the dated targets' values (``None``: none is dated)."""
    emulator_sets: list[list[hm.Emulator]] = field(default_factory=list)
    unfitted: list[Callable[[], list[hm.Emulator]]] = field(default_factory=list)
    """Emulators of finished waves, fitted only when a new wave is screened (never on resume)."""

    def run(self, waves: int, per_wave: int) -> list[dict[str, Any]]:
        """Plan and run every wave; stop early when no candidate is left. Returns the wave log."""
        log: list[dict[str, Any]] = []
        for k in range(waves):
            u, screening = self._points(k, per_wave)
            log.append({"wave": k, **screening, "points": len(u)})
            if len(u) == 0:
                break  # nothing left to run: every candidate is implausible
            if self.on_wave:
                self.on_wave(k, len(u) * self.replications)
            spec = SweepSpec(
                None,
                {p.name: [] for p in self.params},
                self.replications,
                self.seed,
                base=self.scenario,
                explicit=to_points(self.params, u),
                outputs=self.outputs,
            )
            res = run_sweep(spec, self.out / f"wave_{k}", executor=self.executor, resume=True, progress=self.progress)
            res.raise_failures(f"run(s) of wave {k}")
        return log

    def _points(self, k: int, per_wave: int) -> tuple[np.ndarray, dict[str, Any]]:
        """Wave ``k``'s unit-cube points and how they were screened: as planned before, or planned now."""
        from scipy.stats import qmc

        from sim.outputs.files import write_json

        d = len(self.params)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, k, 0xCA1B]))
        v_stoch = np.zeros(len(self.names))
        if k > 0:
            _, u_done, means = _gather(self.out, k, self.names, d)
            v_stoch = _v_stoch(self.out, k, self.names)
            self.unfitted.append(partial(_emulators, u_done, means, v_stoch, self.replications, self.names, self.seed + 1000 * k))
        plan = self.out / f"wave_{k}" / "plan.json"
        if plan.exists():
            return _read_wave_plan(plan, d)
        if k == 0:
            u, screening = qmc.LatinHypercube(d, rng=rng).random(per_wave), {"candidates": 0, "non_implausible": None}
        else:
            u, screening = self._screened(rng, per_wave, v_stoch)
        write_json(plan, {"unit": u.tolist(), "screening": screening})
        return u, screening

    def _screened(self, rng: np.random.Generator, per_wave: int, v_stoch: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        """A spread-out subset of the candidates no wave's emulators rule out."""
        self.emulator_sets += [fit() for fit in self.unfitted]
        self.unfitted.clear()
        d = len(self.params)
        kept, seen = _screen(self.emulator_sets, self.obs, v_stoch, d, rng, per_wave)
        screening = {"candidates": seen, "non_implausible": len(kept), "non_implausible_fraction": len(kept) / seen}
        return (kept[hm.spread_order(kept, per_wave, rng)] if len(kept) else np.zeros((0, d))), screening


def _dated_values(targets: dict[str, Target], scenario: Scenario, result: ReplicationResult) -> dict[str, float]:
    """A wave task's dated target values (a top-level function: tasks may run in other processes)."""
    return dated_values(targets, scenario, result)


def _same_plan(definition: dict[str, Any]) -> dict[str, Any]:
    """What must match to resume: everything but the number of waves (and the budget that goes
    with it), so ``--resume --waves W+1 --budget ...`` adds a wave of the same size."""
    return {k: v for k, v in definition.items() if k not in ("waves", "budget", "version")}


def _v_stoch(out: Path, waves: int, names: list[str]) -> np.ndarray:
    import pandas as pd

    frames = [
        read_results(out / f"wave_{k}").copy().assign(wave=k)
        for k in range(waves)
        if (out / f"wave_{k}" / "results.csv").exists()
    ]
    df = pd.concat(frames, ignore_index=True)
    groups = (df["wave"].astype(str) + ":" + df["point"].astype(str)).to_numpy()
    return hm.pooled_variance(df[names].to_numpy(dtype=float), groups)


def _emulators(u: np.ndarray, means: Any, v_stoch: np.ndarray, n: int, names: list[str], seed: int) -> list[hm.Emulator]:
    return hm.fit_emulators(u, means[names].to_numpy(dtype=float), v_stoch / n, names, seed)


def _screen(
    emulator_sets: list[list[hm.Emulator]],
    obs: list[hm.Observation],
    v_stoch: np.ndarray,
    d: int,
    rng: np.random.Generator,
    want: int,
) -> tuple[np.ndarray, int]:
    """Halton candidates over the prior not ruled out by any wave's emulators (batches until enough)."""
    from scipy.stats import qmc

    kept: list[np.ndarray] = []
    seen = 0
    halton = qmc.Halton(d, scramble=True, rng=rng)
    for _ in range(MAX_BATCHES):
        u = halton.random(CANDIDATE_BATCH)
        seen += len(u)
        ok = np.ones(len(u), dtype=bool)
        for ems in emulator_sets:
            preds = [e.predict(u[ok]) for e in ems]
            mean = np.column_stack([p[0] for p in preds])
            var = np.column_stack([p[1] for p in preds])
            idx = np.flatnonzero(ok)
            ok[idx] = hm.implausibility(mean, var, obs, v_stoch).max(axis=1) < hm.CUTOFF
            if not ok.any():
                break
        kept.append(u[ok])
        if sum(len(x) for x in kept) >= 5 * want:
            break
    return np.vstack(kept), seen
