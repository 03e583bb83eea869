"""airlift: a discrete-event simulation of evacuation airlift capacity through one airport.

The public API, the same functions the ``airlift`` command uses::

    import sim
    s = sim.load_scenario()                       # the Kabul 2021 reference scenario
    s2 = s.with_overrides({"security.end": 20})   # a validated copy, dotted names
    r = sim.run(s2, replications=10, seed=1)      # RunResult: .metrics, .summary(), .timeseries(), .figures()
    c = sim.compare(s, s2, replications=10)        # paired differences with 95% intervals
    df = sim.sweep(s, {"security.end": [15, 17, 19]}, replications=5)   # DataFrame, one row per task
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from sim.experiment import CompareResult, RunResult, compare, run, run_replication
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.sweeps import sweep

try:
    __version__ = version("airlift")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "run",
    "run_replication",
    "RunResult",
    "compare",
    "CompareResult",
    "sweep",
    "__version__",
]
