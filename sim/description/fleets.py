"""The aircraft and where they fly: fleets of one type and operator, each with its own departure
rule or timetable if it has one; the staging bases that take evacuees and pass them onwards; and
which cohorts each operator boards, in what order, from when (``boarding``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, model_validator

from sim.description.airport import Departure
from sim.description.bounds import MAX_AIRCRAFT, MAX_SEATS, MAX_TIMETABLE_SLOTS
from sim.description.times import StepValue, TimeSpec
from sim.description.values import (
    Fraction,
    Hours,
    Minutes,
    Name,
    Number,
    People,
    PeoplePerDay,
    PositiveHours,
    StrictModel,
    Whole,
)

__all__ = ["Base", "BoardingStep", "Fleet", "FleetDeparture"]


class Base(StrictModel):
    """A staging base: evacuees are flown there and flow onwards at a rate."""

    flight_hours: PositiveHours
    """Flight time between the airport and this base, each way."""
    capacity_people: People
    """Evacuees the base can hold."""
    outflow_per_day: PeoplePerDay
    """Evacuees a day flown onward from the base (continuous drain)."""
    outflow_schedule: tuple[StepValue, ...] = ()
    """Later outflow rates (people per day), each from a date."""
    opens: TimeSpec | None = None
    """Before this time the base takes no evacuees."""
    initial_people: People = 0
    """Evacuees already at the base at the start."""


class FleetDeparture(StrictModel):
    """A fleet's own departure rule: each key given replaces the scenario's ``[departure]`` key for
    this fleet; a key left out is the scenario's."""

    min_load_fraction: Fraction | None = None
    """Leave as soon as the load reaches this fraction of the (normal) seats; absent: ``departure.min_load_fraction``."""
    max_ground_hours: PositiveHours | None = None
    """Leave after this long on the ground (with a ``timetable``: land at most this long before the
    slot); absent: ``departure.max_ground_hours``."""
    wait_for_base_room: bool | None = None
    """Wait on the ground for room at the staging base rather than leave; absent: ``departure.wait_for_base_room``."""

    def over(self, rule: Departure) -> Departure:
        """The rule this fleet follows: ``rule`` (the scenario's) with this fleet's keys in place of its own."""
        own = {k: v for k, v in self.model_dump().items() if v is not None}
        return rule.model_copy(update=own) if own else rule


class BoardingStep(StrictModel):
    """From a time on, the cohorts an operator's aircraft board, in order of priority."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, use_attribute_docstrings=True)
    from_: TimeSpec = Field(alias="from")
    """From when (datetime or days after start); written ``from`` in TOML."""
    cohorts: tuple[Name, ...]
    """The only cohorts boarded from then on, first listed first (empty: no evacuees, troops only)."""

    @model_validator(mode="after")
    def _once_each(self) -> BoardingStep:
        twice = sorted({c for c in self.cohorts if self.cohorts.count(c) > 1})
        if twice:
            raise ValueError(f"cohorts named more than once: {', '.join(twice)}")
        return self


class Fleet(StrictModel):
    """Aircraft of one type flown by one operator from a home staging base."""

    operator: Name
    """Nation or organisation flying the fleet; cohorts' ``carriers`` and the keys of ``boarding`` name operators."""
    aircraft_type: str
    """Aircraft type, for reports."""
    size_class: Name
    """Ramp size class (a key of ``ramp.spots``)."""
    count: Annotated[Whole, Field(ge=0, le=MAX_AIRCRAFT)]
    """Aircraft in the fleet at the start of its availability."""
    count_schedule: tuple[StepValue, ...] = ()
    """Later aircraft counts, each ``{ from = ..., value = aircraft }``: aircraft join when the count
    rises and leave service (after their sortie) when it falls."""
    bases: Annotated[tuple[Name, ...], Field(min_length=1)]
    """Staging bases in order of preference (home first)."""
    seats: Annotated[Whole, Field(ge=1, le=MAX_SEATS)]
    """Normal evacuee load."""
    surge_seats: Annotated[Whole, Field(ge=1, le=MAX_SEATS)] | None = None
    """Surge load, used while the holding area is crowded (``airfield.surge_when_holding_over``); absent: no surge."""
    available_from: TimeSpec | None = None
    """First time the fleet can fly (datetime or days); absent: the start."""
    available_until: TimeSpec | None = None
    """Last landing at the airport (an ally ending its operation); absent: the security end."""
    stagger_hours: Hours = 0.0
    """Aircraft enter service this far apart (aircraft k at ``available_from + k * stagger_hours``),
    so crews do not all reach their duty limit together."""
    ground_fixed_min: Minutes = 60.0
    """Minutes on the ground before boarding can start (taxi, unload, checks)."""
    boarding_min_per_person: Annotated[Number, Field(ge=0, le=60)] = 0.1
    """Boarding minutes per person."""
    turnaround_hours: Hours = 3.0
    """Hours at the staging base between sorties."""
    crew_duty_hours: PositiveHours = 24.0
    """Crew duty limit: a sortie that would end beyond it waits for crew rest first."""
    crew_rest_hours: Hours = 12.0
    """Crew rest at the staging base when the duty limit is reached."""
    crews_per_aircraft: Annotated[Whole, Field(ge=1, le=100)] = 1
    """Crews staged for each aircraft: when one reaches its duty limit a rested one takes over
    at the staging base; the aircraft waits only if none has finished its rest."""
    departure: FleetDeparture = FleetDeparture()
    """This fleet's own departure rule, e.g. ``{ min_load_fraction = 0.5 }``: the keys given replace
    the scenario's ``[departure]`` ones for this fleet."""
    timetable: Annotated[tuple[TimeSpec, ...], Field(max_length=MAX_TIMETABLE_SLOTS)] = ()
    """Scheduled departures (times, in increasing order): each is flown by one aircraft of the fleet,
    which leaves at it with whatever load it has and not before; slots no aircraft can make are not
    flown, and an aircraft with no slot left it can make leaves service. Empty: the departure rule."""

    @model_validator(mode="after")
    def _surge(self) -> Fleet:
        if self.surge_seats is not None and self.surge_seats < self.seats:
            raise ValueError("surge_seats must be at least seats")
        return self
