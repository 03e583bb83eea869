"""Dated events (``[[disruptions]]``): one model per kind, told apart by ``kind``.

Each kind says what its ``target`` names (``targets_in``: a table of the scenario, or the runway),
whether ``*`` (every one) is a valid target, and the bounds of its ``value`` if it has one. The
cross-checks read ``targets_in``; :mod:`sim.model.timeline` keeps the one registry from a kind to
the schedule it changes. A new kind is one model here (added to :data:`Disruption`) and one entry there.
"""

from __future__ import annotations

import typing
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field

from sim.description.bounds import MAX_LANES, MAX_PEOPLE
from sim.description.times import TimeSpec
from sim.description.values import Fraction, Number, PeoplePerDay, StrictModel

__all__ = [
    "DISRUPTION_KINDS",
    "ArrivalFactor",
    "EventName",
    "Disruption",
    "GateClosure",
    "LaneChange",
    "RELIEF_TABLES",
    "Relief",
    "ReliefResource",
    "RunwayClosure",
    "StagingCapacity",
    "StagingOutflow",
    "TargetTable",
]

TargetTable = Literal["gates", "cohorts", "bases", "runway", "fleets", "spots", "holding"]
"""What a disruption's ``target`` names: a gate, a cohort, a staging base, the runway, a fleet, a
ramp size class, or the holding area."""

ReliefResource = Literal["lanes", "aircraft", "crews", "holding", "staging", "runway", "spots"]
"""A resource class a ``relief`` can add to: screening lanes of a gate, aircraft or crews per aircraft
of a fleet, holding room, room and outflow of a staging base, runway separation, ramp spots of a size class."""

RELIEF_TABLES: dict[str, TargetTable] = {
    "lanes": "gates",
    "aircraft": "fleets",
    "crews": "fleets",
    "holding": "holding",
    "staging": "bases",
    "runway": "runway",
    "spots": "spots",
}
"""What a relief's ``target`` names, by its resource."""


EventName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$")]
"""A disruption's name: starts with a letter (so it is never read as a list index)."""


def _whole(v: float) -> float:
    if v != int(v):
        raise ValueError("must be a whole number")
    return v


class _Dated(StrictModel):
    """What every disruption has: its kind, its period and its target."""

    targets_in: ClassVar[TargetTable]
    """The table whose names are valid targets (``runway``: the runway itself)."""
    every_target: ClassVar[bool]
    """Whether ``*`` (every name of that table) is a valid target."""

    kind: str
    """The kind of event (see the kinds)."""
    name: EventName | None = None
    """A name for the event, unique among the disruptions (a letter first, then letters, digits, ``_``,
    ``-``): dotted keys, ``[uncertain]`` and variants' ``remove`` and ``[set]`` then name it by it
    (``disruptions.abbey_bombing.end``) instead of by its place in the list."""
    start: TimeSpec
    """When it starts (datetime or days after start)."""
    end: TimeSpec | None = None
    """When it ends; absent: until the security end."""
    target: str = "*"
    """A gate, ``runway``, a cohort, a base (for a relief: a fleet, a ramp size class, ``holding``), or ``*``
    for all (see the kind)."""

    def target_table(self) -> TargetTable:
        """The table whose names are valid targets of this event."""
        return self.targets_in


class _Closure(_Dated):
    """An event that shuts its target for the period."""

    description: str = ""
    """What happened, and the source."""


class _Change(_Dated):
    """An event that puts a value in force on its target for the period."""

    value: Number
    """The value in force during the period (see the kind)."""
    description: str = ""
    """What happened, and the source."""


class GateClosure(_Closure):
    """Gates admit nobody for a period."""

    targets_in: ClassVar[TargetTable] = "gates"
    every_target: ClassVar[bool] = True
    kind: Literal["gate_closure"]
    """``gate_closure``: a gate (or ``*``, every gate) admits nobody."""


class RunwayClosure(_Closure):
    """Nothing lands or takes off for a period."""

    targets_in: ClassVar[TargetTable] = "runway"
    every_target: ClassVar[bool] = True
    kind: Literal["runway_closure"]
    """``runway_closure``: the runway (target ``runway`` or ``*``) is closed."""


class ArrivalFactor(_Change):
    """Only a fraction of attempts to reach the gates get through for a period."""

    targets_in: ClassVar[TargetTable] = "cohorts"
    every_target: ClassVar[bool] = True
    kind: Literal["arrival_factor"]
    """``arrival_factor``: of a cohort (or ``*``, every cohort), ``value`` is the fraction of attempts that get through."""
    value: Fraction
    """Fraction (0-1) of attempts that get through."""


class LaneChange(_Change):
    """A gate screens with another number of lanes for a period."""

    targets_in: ClassVar[TargetTable] = "gates"
    every_target: ClassVar[bool] = False
    kind: Literal["lanes"]
    """``lanes``: a gate screens with ``value`` lanes."""
    value: Annotated[Number, Field(ge=0, le=MAX_LANES), AfterValidator(_whole)]
    """Lanes in force (a whole number)."""


class StagingCapacity(_Change):
    """A staging base can hold another number of evacuees for a period."""

    targets_in: ClassVar[TargetTable] = "bases"
    every_target: ClassVar[bool] = False
    kind: Literal["staging_capacity"]
    """``staging_capacity``: a staging base holds at most ``value`` people."""
    value: Annotated[Number, Field(ge=0, le=MAX_PEOPLE), AfterValidator(_whole)]
    """People the base can hold (a whole number)."""


class StagingOutflow(_Change):
    """A staging base passes evacuees onwards at another rate for a period."""

    targets_in: ClassVar[TargetTable] = "bases"
    every_target: ClassVar[bool] = False
    kind: Literal["staging_outflow"]
    """``staging_outflow``: a staging base flies ``value`` people a day onwards."""
    value: PeoplePerDay
    """People a day flown onward from the base."""


class Relief(_Dated):
    """More of one resource for a period: what a planner could add, to measure what it is worth.

    By ``fraction`` r: lanes, aircraft, holding room, staging room and outflow, and ramp spots
    times 1 + r (whole units rounded up, at least one more where there is at least one); crews
    per aircraft plus ceil(r x crews) (at least one more); runway separation divided by 1 + r."""

    targets_in: ClassVar[TargetTable] = "gates"
    every_target: ClassVar[bool] = True
    kind: Literal["relief"]
    """``relief``: more of ``resource`` on ``target`` (or ``*``, every one) during the period."""
    resource: ReliefResource
    """``lanes`` (target a gate), ``aircraft`` or ``crews`` (a fleet), ``holding`` (the holding area),
    ``staging`` (a base: room and outflow), ``runway`` (its separation), ``spots`` (a ramp size class)."""
    fraction: Annotated[Number, Field(gt=0, le=100)]
    """How much more, as a fraction of what there is (0.5: half as much again)."""
    description: str = ""
    """What happened, and the source."""

    def target_table(self) -> TargetTable:
        return RELIEF_TABLES[self.resource]


Disruption = Annotated[
    GateClosure | RunwayClosure | ArrivalFactor | LaneChange | StagingCapacity | StagingOutflow | Relief,
    Field(discriminator="kind"),
]
"""A dated event of any kind; ``kind`` says which."""

DISRUPTION_KINDS: dict[str, type[_Dated]] = {
    typing.get_args(model.model_fields["kind"].annotation)[0]: model for model in typing.get_args(typing.get_args(Disruption)[0])
}
"""Every kind of disruption, by its ``kind``."""
