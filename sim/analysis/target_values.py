"""The model output a dated target reads (``[targets]`` with ``series``), from one replication's
hourly samples: a column at a time, or a cumulative column's change over a window."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sim.description.scenario import Scenario
from sim.description.targets import Target
from sim.experiments.replications import ReplicationResult

__all__ = ["sample_at", "target_value", "dated_values", "target_hours"]

_ROUNDING = 1e-9
"""Hours a time may lie before a sample and still read it (the rounding of a datetime into hours)."""


def sample_at(hours: np.ndarray, column: np.ndarray, at_hours: float) -> float:
    """The sample at or before ``at_hours`` (the levels are recorded at each sample and held until
    the next); before the first sample, the first one."""
    i = int(np.searchsorted(hours, at_hours + _ROUNDING, side="right")) - 1
    return float(column[max(i, 0)])


def target_value(target: Target, scenario: Scenario, hourly: Mapping[str, np.ndarray]) -> float:
    """What a dated ``target`` reads of one replication's ``hourly`` columns (``hours`` after the
    start of ``scenario`` and the series): the value at ``at``, or the change from ``from`` to ``to``."""
    if target.series is None:
        raise ValueError("an end-of-run target reads a metric, not the hourly series")
    hours, column = np.asarray(hourly["hours"], dtype=float), np.asarray(hourly[target.series], dtype=float)
    if target.at is not None:
        return sample_at(hours, column, scenario.hours(target.at))
    assert target.from_ is not None and target.to is not None  # a Target has either at, or from and to
    return sample_at(hours, column, scenario.hours(target.to)) - sample_at(hours, column, scenario.hours(target.from_))


def dated_values(targets: Mapping[str, Target], scenario: Scenario, result: ReplicationResult) -> dict[str, float]:
    """Every dated target's value in one replication, by target name (a sweep task's extra columns
    beside the metrics: :attr:`sim.experiments.sweeps.SweepSpec.outputs`)."""
    return {name: target_value(t, scenario, result.hourly) for name, t in targets.items() if t.dated}


def target_hours(target: Target, scenario: Scenario) -> float:
    """When a target is dated, in hours after the start of ``scenario``: a series read at a time
    then, a window at its end, an end-of-run metric at the end of the security window."""
    if target.at is not None:
        return scenario.hours(target.at)
    if target.to is not None:
        return scenario.hours(target.to)
    return scenario.end_hours
