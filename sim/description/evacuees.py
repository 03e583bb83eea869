"""The evacuees: cohorts of people with one priority, their family sizes, when they first try to
reach the gates (or, for a registered cohort, whether and when they set out and how long the
journey takes), and how long they wait there."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.description.bounds import MAX_CV, MAX_FAMILY, MAX_PATIENCE_HOURS
from sim.description.times import TimeSpec
from sim.description.values import Fraction, HourOfDay, Hours, Name, Number, People, StrictModel, Weight, Whole

__all__ = ["Arrival", "Cohort", "GroupSize", "Patience", "Registration"]


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
    """When groups first try to reach the gates (for a registered cohort: when the families that
    travel set out), and what stops them getting there."""

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


class Registration(StrictModel):
    """Registration-driven demand: the cohort's ``people`` registered (with an embassy, say) and
    each family decides once whether to travel to the airport. A family that travels sets out at a
    time drawn from ``arrival.profile`` and reaches a gate ``travel_hours`` later, unless it turns
    back on the way; a family that turns back does not try again. Once at a gate it waits, gives up
    and comes back like any family (``patience``)."""

    travel_probability: Fraction = 1.0
    """Chance that a registered family sets out at all; the others did not travel (their choice:
    counted in ``did_not_travel``, not as stranded)."""
    turn_back_probability: Fraction = 0.0
    """Chance that a family on its way turns back for good (counted as stranded, turned back). On
    top of it, the cohort's access factor when the family sets out (``arrival_factor``
    disruptions, curfew) is the share of the rest that get through: a family gets through with
    ``(1 - turn_back_probability) * access factor``."""
    travel_hours: Hours = 0.0
    """Mean journey time from setting out to reaching a gate."""
    travel_cv: Annotated[Number, Field(ge=0, le=MAX_CV)] = 0.0
    """Coefficient of variation of the journey time (lognormal with mean ``travel_hours``); 0: every
    family takes exactly ``travel_hours``."""


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
    registration: Registration | None = None
    """Registration-driven demand (a table, see its keys); absent: families make their own way to
    the gates, turned back on the way they try again (``patience``)."""
