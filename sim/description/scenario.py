"""Scenario description: schema, bounds, TOML loading, ``extends`` inheritance, errors.

A :class:`Scenario` is a complete, validated, immutable description of one airlift. Loading it
imports no SimPy and runs nothing; :mod:`sim.model` builds the simulation from it. Every
parameter has one dotted name (``gates.abbey.lanes``) used alike in TOML files, ``--set``
overrides (:mod:`sim.description.overrides`), sweep columns and result files. The whole tree is immutable
(read-only tables, tuples) and every number is finite and bounded (the ``MAX_*`` constants).

Times are either an ISO 8601 datetime (with or without offset; without one, the scenario's
``start`` offset applies) or a number of days after ``start``. Durations carry their unit in
their name (``_min``, ``_hours``, ``_per_day``).
"""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn, TypeVar

from pydantic import (
    AfterValidator,
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationError,
    model_validator,
)

from sim.description.errors import ScenarioError, known_names
from sim.description.overrides import apply_overrides, thaw

__all__ = [
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "DEFAULT_SCENARIO",
    "Uncertain",
    "value_at",
]

DEFAULT_SCENARIO = "kabul_2021.toml"

K = TypeVar("K")
V = TypeVar("V")

MAX_PEOPLE = 10_000_000
"""Upper bound of every count of people (a cohort, a capacity, a rate a day, troops)."""
MAX_AIRCRAFT = 1_000
"""Upper bound of aircraft in one fleet (``count`` and ``count_schedule`` values)."""
MAX_SPOTS = 10_000
"""Upper bound of parking spots of one size class."""
MAX_LANES = 10_000
"""Upper bound of screening lanes at one gate (``lanes``, ``lane_schedule``, ``lanes`` disruptions)."""
MAX_SEATS = 10_000
"""Upper bound of seats of one aircraft."""
MAX_FAMILY = 100
"""Upper bound of a family's size (and of the mean size)."""
MAX_DAYS = 3_660
"""Times given as days lie within this many days of ``start`` (either side)."""
MAX_WINDOW_DAYS = 366
"""The security window (from ``start`` to ``security.end``) is at most this many days."""
MAX_HOURS = MAX_WINDOW_DAYS * 24
"""Upper bound of every duration in hours."""
MAX_PATIENCE_HOURS = 1e9
"""Upper bound of the patience means (a mean this long means: never gives up)."""
MAX_MINUTES = 7 * 24 * 60
"""Upper bound of every duration in minutes (a week)."""
MAX_WEIGHT = 1e9
"""Upper bound of relative weights."""


