"""Common random numbers: a parameter that acts late leaves the history before it untouched.

Every stochastic decision draws from its own named stream, indexed by family and visit, so two
scenarios that differ in a late-acting parameter simulate the same history until it acts.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

import sim
from sim.description.scenario import Scenario
from sim.experiments.replications import run_replication


def _first_difference(a: Scenario, b: Scenario, seed: int = 1) -> float:
    """The first hour at which any hourly column of replication 0 differs (inf: none does)."""
    ha, hb = run_replication(a, seed, 0).hourly, run_replication(b, seed, 0).hourly
    assert set(ha) == set(hb)
    n = min(len(ha["hours"]), len(hb["hours"]))
    first = np.inf
    for column in ha:
        differ = np.flatnonzero(np.asarray(ha[column][:n]) != np.asarray(hb[column][:n]))
        if len(differ):
            first = min(first, float(ha["hours"][differ[0]]))
    return first


def test_reference_history_holds_until_a_later_security_end() -> None:
    s = sim.load_scenario()
    end = s.security.end
    assert isinstance(end, dt.datetime)  # the reference gives it as a date
    later = s.with_overrides({"security.end": end + dt.timedelta(days=2)})
    cutoff = dt.datetime(2021, 8, 25, tzinfo=s.start.tzinfo)
    first = _first_difference(s, later)
    assert first >= (cutoff - s.start).total_seconds() / 3600, f"histories differ from hour {first}"


def test_small_history_holds_until_a_late_disruption(small: Scenario) -> None:
    late = {"kind": "arrival_factor", "target": "*", "start": 1.5, "end": 2.0, "value": 0.2}
    changed = small.with_overrides({"disruptions": [d.model_dump(by_alias=True) for d in small.disruptions] + [late]})
    first = _first_difference(small, changed)
    assert first >= 36.0, f"histories differ from hour {first}"
    assert first < np.inf  # the disruption does change the run once it acts
