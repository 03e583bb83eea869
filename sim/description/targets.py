"""Published figures a scenario is compared with: calibration targets (``[targets]``) and counts
of people evacuated by a date (``[[reference_cumulative]]``). Every figure is finite and bounded,
so that the squares calibration takes of them stay finite and non-zero."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from sim.description.bounds import MAX_TARGET, MIN_TARGET_SD
from sim.description.times import TimeSpec
from sim.description.values import NonNegative, Number, StrictModel

__all__ = ["PublishedCumulative", "Target"]

Figure = Annotated[Number, Field(ge=-MAX_TARGET, le=MAX_TARGET)]
"""A published value (or an end of a published range)."""


class Target(StrictModel):
    """A published figure a run should reproduce (``[targets]``, used by ``airlift calibrate``):
    a metric's observed ``value`` with its standard deviation ``sd``, or a range ``low``-``high``."""

    value: Figure | None = None
    """Observed value (with ``sd``)."""
    sd: Annotated[Number, Field(ge=MIN_TARGET_SD, le=MAX_TARGET)] | None = None
    """Standard deviation of the observation: the figure's own uncertainty and the model's structural error."""
    low: Figure | None = None
    """Lower end of a range (with ``high``), read as a uniform observation error."""
    high: Figure | None = None
    """Upper end of a range (with ``low``)."""
    source: Annotated[str, Field(min_length=1)]
    """Where the figure was published."""

    @model_validator(mode="after")
    def _value_or_range(self) -> Target:
        point = self.value is not None or self.sd is not None
        span = self.low is not None or self.high is not None
        if point == span:
            raise ValueError("give either value and sd, or low and high")
        if point and (self.value is None or self.sd is None):
            raise ValueError("a value needs its sd (and an sd its value)")
        if span and (self.low is None or self.high is None or not self.low < self.high):
            raise ValueError("a range needs low < high")
        return self

    @property
    def observed(self) -> float:
        """The observed value, or the middle of the range."""
        return float(self.value) if self.value is not None else (float(self.low) + float(self.high)) / 2  # type: ignore[arg-type]

    @property
    def variance(self) -> float:
        """Observation variance: ``sd**2``, or ``(high - low)**2 / 12`` for a range (uniform)."""
        if self.sd is not None:
            return float(self.sd) ** 2
        return (float(self.high) - float(self.low)) ** 2 / 12  # type: ignore[arg-type]


class PublishedCumulative(StrictModel):
    """A published count of the people evacuated from the start until a date (drawn on the
    cumulative plot beside the model's curve)."""

    at: TimeSpec
    """When the count stood at that figure (datetime or days after start)."""
    evacuated: NonNegative
    """People evacuated from the start until then, as published."""
    source: str = ""
    """Who published it, and when."""