def _not_bool(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("expected a number, not a boolean")
    return v


def _not_number(v: Any) -> Any:
    if isinstance(v, int | float):  # a number of days is never read as a Unix timestamp
        raise ValueError("expected a datetime")
    return v


Number = Annotated[float, BeforeValidator(_not_bool), AllowInfNan(False)]
"""A finite number (an integer is accepted, a boolean never)."""
Whole = Annotated[int, BeforeValidator(_not_bool)]
"""A whole number (never a boolean)."""

Days = Annotated[Number, Field(ge=-MAX_DAYS, le=MAX_DAYS)]
TimeSpec = Annotated[datetime, BeforeValidator(_not_number)] | Days
"""A point in time: an ISO datetime, or days after the scenario start."""

Positive = Annotated[Number, Field(gt=0)]
NonNegative = Annotated[Number, Field(ge=0)]
Fraction = Annotated[Number, Field(ge=0, le=1)]
Hours = Annotated[Number, Field(ge=0, le=MAX_HOURS)]
PositiveHours = Annotated[Number, Field(gt=0, le=MAX_HOURS)]
Minutes = Annotated[Number, Field(ge=0, le=MAX_MINUTES)]
PositiveMinutes = Annotated[Number, Field(gt=0, le=MAX_MINUTES)]
HourOfDay = Annotated[Number, Field(ge=0, lt=24)]
Weight = Annotated[Number, Field(ge=0, le=MAX_WEIGHT)]
People = Annotated[Whole, Field(ge=0, le=MAX_PEOPLE)]
PeoplePerDay = Annotated[Number, Field(ge=0, le=MAX_PEOPLE)]
Name = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")]


class FrozenDict(dict[K, V]):
    """A dict that cannot be changed after it is built: a scenario's tables are read-only."""

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a scenario is immutable: use Scenario.with_overrides for a changed copy")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _read_only  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:  # pickling and deepcopy build a new one whole
        return (type(self), (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self.items()))


FrozenMap = Annotated[Mapping[K, V], AfterValidator(FrozenDict)]
"""A read-only table (validated as a dict, kept as a :class:`FrozenDict`)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, use_attribute_docstrings=True)


class Window(_Strict):
    """A closed period: from ``start`` until ``end`` (absent: until the security end)."""

    start: TimeSpec
    """Start of the closed period (datetime or days after start)."""
    end: TimeSpec | None = None
    """End of the closed period; absent: until the security end."""


class Security(_Strict):
    """The security window: when the airport stops being secured, and the lead times before it."""

    end: TimeSpec
    """When the airport stops being secured: whoever is not airborne by then is stranded (datetime or days after start)."""
    gate_close_lead_hours: Hours = 12.0
    """Gates stop admitting (screening no new group) this long before the end."""
    last_landing_lead_hours: Hours = 4.0
    """No aircraft may land later than this before the end."""
    last_takeoff_lead_hours: Hours = 0.5
    """Every aircraft must have taken off this long before the end (a margin for the runway queue)."""


class Retrograde(_Strict):
    """The security force itself, flown out in the final hours ahead of evacuees."""

    troops: People = 0
    """Troops to fly out; they board ahead of every evacuee and need no staging room."""
    start: TimeSpec | None = None
    """When troops start to leave (or give ``hours_before_end``)."""
    hours_before_end: Hours | None = None
    """Troops start to leave this long before the security end, wherever the end is moved."""
    carriers: tuple[Name, ...] = ()
    """Operators whose aircraft carry troops."""


class Airfield(_Strict):
    """The holding area inside the perimeter, and how passengers are brought to aircraft."""

    holding_capacity_people: Annotated[Whole, Field(ge=1, le=MAX_PEOPLE)]
    """People the holding area inside the perimeter can take (including people in screening lanes)."""
    chalk_interval_min: PositiveMinutes = 15.0
    """An aircraft still short of its departure load takes another chalk from holding this often."""
    surge_when_holding_over: Fraction = 0.5
    """Aircraft board up to their surge seats while holding is fuller than this fraction."""


class Runway(_Strict):
    """One runway: every landing and take-off occupies it for a separation time."""

    separation_day_min: PositiveMinutes = 4.0
    """Minutes one movement (landing or take-off) occupies the runway by day."""
    separation_night_min: PositiveMinutes = 6.0
    """Minutes one movement occupies the runway by night."""
    night_start_hour: HourOfDay = 19.0
    """Local hour when night separation starts."""
    night_end_hour: HourOfDay = 5.0
    """Local hour when night separation ends."""


class Ramp(_Strict):
    """Parking spots by size class; an aircraft holds its spot from clearance to take-off."""

    spots: FrozenMap[Name, Annotated[Whole, Field(ge=0, le=MAX_SPOTS)]]
    """Parking spots by size class, e.g. ``heavy = 14``; each fleet names its class."""


class Departure(_Strict):
    """When a loaded aircraft leaves: full enough, or on the ground long enough."""

    min_load_fraction: Fraction = 0.9
    """Leave as soon as the load reaches this fraction of the (normal) seats."""
    max_ground_hours: PositiveHours = 3.0
    """Leave after this long on the ground with whatever load (unless waiting for base room)."""
    wait_for_base_room: bool = True
    """If the destination base has no room, wait on the ground (holding the spot) rather than leave empty."""


class StepValue(_Strict):
    """A value that holds from ``from_`` (a time) onwards."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, use_attribute_docstrings=True)
    from_: TimeSpec = Field(alias="from")
    """From when (datetime or days after start); written ``from`` in TOML."""
    value: Annotated[Number, Field(ge=0, le=MAX_PEOPLE)]
    """The value from then on."""


class Base(_Strict):
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


class Fleet(_Strict):
    """Aircraft of one type flown by one operator from a home staging base."""

    operator: Name
    """Nation or organisation flying the fleet; cohorts' ``carriers`` name operators."""
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

    @model_validator(mode="after")
    def _surge(self) -> Fleet:
        if self.surge_seats is not None and self.surge_seats < self.seats:
            raise ValueError("surge_seats must be at least seats")
        return self


class GroupSize(_Strict):
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


class Arrival(_Strict):
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


class Patience(_Strict):
    """How long a group waits in a gate crowd, and whether it tries again."""

    mean_hours: Annotated[Number, Field(gt=0, le=MAX_PATIENCE_HOURS)] = 12.0
    """Mean time (exponential) a family waits in a gate crowd before giving up."""
    retry_probability: Fraction = 0.5
    """Chance that a family that gave up (or was turned back on the way) tries again."""
    retry_after_hours: Annotated[Number, Field(gt=0, le=MAX_PATIENCE_HOURS)] = 12.0
    """Mean time (exponential) before it tries again."""
    max_attempts: Annotated[int, Field(ge=1, le=10_000)] = 20
    """Most times a family joins a gate crowd; after that many it stops trying (bounds the work)."""


class Cohort(_Strict):
    """People with the same priority, eligibility and behaviour."""

    people: People
    """People in the cohort (counted exactly; families are cut to fit)."""
    priority: Annotated[Whole, Field(ge=1, le=1_000)]
    """1 is served first at the gates and on board."""
    carriers: Annotated[tuple[Name, ...], Field(min_length=1)] = ("any",)
    """Operators allowed to carry this cohort, or ``any``."""
    group_size: GroupSize = GroupSize()
    """Family size distribution."""
    arrival: Arrival = Arrival()
    """When families try to reach the gates."""
    patience: Patience = Patience()
    """How long families wait and whether they come back."""


class Gate(_Strict):
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
    """Relative chance that an arriving group picks this gate (see the README)."""
    closed: tuple[Window, ...] = ()
    """Periods when the gate admits nobody, each ``{ start = ..., end = ... }``."""


DisruptionKind = Literal["gate_closure", "runway_closure", "arrival_factor", "lanes", "staging_capacity", "staging_outflow"]


class Disruption(_Strict):
    """A dated event that changes a target for a period.

    ``gate_closure``: target a gate or ``*``; ``runway_closure``: target ``runway``;
    ``arrival_factor``: target a cohort or ``*``, value = fraction of attempts that get through;
    ``lanes``: target a gate, value = lane count; ``staging_capacity`` / ``staging_outflow``:
    target a base, value = capacity in people / people per day.
    """

    kind: DisruptionKind
    """``gate_closure``, ``runway_closure``, ``arrival_factor``, ``lanes``, ``staging_capacity`` or ``staging_outflow``."""
    start: TimeSpec
    """When it starts (datetime or days after start)."""
    end: TimeSpec | None = None
    """When it ends; absent: until the security end."""
    target: str = "*"
    """A gate, ``runway``, a cohort, a base, or ``*`` for all (see the kind)."""
    value: Number | None = None
    """Lanes, an arrival fraction (0-1), a capacity in people or an outflow in people a day."""
    description: str = ""
    """What happened, and the source."""


_VALUE_LIMITS: dict[str, tuple[float, bool, str]] = {
    "arrival_factor": (1.0, False, "an arrival factor is a fraction between 0 and 1"),
    "lanes": (MAX_LANES, True, f"lanes are a whole number up to {MAX_LANES}"),
    "staging_capacity": (MAX_PEOPLE, True, f"a capacity is a whole number of people up to {MAX_PEOPLE:,}"),
    "staging_outflow": (MAX_PEOPLE, False, f"an outflow is at most {MAX_PEOPLE:,} people a day"),
}
"""Bounds of a disruption's ``value`` by kind: (largest, whole number?, what the value is)."""


class Target(_Strict):
    """A published figure a run should reproduce (``[targets]``, used by ``airlift calibrate``):
    a metric's observed ``value`` with its standard deviation ``sd``, or a range ``low``-``high``."""

    value: float | None = None
    """Observed value (with ``sd``)."""
    sd: Annotated[float, Field(gt=0)] | None = None
    """Standard deviation of the observation: the figure's own uncertainty and the model's structural error."""
    low: float | None = None
    """Lower end of a range (with ``high``), read as a uniform observation error."""
    high: float | None = None
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


class PublishedCumulative(_Strict):
    """A published count of the people evacuated from the start until a date (drawn on the
    cumulative plot beside the model's curve)."""

    at: TimeSpec
    """When the count stood at that figure (datetime or days after start)."""
    evacuated: NonNegative
    """People evacuated from the start until then, as published."""
    source: str = ""
    """Who published it, and when."""


# -- declared uncertainty (the [uncertain] table) ---------------------------------------------


class Uncertain(_Strict):
    """The plausible range of one unpublished parameter, keyed by its dotted name in ``[uncertain]``.

    The key's own value stays the scenario's best guess; the range is what sensitivity analysis and
    calibration explore. A key holding an integer is sampled as integers (as is a whole-number key
    whose ``low`` and ``high`` are both written as integers, e.g. a ``count_schedule`` step).
    """

    low: StrictInt | StrictFloat
    """Lowest plausible value (must be valid for the key)."""
    high: StrictInt | StrictFloat
    """Highest plausible value (must be valid for the key), above ``low``."""
    distribution: Literal["uniform", "loguniform", "triangular"] = "uniform"
    """``uniform``, ``loguniform`` (needs ``low > 0``) or ``triangular`` (peaks at ``mode``)."""
    mode: StrictInt | StrictFloat | None = None
    """Most likely value, for ``triangular`` only (between ``low`` and ``high``)."""
    note: str = ""
    """Why this range: the source or the reasoning."""

    @model_validator(mode="after")
    def _range(self) -> Uncertain:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("low and high must be finite numbers")
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.distribution == "loguniform" and self.low <= 0:
            raise ValueError("a loguniform range needs low > 0")
        if self.distribution == "triangular":
            if self.mode is None or not self.low <= self.mode <= self.high:
                raise ValueError("a triangular range needs a mode between low and high")
        elif self.mode is not None:
            raise ValueError("mode is only for the triangular distribution")
        return self


_ABSENT = object()


def _lookup(raw: Any, key: str) -> Any:
    """The value at a dotted key of a raw scenario mapping, or ``_ABSENT``."""
    node = raw
    for part in key.split("."):
        if isinstance(node, list | tuple) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return _ABSENT
    return node


def value_at(scenario: Scenario, key: str) -> Any:
    """The value of a dotted key in ``scenario`` (list elements by index, e.g. ``disruptions.0.end``).

    Raises :class:`KeyError` naming the key if the scenario has no such key.
    """
    value = _lookup(scenario.model_dump(mode="python", by_alias=True), key)
    if value is _ABSENT:
        raise KeyError(key)
    return value


def uncertain_is_integer(scenario: Scenario, key: str) -> bool:
    """Whether an ``[uncertain]`` key is sampled as integers (see :class:`Uncertain`)."""
    u = scenario.uncertain[key]
    current = _lookup(scenario.model_dump(mode="python", by_alias=True), key)
    if isinstance(current, bool):
        return False
    if isinstance(current, int):
        return True
    return isinstance(current, float) and current.is_integer() and isinstance(u.low, int) and isinstance(u.high, int)


def _check_uncertain(scenario: Scenario, source: str) -> None:
    """Every ``[uncertain]`` key must be a real key whose ``low`` and ``high`` both make a valid
    scenario, resolved exactly as ``--set`` overrides are. Both ends are tried all at once (cheap);
    only if that fails is each key tried alone, to name the culprit."""
    if not scenario.uncertain:
        return
    raw = scenario.model_dump(mode="python", by_alias=True, exclude={"uncertain"})
    problems: list[tuple[str, str]] = []
    for key in scenario.uncertain:
        current = _lookup(raw, key)
        if current is _ABSENT:
            try:  # the override machinery names what is unknown and lists the known names
                apply_overrides(copy.deepcopy(raw), {key: scenario.uncertain[key].low}, source, Scenario)
            except ScenarioError as e:
                problems += [(f'uncertain."{key}"', m) for _, m in e.problems]
            else:
                problems.append((f'uncertain."{key}"', "unknown key: not a key of this scenario (see `airlift keys`)"))
        elif isinstance(current, bool | str | list | tuple | dict):
            problems.append((f'uncertain."{key}"', "not a number-valued scenario key"))
    if problems:
        raise ScenarioError(source, problems)

    def probe(values: Mapping[str, Any]) -> list[tuple[str, str]]:
        trial = copy.deepcopy(raw)
        try:
            apply_overrides(trial, values, source, Scenario)
            validate(trial, source)
        except ScenarioError as e:
            return e.problems
        return []

    for end in ("low", "high"):
        values = {k: getattr(u, end) for k, u in scenario.uncertain.items()}
        together = probe(values)
        if not together:
            continue
        alone = []
        for key, value in values.items():
            alone += [
                (f'uncertain."{key}".{end}', f"not valid for the key: {f + ': ' if f and f != key else ''}{m}")
                for f, m in probe({key: value})
            ]
        if not alone:
            alone = [
                (
                    f"uncertain.*.{end}",
                    "each end is valid alone, but together they are not: " + "; ".join(f"{f}: {m}" for f, m in together),
                )
            ]
        problems += alone
    if problems:
        raise ScenarioError(source, problems)


class Scenario(_Strict):
    """A complete airlift scenario. Build one with :func:`load_scenario`."""

    name: str = "scenario"
    """Scenario name (used for the default output folder)."""
    description: str = ""
    """Free text."""
    start: datetime
    """Start of the simulation, an ISO datetime with UTC offset; all local times use this offset."""
    security: Security
    """The security window."""
    retrograde: Retrograde = Retrograde()
    """Withdrawal of the security force."""
    airfield: Airfield
    """Holding area and boarding."""
    runway: Runway = Runway()
    """The runway."""
    ramp: Ramp
    """Parking."""
    departure: Departure = Departure()
    """The departure rule."""
    bases: Annotated[FrozenMap[Name, Base], Field(min_length=1)]
    """Staging bases by name."""
    fleets: Annotated[FrozenMap[Name, Fleet], Field(min_length=1)]
    """Fleets by name."""
    cohorts: Annotated[FrozenMap[Name, Cohort], Field(min_length=1)]
    """Evacuee cohorts by name."""
    gates: Annotated[FrozenMap[Name, Gate], Field(min_length=1)]
    """Perimeter gates by name."""
    disruptions: tuple[Disruption, ...] = ()
    """Dated events, a list of tables ``[[disruptions]]``."""
    reference: FrozenMap[str, Number] = FrozenDict()
    """Published figures to print beside the results (free names, numbers)."""
    targets: dict[str, Target] = Field(default_factory=dict)
    """Published figures to calibrate against, by metric name (see ``airlift calibrate``)."""
    reference_cumulative: list[PublishedCumulative] = Field(default_factory=list)
    """Published counts of people evacuated since the start, each ``{ at = time, evacuated = people,
    source = "..." }`` (``[[reference_cumulative]]``), drawn on the cumulative plot."""
    uncertain: dict[str, Uncertain] = Field(default_factory=dict)
    """Unpublished parameters with their plausible ranges, keyed by dotted name (see the README)."""

    # -- time helpers -------------------------------------------------------------------
    def hours(self, t: TimeSpec | str) -> float:
        """Hours after ``start`` of a time: a datetime, an ISO string, or days after the start."""
        if isinstance(t, str):
            t = datetime.fromisoformat(t)
        if isinstance(t, datetime):
            if t.tzinfo is None:
                t = t.replace(tzinfo=self.start.tzinfo)
            return (t - self.start).total_seconds() / 3600.0
        return float(t) * 24.0

    def at(self, hours: float) -> datetime:
        """The local datetime ``hours`` after ``start``."""
        return self.start + timedelta(hours=hours)

    @property
    def end_hours(self) -> float:
        return self.hours(self.security.end)

    @property
    def operators(self) -> list[str]:
        return sorted({f.operator for f in self.fleets.values()})

    def with_overrides(
        self, overrides: Mapping[str, Any], source: str = "overrides", *, check_uncertain: bool = True
    ) -> Scenario:
        """A validated copy with dotted overrides applied (``{"gates.abbey.lanes": 6}``).

        ``check_uncertain=False`` skips re-checking the ``[uncertain]`` table's ranges (two more
        validations): for a sweep's tasks, whose points were all checked before any ran; the
        table plays no part in a run."""
        raw = thaw(self.model_dump(mode="python", by_alias=True))
        apply_overrides(raw, overrides, source, type(self))
        return validate(raw, source, check_uncertain=check_uncertain)

    # -- cross references -----------------------------------------------------------------
    @model_validator(mode="after")
    def _cross_check(self) -> Scenario:
        problems: list[str] = []
        if self.start.tzinfo is None:
            problems.append("start: needs a UTC offset, e.g. 2021-08-14T00:00:00+04:30")
            raise ValueError("; ".join(problems))
        end = self.end_hours
        if end <= 0:
            problems.append("security.end: must be after start")
        elif end > MAX_WINDOW_DAYS * 24:
            problems.append(f"security.end: the security window is at most {MAX_WINDOW_DAYS} days")
        operators = set(self.operators)
        for name, c in self.cohorts.items():
            for op in c.carriers:
                if op != "any" and op not in operators:
                    problems.append(
                        f"cohorts.{name}.carriers: unknown operator {op!r} (known: {known_names([*operators, 'any'])})"
                    )
            admitted = [g for g, gate in self.gates.items() if "any" in gate.admits or name in gate.admits]
            if c.people > 0 and not admitted:
                problems.append(f"cohorts.{name}: no gate admits this cohort")
        for name, g in self.gates.items():
            for co in g.admits:
                if co != "any" and co not in self.cohorts:
                    problems.append(f"gates.{name}.admits: unknown cohort {co!r} (known: {known_names([*self.cohorts, 'any'])})")
            for i, sv in enumerate(g.lane_schedule):
                if sv.value != int(sv.value) or sv.value > MAX_LANES:
                    problems.append(f"gates.{name}.lane_schedule.{i}.value: lanes are a whole number up to {MAX_LANES}")
            for i, w in enumerate(g.closed):
                if w.end is not None and self.hours(w.end) < self.hours(w.start):
                    problems.append(f"gates.{name}.closed.{i}.end: before its start")
        for name, f in self.fleets.items():
            for b in f.bases:
                if b not in self.bases:
                    problems.append(f"fleets.{name}.bases: unknown base {b!r} (known: {known_names(self.bases)})")
            for i, sv in enumerate(f.count_schedule):
                if sv.value != int(sv.value) or sv.value > MAX_AIRCRAFT:
                    problems.append(f"fleets.{name}.count_schedule.{i}.value: aircraft are a whole number up to {MAX_AIRCRAFT}")
            most = max([f.count, *(sv.value for sv in f.count_schedule)])
            if f.size_class not in self.ramp.spots:
                problems.append(
                    f"fleets.{name}.size_class: no ramp.spots entry for {f.size_class!r} (known: {known_names(self.ramp.spots)})"
                )
            elif most > 0 and self.ramp.spots[f.size_class] == 0:
                problems.append(f"ramp.spots.{f.size_class}: fleet {name} needs at least one spot (count or count_schedule > 0)")
            if f.available_from is not None and f.available_until is not None:
                if self.hours(f.available_until) < self.hours(f.available_from):
                    problems.append(f"fleets.{name}.available_until: before available_from")
        for op in self.retrograde.carriers:
            if op not in operators:
                problems.append(f"retrograde.carriers: unknown operator {op!r} (known: {known_names(operators)})")
        r = self.retrograde
        if r.troops > 0 and ((r.start is None) == (r.hours_before_end is None) or not r.carriers):
            problems.append("retrograde: troops need one of start or hours_before_end, and at least one carrier")
        for i, d in enumerate(self.disruptions):
            where = f"disruptions.{i}"
            if d.end is not None and self.hours(d.end) < self.hours(d.start):
                problems.append(f"{where}.end: before its start")
            targets: dict[str, Iterable[str]] = {
                "gate_closure": [*self.gates, "*"],
                "lanes": list(self.gates),
                "runway_closure": ["runway", "*"],
                "arrival_factor": [*self.cohorts, "*"],
                "staging_capacity": list(self.bases),
                "staging_outflow": list(self.bases),
            }
            if d.target not in targets[d.kind]:
                valid = ", ".join(targets[d.kind])
                problems.append(f"{where}.target: {d.target!r} is not a valid target for {d.kind} (valid: {valid})")
            needs_value = d.kind in ("arrival_factor", "lanes", "staging_capacity", "staging_outflow")
            if needs_value and (d.value is None or d.value < 0 or not math.isfinite(d.value)):
                problems.append(f"{where}.value: {d.kind} needs a value >= 0")
            elif d.value is not None and d.kind in _VALUE_LIMITS:
                top, whole, what = _VALUE_LIMITS[d.kind]
                if d.value > top or (whole and d.value != int(d.value)):
                    problems.append(f"{where}.value: {what} ({d.kind})")
        if problems:
            raise ValueError("; ".join(problems))
        return self


# -- loading ----------------------------------------------------------------------------------


def read_toml(path: Path, what: str = "") -> dict[str, Any]:
    """A TOML file as a mapping, or a :class:`ScenarioError` naming the file (and ``what``
    pointed at it, e.g. ``extends``). A UTF-8 byte-order mark is accepted and dropped."""
    try:
        if path.is_dir():
            raise ScenarioError(str(path), [(what, "is a folder, not a TOML file")])
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(str(path), [(what, "file not found")]) from None
    except OSError as e:
        raise ScenarioError(str(path), [(what, f"cannot read: {e.strerror}")]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        msg = f"not UTF-8 text (byte 0x{data[e.start]:02x} on line {line}): save the file as UTF-8"
        raise ScenarioError(str(path), [(what, msg)]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(str(path), [(what, f"TOML syntax error: {e}")]) from None


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: tables merge key by key, anything else (values, lists) is replaced."""
    out = copy.deepcopy(base)
    for k, v in top.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _load_raw(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    path = path.resolve()
    if path in seen:
        raise ScenarioError(str(path), [("extends", "circular inheritance")])
    raw = read_toml(path)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ScenarioError(str(path), [("extends", "must be a file name")])
    parent_path = (path.parent / parent).resolve()
    if not parent_path.exists():
        raise ScenarioError(str(path), [("extends", f"base scenario {parent!r} not found")])
    if not parent_path.is_file():
        raise ScenarioError(str(path), [("extends", f"base scenario {parent!r} is not a file ({parent_path})")])
    return _merge(_load_raw(parent_path, (*seen, path)), raw)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = []
    for p in loc:
        if isinstance(p, str) and (p.startswith("function-") or p in ("datetime", "float", "int")):
            continue  # union branch tags added by pydantic
        if isinstance(p, str) and p.startswith("tagged-union"):
            continue
        parts.append(f'"{p}"' if isinstance(p, str) and "." in p else str(p))  # a dotted key of [uncertain]
    return ".".join(parts)


def validate(raw: Mapping[str, Any], source: str, *, check_uncertain: bool = True) -> Scenario:
    """Validate a raw mapping into a :class:`Scenario`, or raise :class:`ScenarioError`."""
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as e:
        problems: list[tuple[str, str]] = []
        seen: set[tuple[str, str]] = set()
        errors = e.errors(include_url=False)
        fields = [_field_name(tuple(err["loc"])) for err in errors]
        for err, field in zip(errors, fields):
            if err["type"] == "too_short" and any(f.startswith(field + ".") for f in fields):
                continue  # a list that lost a bad element: the element's own error says it
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling; unknown keys are errors)"
            elif err["type"] == "missing":
                msg = "missing (required)"
            elif msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
                # cross-reference problems name their own fields
                for part in msg.split("; "):
                    f, _, m = part.partition(": ")
                    key = (f, m) if m else (field, part)
                    if key not in seen:
                        seen.add(key)
                        problems.append(key)
                continue
            if "input" in err and err["type"] not in ("missing",) and not isinstance(err["input"], dict | list):
                got = repr(err["input"])
                msg = f"{msg} (got {got if len(got) <= 40 else got[:30] + '...' + f' ({len(got)} characters)'})"
            if (field, msg) not in seen:
                seen.add((field, msg))
                problems.append((field, msg))
        raise ScenarioError(source, _merge_time_errors(problems)) from None
    if check_uncertain:
        _check_uncertain(scenario, source)
    return scenario


def _merge_time_errors(problems: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A bad time fails both branches of ``datetime | number``: say it once, plainly. A number
    that is out of range or not finite fails only as a number: say that."""
    out: list[tuple[str, str]] = []
    for field, msg in problems:
        both = [m for f, m in problems if f == field]
        as_datetime = [m for m in both if "valid datetime" in m or "expected a datetime" in m]
        if not as_datetime or len(as_datetime) == len(both):
            out.append((field, msg))
            continue
        if any("valid number" in m for m in both):
            got = msg[msg.rfind(" (got ") :] if " (got " in msg else ""
            merged = (field, f"expected an ISO datetime or a number of days after start{got}")
        elif msg in as_datetime:
            continue
        else:
            merged = (field, msg)
        if merged not in out:
            out.append(merged)
    return out


def scenarios_dir() -> Path:
    """The folder of bundled scenarios: inside an installed wheel, else the repository's."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "scenarios"
    return packaged if packaged.is_dir() else package.parent / "scenarios"


def resolve_path(path: str | Path | None) -> Path:
    """A scenario path; ``None`` is the bundled reference scenario."""
    if path is None:
        return scenarios_dir() / DEFAULT_SCENARIO
    p = Path(path)
    if not p.exists() and not p.is_absolute() and (scenarios_dir() / p).exists():
        return scenarios_dir() / p
    return p


def load_scenario(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load, merge (``extends``), override and validate a scenario file.

    ``path=None`` loads the Kabul 2021 reference scenario. Raises :class:`ScenarioError` with
    a message naming the file and the dotted field for any problem.
    """
    p = resolve_path(path)
    scenario = validate(_load_raw(p), str(p))
    if overrides:
        # resolved against the complete scenario, so keys with defaults exist even if the file omits them
        source = f"{p} (with {', '.join(f'{k}={v!r}' for k, v in overrides.items())})"
        scenario = scenario.with_overrides(overrides, source)
    return scenario


def slug(name: str) -> str:
    """A safe folder name from a scenario name: letters, digits, ``-``, ``_`` and ``.`` only,
    never ``.`` or ``..`` (so a default output folder stays inside ``out/``)."""
    out = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name).strip("._") or "scenario"
    return out[:100]
