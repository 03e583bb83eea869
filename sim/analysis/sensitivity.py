"""Global sensitivity analysis of a scenario's declared uncertainty: Morris screening, Sobol indices.

The design (which points to run) comes from SALib's samplers on the unit cube, mapped to parameter
values by :mod:`sim.description.uncertainty`; the points run as an ordinary sweep with explicit points (same
executors, streaming ``results.csv``, ``--resume``, manifest); the indices come from SALib's
analysers applied, metric by metric, to each point's mean over its replications. Replication ``r``
of every point uses the same random streams, so elementary effects are paired. This module
writes ``sensitivity.csv``; it draws no plots (:mod:`sim.outputs.sensitivity_figures`) and prints nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sim.description.errors import ScenarioError
from sim.description.loading import load_scenario, resolve_path
from sim.description.metric_catalog import check_metrics as catalog_check
from sim.description.scenario import Scenario
from sim.description.uncertainty import Parameter, parameters, to_points
from sim.experiments.sweeps import SweepResult, SweepSpec, read_results, run_sweep

__all__ = [
    "Method",
    "Design",
    "design",
    "analyse",
    "indices",
    "default_metrics",
    "check_metrics",
    "run_sensitivity",
    "SensitivityResult",
    "COLUMNS",
    "SENSITIVITY",
]

Method = Literal["morris", "sobol"]
SENSITIVITY = "sensitivity.csv"
COLUMNS: dict[str, list[str]] = {
    "morris": ["mu_star", "mu_star_conf", "sigma", "mu"],
    "sobol": ["S1", "S1_conf", "ST", "ST_conf"],
}
"""The index columns of ``sensitivity.csv`` for each method, after ``metric, parameter, method``."""

_SAMPLER_STREAM = 0x5E45  # the design's random stream: a child of the sweep seed, apart from the model's
_BOOTSTRAP_STREAM = 0xB007
RESAMPLES = 1000
"""Bootstrap resamples for the confidence intervals of the indices."""


@dataclass(frozen=True)
class Design:
    """The points of a sensitivity analysis: unit-cube rows (SALib's layout) and their values."""

    method: Method
    params: list[Parameter]
    unit: np.ndarray
    seed: int
    levels: int = 4

    def problem(self) -> dict[str, Any]:
        """SALib's problem: every parameter on the unit interval (values come from its quantiles)."""
        return {"num_vars": len(self.params), "names": [p.name for p in self.params], "bounds": [[0.0, 1.0]] * len(self.params)}

    def points(self) -> list[dict[str, int | float]]:
        return to_points(self.params, self.unit)


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, stream]))


def design(
    params: Sequence[Parameter],
    method: Method,
    *,
    trajectories: int = 10,
    samples: int = 64,
    seed: int = 0,
    levels: int = 4,
) -> Design:
    """The points to run: ``trajectories`` Morris trajectories on a ``levels`` grid
    (``(k + 1) * trajectories`` points), or a Sobol'-Saltelli design of ``samples`` base points
    (``(k + 2) * samples`` points; ``samples`` a power of 2)."""
    if len(params) < 2:
        raise ScenarioError(
            "uncertain", [("", f"sensitivity analysis needs at least two uncertain parameters, got {len(params)}")]
        )
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise ScenarioError("uncertain", [("", "a parameter is listed twice")])
    d = Design(method, list(params), np.empty((0, len(params))), seed, levels)
    if method == "morris":
        from SALib.sample import morris as morris_sample

        if trajectories < 2:
            raise ScenarioError("--trajectories", [("", "Morris needs at least 2 trajectories")])
        unit = morris_sample.sample(d.problem(), trajectories, num_levels=levels, seed=_rng(seed, _SAMPLER_STREAM))
    elif method == "sobol":
        from SALib.sample import sobol as sobol_sample

        if samples < 2 or samples & (samples - 1):
            raise ScenarioError("--samples", [("", f"Sobol' sampling needs a power of 2 (e.g. 64, 128), got {samples}")])
        unit = sobol_sample.sample(d.problem(), samples, calc_second_order=False, seed=_rng(seed, _SAMPLER_STREAM))
    else:
        raise ScenarioError("--method", [("", f"unknown method {method!r}: morris or sobol")])
    return Design(method, list(params), np.asarray(unit, dtype=float), seed, levels)


