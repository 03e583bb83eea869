"""airlift: a discrete-event simulation of evacuation airlift capacity through one airport.

The public API, the same functions the ``airlift`` command uses::

    import sim
    s = sim.load_scenario()                       # the Kabul 2021 reference scenario
    s2 = s.with_overrides({"security.end": 20})   # a validated copy, dotted names
    r = sim.run(s2, replications=10, seed=1)      # RunResult: .metrics, .summary(), .timeseries(), .figures()
    c = sim.compare(s, s2, replications=10)        # c.differences(): DataFrame of paired differences
    one = sim.run_replication(s, 1, 0)            # ReplicationResult: .metrics, .daily, .hourly
    df = sim.sweep(s, {"security.end": [15, 17, 19]}, replications=5)   # DataFrame, one row per task
    sim.point_summary(df, ["security.end"], "stranded_total")            # mean and 95% interval per point
    sim.capacity_curve(df, "security.end")         # marginal gains, where it flattens; .figure()
    sim.sweep_figures(df, ["security.end"])        # the standard sweep plots, by file stem
    sim.uncertain_parameters(s)                    # the [uncertain] table as typed parameters
    a = sim.run_sensitivity(s, "morris", "out/m")  # Morris (or "sobol") indices; a.table, a.ranked(metric)
    sim.sensitivity_figures(a.table)               # mu*-sigma scatters or S1/ST bars, by file stem
    p = sim.plan(s, "cohort.siv.evacuated >= 50000", 0.9, "security.end=17..21")   # PlanResult: .choice, .sentence(), .table()
    e = sim.explain(s, replications=4, fraction=0.5)  # Explanation: .totals(), .best_by_day(), .sentences(), .figures()
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sim._version import __version__
from sim.analysis.capacity import CapacityCurve, capacity_curve
from sim.analysis.plan_runs import PlanResult
from sim.analysis.plan_runs import run_plan as plan
from sim.analysis.relief import Explanation, explain
from sim.analysis.sensitivity import SensitivityResult, run_sensitivity
from sim.description.errors import ScenarioError
from sim.description.loading import load_scenario
from sim.description.scenario import Scenario
from sim.description.uncertainty import parameters as uncertain_parameters
from sim.experiments.replications import CompareResult, ReplicationResult, RunResult, compare, run, run_replication
from sim.experiments.sweeps import sweep
from sim.statistics import point_summary

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


__all__ = [
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "run",
    "run_replication",
    "ReplicationResult",
    "RunResult",
    "compare",
    "CompareResult",
    "sweep",
    "point_summary",
    "capacity_curve",
    "CapacityCurve",
    "sweep_figures",
    "uncertain_parameters",
    "run_sensitivity",
    "SensitivityResult",
    "sensitivity_figures",
    "plan",
    "PlanResult",
    "explain",
    "Explanation",
    "__version__",
]


def sweep_figures(
    table: pd.DataFrame,
    keys: Sequence[str],
    metrics: Sequence[str] = ("evacuated_total", "stranded_total"),
    start: datetime | None = None,
) -> dict[str, Figure]:
    """The standard figures of a sweep table (what ``airlift sweep`` saves), by file stem;
    ``start`` (e.g. ``scenario.start``) labels days of ``security.end`` with their dates."""
    from sim.outputs.sweep_figures import sweep_figures as figures

    return figures(table, list(keys), list(metrics), start)


def sensitivity_figures(table: pd.DataFrame) -> dict[str, Figure]:
    """The figures of a ``sensitivity.csv`` table (what ``airlift sensitivity`` saves), by file stem."""
    from sim.outputs.sensitivity_figures import sensitivity_figures as figures

    return figures(table)
