"""The airport: the security window and the withdrawal of its force, the gates, the holding area,
the runway, the parking ramp and the rule that sends a loaded aircraft off."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag

from sim.description.bounds import MAX_LANES, MAX_PEOPLE, MAX_SPOTS, MAX_WEIGHT
from sim.description.times import StepValue, TimeSpec, Window
from sim.description.values import (
    Fraction,
    FrozenMap,
    HourOfDay,
    Hours,
    Minutes,
    Name,
    Number,
    People,
    PositiveHours,
    PositiveMinutes,
    StrictModel,
    Whole,
)

__all__ = ["WITHDRAWAL_FORMS", "Airfield", "Departure", "Gate", "Ramp", "Retrograde", "Runway", "Security", "Withdrawals"]


class Security(StrictModel):
    """The security window: when the airport is secured from and until, and the lead times before its end."""

    start: TimeSpec | None = None
    """When the airport starts being secured (datetime or days after start); absent: from the scenario start.
    Before it the gates admit nobody (people who arrive wait in the gate crowds, with their patience as usual)
    and no aircraft lands (aircraft wait at their base and fly in to land from then on)."""
    end: TimeSpec
    """When the airport stops being secured: whoever is not airborne by then is stranded (datetime or days after start)."""
    gate_close_lead_hours: Hours = 12.0
    """Gates stop admitting (screening no new group) this long before the end."""
    last_landing_lead_hours: Hours = 4.0
    """No aircraft may land later than this before the end."""
    last_takeoff_lead_hours: Hours = 0.5
    """Every aircraft must have taken off this long before the end (a margin for the runway queue)."""


class Retrograde(StrictModel):
    """One withdrawal of the security force, flown out ahead of evacuees on its carriers' aircraft."""

    name: Name | None = None
    """A name for the withdrawal in a list of them (it names its metrics); absent: its index in the list."""
    troops: People = 0
    """Troops to fly out; they board ahead of every evacuee and need no staging room."""
    start: TimeSpec | None = None
    """When troops start to leave (or give ``hours_before_end``)."""
    hours_before_end: Hours | None = None
    """Troops start to leave this long before the security end, wherever the end is moved."""
    carriers: tuple[Name, ...] = ()
    """Operators whose aircraft carry troops."""


WITHDRAWAL_FORMS = ("one withdrawal", "withdrawals")
"""The two ways to write ``retrograde``, as pydantic names them in the location of an error (and the
error messages leave out): one table ``[retrograde]``, or a list of tables ``[[retrograde]]``."""


def _withdrawal_form(v: object) -> str:
    return WITHDRAWAL_FORMS[1] if isinstance(v, list | tuple) else WITHDRAWAL_FORMS[0]


Withdrawals = Annotated[
    Annotated[Retrograde, Tag(WITHDRAWAL_FORMS[0])] | Annotated[tuple[Retrograde, ...], Tag(WITHDRAWAL_FORMS[1])],
    Discriminator(_withdrawal_form),
]
"""The withdrawal of the security force: one table, or a list of tables, one per withdrawal."""


class Gate(StrictModel):
    """A perimeter entrance with screening lanes."""

    lanes: Annotated[Whole, Field(ge=0, le=MAX_LANES)]
    """Screening lanes at the start."""
    lane_schedule: tuple[StepValue, ...] = ()
    """Later lane counts, each ``{ from = ..., value = lanes }``."""
    screening_base_min: Minutes = 5.0
    """Mean screening minutes per family, fixed part."""
    screening_per_person_min: Minutes = 2.0
    """Mean screening minutes added per person in the family."""
    screening_distribution: Literal["exponential", "fixed", "lognormal"] = "exponential"
    """``exponential``, ``fixed`` or ``lognormal`` (with ``screening_cv``) around that mean."""
    screening_cv: Annotated[Number, Field(gt=0, le=10)] = 0.5
    """Coefficient of variation, for the lognormal distribution."""
    admits: Annotated[tuple[Name, ...], Field(min_length=1)] = ("any",)
    """Cohorts this gate admits, or ``any``."""
    weight: Annotated[Number, Field(gt=0, le=MAX_WEIGHT)] = 1.0
    """Relative chance that an arriving group picks this gate (see docs/model.md)."""
    closed: tuple[Window, ...] = ()
    """Periods when the gate admits nobody, each ``{ start = ..., end = ... }``."""


class Airfield(StrictModel):
    """The holding area inside the perimeter, and how passengers are brought to aircraft."""

    holding_capacity_people: Annotated[Whole, Field(ge=1, le=MAX_PEOPLE)]
    """People the holding area inside the perimeter can take (including people in screening lanes)."""
    chalk_interval_min: PositiveMinutes = 15.0
    """An aircraft still short of its departure load takes another chalk from holding this often."""
    surge_when_holding_over: Fraction = 0.5
    """Aircraft board up to their surge seats while holding is fuller than this fraction."""


class Runway(StrictModel):
    """One runway: every landing and take-off occupies it for a separation time."""

    separation_day_min: PositiveMinutes = 4.0
    """Minutes one movement (landing or take-off) occupies the runway by day."""
    separation_night_min: PositiveMinutes = 6.0
    """Minutes one movement occupies the runway by night."""
    night_start_hour: HourOfDay = 19.0
    """Local hour when night separation starts."""
    night_end_hour: HourOfDay = 5.0
    """Local hour when night separation ends."""


class Ramp(StrictModel):
    """Parking spots by size class; an aircraft holds its spot from clearance to take-off."""

    spots: FrozenMap[Name, Annotated[Whole, Field(ge=0, le=MAX_SPOTS)]]
    """Parking spots by size class, e.g. ``heavy = 14``; each fleet names its class."""


class Departure(StrictModel):
    """When a loaded aircraft leaves: full enough, or on the ground long enough."""

    min_load_fraction: Fraction = 0.9
    """Leave as soon as the load reaches this fraction of the (normal) seats."""
    max_ground_hours: PositiveHours = 3.0
    """Leave after this long on the ground with whatever load (unless waiting for base room)."""
    wait_for_base_room: bool = True
    """If the destination base has no room, wait on the ground (holding the spot) rather than leave empty."""
