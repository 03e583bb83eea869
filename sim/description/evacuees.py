"""The evacuees: cohorts of people with one priority, their family sizes, when they first try to
reach the gates, and how long they wait there."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.description.bounds import MAX_FAMILY, MAX_PATIENCE_HOURS
from sim.description.times import TimeSpec
from sim.description.values import Fraction, HourOfDay, Name, Number, People, StrictModel, Weight, Whole

__all__ = ["Arrival", "Cohort", "GroupSize", "Patience"]


class GroupSize(StrictModel):
    """Family size: ``1 + Poisson(mean - 1)`` capped at ``max``, or a categorical table."""

    distribution: Literal["poisson", "categorical"] = "poisson"
    """``poisson`` (1 + Poisson(mean - 1), capped at ``max``) or ``categorical`` (``sizes`` and ``weights``)."""
    mean: Annotated[Number, Field(ge=1, le=MAX_FAMILY)] = 4.0
    """Mean family size, for ``poisson``."""
    max: Annotated[Whole, Field(ge=1, le=MAX_FAMILY)] = 15
    """Largest family, for ``poisson``."""
    sizes: tuple[Annotated[Whole, Field(ge=1, le=MAX_FAMILY)], ...] = ()
    """Family sizes, for ``categorical``."""
    weights: tuple[Weight, ...] = ()
    """Relative frequencies of ``sizes``."""

    @model_validator(mode="after")
    def _table(self) -> GroupSize:
        if self.distribution == "categorical":
            if not self.sizes or len(self.sizes) != len(self.weights) or sum(self.weights) <= 0:
                raise ValueError("categorical needs sizes and weights of the same length, weights not all 0")
        return self


class Arrival(StrictModel):
    """When groups first try to reach the gates, and what stops them getting there."""

    profile: Annotated[tuple[tuple[TimeSpec, Weight], ...], Field(min_length=1)] = ((0.0, 1.0),)
    """Piecewise-constant relative intensity: ``[[from, weight], ...]``; the last holds until the end."""
    curfew_factor: Fraction = 1.0
    """Fraction of attempts made during curfew hours that get through to the gates."""
    curfew_start_hour: HourOfDay = 21.0
    """Local hour the night curfew starts."""
    curfew_end_hour: HourOfDay = 5.0
    """Local hour the night curfew ends."""
    curfew_until: TimeSpec | None = None
    """The curfew applies until then (datetime or days); absent: always."""
    until: TimeSpec | None = None
    """When the profile ends: people whose first attempt would fall later never try. Absent: the
    security end. Set it explicitly to keep arrivals fixed while sweeping ``security.end``."""


class Patience(StrictModel):
    """How long a group waits in a gate crowd, and whether it tries again."""

    mean_hours: Annotated[Number, Field(gt=0, le=MAX_PATIENCE_HOURS)] = 12.0
    """Mean time (exponential) a family waits in a gate crowd before giving up."""
    retry_probability: Fraction = 0.5
    """Chance that a family that gave up (or was turned back on the way) tries again."""
    retry_after_hours: Annotated[Number, Field(gt=0, le=MAX_PATIENCE_HOURS)] = 12.0
    """Mean time (exponential) before it tries again."""
    max_attempts: Annotated[int, Field(ge=1, le=10_000)] = 20
    """Most times a family joins a gate crowd; after that many it stops trying (bounds the work)."""


class Cohort(StrictModel):
    """People with the same priority, eligibility and behaviour."""

    people: People
    """People in the cohort (counted exactly; families are cut to fit)."""
    priority: Annotated[Whole, Field(ge=1, le=1_000)]
    """1 is served first at the gates and on board (an operator's ``boarding`` steps may order its own aircraft otherwise)."""
    carriers: Annotated[tuple[Name, ...], Field(min_length=1)] = ("any",)
    """Operators allowed to carry this cohort, or ``any`` (an operator's ``boarding`` steps replace this for it)."""
    group_size: GroupSize = GroupSize()
    """Family size distribution."""
    arrival: Arrival = Arrival()
    """When families try to reach the gates."""
    patience: Patience = Patience()
    """How long families wait and whether they come back."""