def analyse(d: Design, y: np.ndarray) -> dict[str, np.ndarray]:
    """SALib's indices of one output ``y`` (one value per design point), by column name.

    An output that does not vary at all has every index 0 (nothing to attribute)."""
    y = np.asarray(y, dtype=float)
    k = len(d.params)
    if len(y) != len(d.unit):
        raise ValueError(f"{len(y)} outputs for {len(d.unit)} design points")
    if np.ptp(y) == 0:
        return {c: np.zeros(k) for c in COLUMNS[d.method]}
    if d.method == "morris":
        from SALib.analyze import morris as morris_analyse

        res = morris_analyse.analyze(
            d.problem(),
            d.unit,
            y,
            num_resamples=RESAMPLES,
            conf_level=0.95,
            num_levels=d.levels,
            seed=_rng(d.seed, _BOOTSTRAP_STREAM),
        )
    else:
        from SALib.analyze import sobol as sobol_analyse

        boot_seed = int(np.random.SeedSequence([d.seed, _BOOTSTRAP_STREAM]).generate_state(1)[0]) or 1
        res = sobol_analyse.analyze(
            d.problem(), y, calc_second_order=False, num_resamples=RESAMPLES, conf_level=0.95, seed=boot_seed
        )
    return {c: np.asarray(res[c], dtype=float) for c in COLUMNS[d.method]}


def indices(d: Design, table: Any, metrics: Sequence[str]) -> Any:  # table, result: pandas.DataFrame
    """``sensitivity.csv`` rows from a sweep table: each point's mean over its replications, per metric."""
    import pandas as pd

    missing = sorted(set(range(len(d.unit))) - set(table["point"].unique()))
    if missing:
        raise ScenarioError(
            SENSITIVITY, [("", f"{len(missing)} design points have no result (first: {missing[0]}); run again with --resume")]
        )
    means = table.groupby("point")[list(metrics)].mean().sort_index()
    rows = []
    for m in metrics:
        idx = analyse(d, means[m].to_numpy())
        for j, p in enumerate(d.params):
            rows.append({"metric": m, "parameter": p.name, "method": d.method} | {c: float(idx[c][j]) for c in COLUMNS[d.method]})
    return pd.DataFrame(rows, columns=["metric", "parameter", "method", *COLUMNS[d.method]])


def default_metrics(scenario: Scenario) -> list[str]:
    """``evacuated_total``, ``stranded_total`` and the stranded of each cohort."""
    return ["evacuated_total", "stranded_total", *(f"cohort.{c}.stranded" for c in scenario.cohorts)]


def check_metrics(names: Sequence[str], scenario: Scenario, source: str = "--metric") -> None:
    """Raise :class:`ScenarioError` naming any metric a run of ``scenario`` does not produce."""
    catalog_check(list(names), scenario, source)


@dataclass
class SensitivityResult:
    """A finished analysis: the design, the sweep that ran it and the indices (``sensitivity.csv``)."""

    design: Design
    sweep: SweepResult
    metrics: list[str]
    table: Any = field(repr=False)  # pandas.DataFrame

    def ranked(self, metric: str) -> Any:
        """The rows of one metric, most influential first (by mu* for Morris, ST for Sobol)."""
        key = "mu_star" if self.design.method == "morris" else "ST"
        return self.table[self.table["metric"] == metric].sort_values(key, ascending=False, kind="stable")


def run_sensitivity(
    scenario: Scenario | str | Path | None,
    method: Method,
    out: str | Path,
    *,
    vary: Mapping[str, Mapping[str, Any]] | None = None,
    trajectories: int = 10,
    samples: int = 64,
    replications: int = 1,
    seed: int = 0,
    metrics: Sequence[str] | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> SensitivityResult:
    """Sample the declared uncertainty (plus ``vary``), run the points as a sweep into ``out`` and
    write ``out/sensitivity.csv``. ``scenario`` is a Scenario, a path, or ``None`` for Kabul."""
    from sim.outputs.files import atomic_write
    from sim.outputs.folders import claim_folder

    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    params = parameters(base, vary)
    metrics = list(metrics) if metrics else default_metrics(base)
    check_metrics(metrics, base)
    d = design(params, method, trajectories=trajectories, samples=samples, seed=seed)
    path = None if isinstance(scenario, Scenario) else str(resolve_path(scenario))
    spec = SweepSpec(path, {}, replications, seed, metrics=metrics, base=base if path is None else None, explicit=d.points())
    with claim_folder(
        Path(out), "airlift sensitivity (Python API: run_sensitivity)", resumable=True, kind="sensitivity"
    ):  # one writer at a time
        res = run_sweep(spec, out, executor=executor, resume=resume, progress=progress, on_total=on_total)
        res.raise_failures("sensitivity run(s)")
        table = indices(d, read_results(out), metrics)
        atomic_write(Path(out) / SENSITIVITY, lambda fh: table.to_csv(fh, index=False, float_format="%.6g"))
    return SensitivityResult(d, res, metrics, table)
