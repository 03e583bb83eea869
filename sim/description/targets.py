"""Published figures a scenario is compared with: calibration targets (``[targets]``) and counts
of people evacuated by a date (``[[reference_cumulative]]``). Every figure is finite and bounded,
so that the squares calibration takes of them stay finite and non-zero."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated

from pydantic import Field, model_validator

from sim.description.bounds import MAX_TARGET, MIN_TARGET_SD
from sim.description.times import TimeSpec
from sim.description.values import NonNegative, Number, StrictModel

__all__ = ["CUMULATIVE_SERIES", "SERIES", "PublishedCumulative", "Target", "series_names", "target_problems"]

Figure = Annotated[Number, Field(ge=-MAX_TARGET, le=MAX_TARGET)]
"""A published value (or an end of a published range)."""
Spread = Annotated[Number, Field(ge=MIN_TARGET_SD, le=MAX_TARGET)]
"""A standard deviation (observation error or model discrepancy)."""

CUMULATIVE_SERIES = ("evacuated_cumulative", "departures_cumulative")
"""Hourly columns that only grow: a window target reads their change (``<column>.<operator>`` too)."""
SERIES = (*CUMULATIVE_SERIES, "airfield_people")
"""Hourly columns a dated target may read at a time (the cumulative ones also per operator)."""


def series_names(operators: Sequence[str]) -> list[str]:
    """The hourly columns a dated target of a scenario with these operators may name."""
    return [*SERIES, *(f"{c}.{op}" for c in CUMULATIVE_SERIES for op in operators)]


class Target(StrictModel):
    """A published figure a run should reproduce (``[targets]``, used by ``airlift calibrate``).

    What the model gives: without ``series``, the end-of-run metric the key names; with ``series``
    and ``at``, that hourly column at that time (the key is then a free label); with ``series``,
    ``from`` and ``to``, the change of a cumulative column over the window. What was observed: a
    ``value`` with its ``sd``, a range ``low``-``high`` (uniform), or one-sided bounds ``min`` and/or
    ``max`` (a published "more than X" is ``min = X``; ``sd`` optional). ``discrepancy`` adds the
    model's structural error, apart from the observation's."""

    value: Figure | None = None
    """Observed value (with ``sd``)."""
    sd: Spread | None = None
    """Standard deviation of the observation (its own uncertainty); with ``min``/``max``, of the bound."""
    low: Figure | None = None
    """Lower end of a range (with ``high``), read as a uniform observation error."""
    high: Figure | None = None
    """Upper end of a range (with ``low``)."""
    min: Figure | None = None
    """One-sided bound: the figure is at least this ("more than X"); any model value above it fits."""
    max: Figure | None = None
    """One-sided bound: the figure is at most this; any model value below it fits."""
    discrepancy: Spread | None = None
    """Standard deviation of the model discrepancy (structural error), added to the observation's."""
    series: str | None = None
    """Hourly column read (with ``at``, or ``from``/``to``): ``evacuated_cumulative[.<operator>]``,
    ``departures_cumulative[.<operator>]`` or ``airfield_people``; absent: the end-of-run metric the key names."""
    at: TimeSpec | None = None
    """Time the ``series`` is read at (the hourly sample at or before it; datetime or days after start)."""
    from_: TimeSpec | None = Field(default=None, alias="from")
    """Start of the window over which a cumulative ``series`` changes (with ``to``)."""
    to: TimeSpec | None = None
    """End of the window (with ``from``)."""
    source: Annotated[str, Field(min_length=1)]
    """Where the figure was published."""
    basis: str = ""
    """What the published figure counts (e.g. "US military flights only"), as published."""

    @model_validator(mode="after")
    def _one_kind_of_observation(self) -> Target:
        point = self.value is not None or self.sd is not None and self.min is None and self.max is None
        span = self.low is not None or self.high is not None
        bound = self.min is not None or self.max is not None
        if point + span + bound != 1:
            raise ValueError("give one of: value and sd; low and high; min and/or max")
        if point and (self.value is None or self.sd is None):
            raise ValueError("a value needs its sd (and an sd its value)")
        if span and (self.low is None or self.high is None or not self.low < self.high):
            raise ValueError("a range needs low < high")
        if bound and self.min is not None and self.max is not None and not self.min < self.max:
            raise ValueError("min must be below max")
        return self

    @model_validator(mode="after")
    def _one_kind_of_output(self) -> Target:
        window = self.from_ is not None or self.to is not None
        if self.series is None and (self.at is not None or window):
            raise ValueError("at, from and to read a series: name it (series = ...)")
        if self.series is not None and (self.at is not None) == window:
            raise ValueError("a series target needs either at, or from and to")
        if window and (self.from_ is None or self.to is None):
            raise ValueError("a window needs both from and to")
        if window and self.series is not None and self.series.split(".")[0] not in CUMULATIVE_SERIES:
            raise ValueError(f"a window reads the change of a cumulative series ({', '.join(CUMULATIVE_SERIES)})")
        return self

    @property
    def dated(self) -> bool:
        """Whether the target reads an hourly series (else an end-of-run metric)."""
        return self.series is not None

    @property
    def observed(self) -> float:
        """The observed value, the middle of the range, or the bound (the lower one if both)."""
        if self.value is not None:
            return float(self.value)
        if self.low is not None and self.high is not None:
            return (float(self.low) + float(self.high)) / 2
        return float(self.min if self.min is not None else self.max)  # type: ignore[arg-type]

    @property
    def variance(self) -> float:
        """Observation variance plus the discrepancy's: ``sd**2`` (or ``(high - low)**2 / 12`` for a
        range, uniform; 0 for a bound without ``sd``) ``+ discrepancy**2``."""
        if self.sd is not None:
            observation = float(self.sd) ** 2
        elif self.low is not None and self.high is not None:
            observation = (float(self.high) - float(self.low)) ** 2 / 12
        else:
            observation = 0.0
        return observation + (float(self.discrepancy) ** 2 if self.discrepancy is not None else 0.0)


def target_problems(
    name: str, target: Target, operators: Sequence[str], hours: Callable[[TimeSpec], float], end_hours: float | None
) -> list[tuple[str, str]]:
    """What is wrong with a dated target for a scenario: an unknown series, a time before the start
    (or, given ``end_hours``, after the security end), or a window that does not go forward.

    A scenario checks its own targets without ``end_hours``, so that a variant or a sweep point
    that ends the window earlier stays valid (a time after the end reads the last sample); a
    calibration checks them with it."""
    if target.series is None:
        return []
    where = f"targets.{name}"
    known = series_names(operators)
    problems = [] if target.series in known else [(f"{where}.series", f"unknown series (known: {', '.join(known)})")]
    for key, t in {"at": target.at, "from": target.from_, "to": target.to}.items():
        if t is not None and hours(t) < 0:
            problems.append((f"{where}.{key}", "before the start"))
        elif t is not None and end_hours is not None and hours(t) > end_hours:
            problems.append((f"{where}.{key}", "after security.end: outside the security window"))
    if target.from_ is not None and target.to is not None and not hours(target.from_) < hours(target.to):
        problems.append((f"{where}.to", "must be after from"))
    return problems


class PublishedCumulative(StrictModel):
    """A published count of the people evacuated from the start until a date (drawn on the
    cumulative plot beside the model's curve)."""

    at: TimeSpec
    """When the count stood at that figure (datetime or days after start)."""
    evacuated: NonNegative
    """People evacuated from the start until then, as published."""
    operator: str | None = None
    """Whose flights the count covers (an operator of the fleets); absent: every operator. Drawn
    beside that operator's own curve."""
    source: str = ""
    """Who published it, and when."""
