"""Scenario description: schema, TOML loading, ``extends`` inheritance, dotted overrides, errors.

A :class:`Scenario` is a complete, validated, immutable description of one airlift. Loading it
imports no SimPy and runs nothing; :mod:`sim.model` builds the simulation from it. Every
parameter has one dotted name (``gates.abbey.lanes``) used alike in TOML files, ``--set``
overrides, sweep columns and result files.

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
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "parse_override",
    "apply_overrides",
    "DEFAULT_SCENARIO",
]

DEFAULT_SCENARIO = "kabul_2021.toml"

TimeSpec = datetime | float
"""A point in time: an ISO datetime, or days after the scenario start."""

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Name = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")]


class ScenarioError(Exception):
    """Bad scenario input. ``str(error)`` is a complete message naming the file and field."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        lines = [f"{source}: {field}: {msg}" if field else f"{source}: {msg}" for field, msg in problems]
        super().__init__("\n".join(lines))


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
    gate_close_lead_hours: NonNegative = 12.0
    """Gates stop admitting (screening no new group) this long before the end."""
    last_landing_lead_hours: NonNegative = 4.0
    """No aircraft may land later than this before the end."""
    last_takeoff_lead_hours: NonNegative = 0.5
    """Every aircraft must have taken off this long before the end (a margin for the runway queue)."""


class Retrograde(_Strict):
    """The security force itself, flown out in the final hours ahead of evacuees."""

    troops: Annotated[int, Field(ge=0)] = 0
    """Troops to fly out; they board ahead of every evacuee and need no staging room."""
    start: TimeSpec | None = None
    """When troops start to leave (or give ``hours_before_end``)."""
    hours_before_end: NonNegative | None = None
    """Troops start to leave this long before the security end, wherever the end is moved."""
    carriers: list[Name] = Field(default_factory=list)
    """Operators whose aircraft carry troops."""


class Airfield(_Strict):
    """The holding area inside the perimeter, and how passengers are brought to aircraft."""

    holding_capacity_people: Annotated[int, Field(ge=1)]
    """People the holding area inside the perimeter can take (including people in screening lanes)."""
    chalk_interval_min: Positive = 15.0
    """An aircraft still short of its departure load takes another chalk from holding this often."""
    surge_when_holding_over: Fraction = 0.5
    """Aircraft board up to their surge seats while holding is fuller than this fraction."""


class Runway(_Strict):
    """One runway: every landing and take-off occupies it for a separation time."""

    separation_day_min: Positive = 4.0
    """Minutes one movement (landing or take-off) occupies the runway by day."""
    separation_night_min: Positive = 6.0
    """Minutes one movement occupies the runway by night."""
    night_start_hour: Annotated[float, Field(ge=0, lt=24)] = 19.0
    """Local hour when night separation starts."""
    night_end_hour: Annotated[float, Field(ge=0, lt=24)] = 5.0
    """Local hour when night separation ends."""


class Ramp(_Strict):
    """Parking spots by size class; an aircraft holds its spot from clearance to take-off."""

    spots: dict[Name, Annotated[int, Field(ge=0)]]
    """Parking spots by size class, e.g. ``heavy = 14``; each fleet names its class."""


class Departure(_Strict):
    """When a loaded aircraft leaves: full enough, or on the ground long enough."""

    min_load_fraction: Fraction = 0.9
    """Leave as soon as the load reaches this fraction of the (normal) seats."""
    max_ground_hours: Positive = 3.0
    """Leave after this long on the ground with whatever load (unless waiting for base room)."""
    wait_for_base_room: bool = True
    """If the destination base has no room, wait on the ground (holding the spot) rather than leave empty."""


class StepValue(_Strict):
    """A value that holds from ``from_`` (a time) onwards."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, use_attribute_docstrings=True)
    from_: TimeSpec = Field(alias="from")
    """From when (datetime or days after start); written ``from`` in TOML."""
    value: NonNegative
    """The value from then on."""


class Base(_Strict):
    """A staging base: evacuees are flown there and flow onwards at a rate."""

    flight_hours: Positive
    """Flight time between the airport and this base, each way."""
    capacity_people: Annotated[int, Field(ge=0)]
    """Evacuees the base can hold."""
    outflow_per_day: NonNegative
    """Evacuees a day flown onward from the base (continuous drain)."""
    outflow_schedule: list[StepValue] = Field(default_factory=list)
    """Later outflow rates (people per day), each from a date."""
    opens: TimeSpec | None = None
    """Before this time the base takes no evacuees."""
    initial_people: Annotated[int, Field(ge=0)] = 0
    """Evacuees already at the base at the start."""


class Fleet(_Strict):
    """Aircraft of one type flown by one operator from a home staging base."""

    operator: Name
    """Nation or organisation flying the fleet; cohorts' ``carriers`` name operators."""
    aircraft_type: str
    """Aircraft type, for reports."""
    size_class: Name
    """Ramp size class (a key of ``ramp.spots``)."""
    count: Annotated[int, Field(ge=0)]
    """Aircraft in the fleet at the start of its availability."""
    count_schedule: list[StepValue] = Field(default_factory=list)
    """Later aircraft counts, each ``{ from = ..., value = aircraft }``: aircraft join when the count
    rises and leave service (after their sortie) when it falls."""
    bases: Annotated[list[Name], Field(min_length=1)]
    """Staging bases in order of preference (home first)."""
    seats: Annotated[int, Field(ge=1)]
    """Normal evacuee load."""
    surge_seats: Annotated[int, Field(ge=1)] | None = None
    """Surge load, used while the holding area is crowded (``airfield.surge_when_holding_over``); absent: no surge."""
    available_from: TimeSpec | None = None
    """First time the fleet can fly (datetime or days); absent: the start."""
    available_until: TimeSpec | None = None
    """Last landing at the airport (an ally ending its operation); absent: the security end."""
    stagger_hours: NonNegative = 0.0
    """Aircraft enter service this far apart (aircraft k at ``available_from + k * stagger_hours``),
    so crews do not all reach their duty limit together."""
    ground_fixed_min: NonNegative = 60.0
    """Minutes on the ground before boarding can start (taxi, unload, checks)."""
    boarding_min_per_person: NonNegative = 0.1
    """Boarding minutes per person."""
    turnaround_hours: NonNegative = 3.0
    """Hours at the staging base between sorties."""
    crew_duty_hours: Positive = 24.0
    """Crew duty limit: a sortie that would end beyond it waits for crew rest first."""
    crew_rest_hours: NonNegative = 12.0
    """Crew rest at the staging base when the duty limit is reached."""
    crews_per_aircraft: Annotated[int, Field(ge=1)] = 1
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
    mean: Annotated[float, Field(ge=1)] = 4.0
    """Mean family size, for ``poisson``."""
    max: Annotated[int, Field(ge=1)] = 15
    """Largest family, for ``poisson``."""
    sizes: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list)
    """Family sizes, for ``categorical``."""
    weights: list[NonNegative] = Field(default_factory=list)
    """Relative frequencies of ``sizes``."""

    @model_validator(mode="after")
    def _table(self) -> GroupSize:
        if self.distribution == "categorical":
            if not self.sizes or len(self.sizes) != len(self.weights) or sum(self.weights) <= 0:
                raise ValueError("categorical needs sizes and weights of the same length, weights not all 0")
        return self


class Arrival(_Strict):
    """When groups first try to reach the gates, and what stops them getting there."""

    profile: Annotated[list[tuple[TimeSpec, NonNegative]], Field(min_length=1)] = [(0.0, 1.0)]
    """Piecewise-constant relative intensity: ``[[from, weight], ...]``; the last holds until the end."""
    curfew_factor: Fraction = 1.0
    """Fraction of attempts made during curfew hours that get through to the gates."""
    curfew_start_hour: Annotated[float, Field(ge=0, lt=24)] = 21.0
    """Local hour the night curfew starts."""
    curfew_end_hour: Annotated[float, Field(ge=0, lt=24)] = 5.0
    """Local hour the night curfew ends."""
    curfew_until: TimeSpec | None = None
    """The curfew applies until then (datetime or days); absent: always."""
    until: TimeSpec | None = None
    """When the profile ends: people whose first attempt would fall later never try. Absent: the
    security end. Set it explicitly to keep arrivals fixed while sweeping ``security.end``."""


class Patience(_Strict):
    """How long a group waits in a gate crowd, and whether it tries again."""

    mean_hours: Positive = 12.0
    """Mean time (exponential) a family waits in a gate crowd before giving up."""
    retry_probability: Fraction = 0.5
    """Chance that a family that gave up (or was turned back on the way) tries again."""
    retry_after_hours: Positive = 12.0
    """Mean time (exponential) before it tries again."""


class Cohort(_Strict):
    """People with the same priority, eligibility and behaviour."""

    people: Annotated[int, Field(ge=0)]
    """People in the cohort (counted exactly; families are cut to fit)."""
    priority: Annotated[int, Field(ge=1)]
    """1 is served first at the gates and on board."""
    carriers: Annotated[list[Name], Field(min_length=1)] = ["any"]
    """Operators allowed to carry this cohort, or ``any``."""
    group_size: GroupSize = GroupSize()
    """Family size distribution."""
    arrival: Arrival = Arrival()
    """When families try to reach the gates."""
    patience: Patience = Patience()
    """How long families wait and whether they come back."""


class Gate(_Strict):
    """A perimeter entrance with screening lanes."""

    lanes: Annotated[int, Field(ge=0)]
    """Screening lanes at the start."""
    lane_schedule: list[StepValue] = Field(default_factory=list)
    """Later lane counts, each ``{ from = ..., value = lanes }``."""
    screening_base_min: NonNegative = 5.0
    """Mean screening minutes per family, fixed part."""
    screening_per_person_min: NonNegative = 2.0
    """Mean screening minutes added per person in the family."""
    screening_distribution: Literal["exponential", "fixed", "lognormal"] = "exponential"
    """``exponential``, ``fixed`` or ``lognormal`` (with ``screening_cv``) around that mean."""
    screening_cv: Positive = 0.5
    """Coefficient of variation, for the lognormal distribution."""
    admits: Annotated[list[Name], Field(min_length=1)] = ["any"]
    """Cohorts this gate admits, or ``any``."""
    weight: Positive = 1.0
    """Relative chance that an arriving group picks this gate (see the README)."""
    closed: list[Window] = Field(default_factory=list)
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
    value: float | None = None
    """Lanes, an arrival fraction (0-1), a capacity in people or an outflow in people a day."""
    description: str = ""
    """What happened, and the source."""


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
    bases: Annotated[dict[Name, Base], Field(min_length=1)]
    """Staging bases by name."""
    fleets: Annotated[dict[Name, Fleet], Field(min_length=1)]
    """Fleets by name."""
    cohorts: Annotated[dict[Name, Cohort], Field(min_length=1)]
    """Evacuee cohorts by name."""
    gates: Annotated[dict[Name, Gate], Field(min_length=1)]
    """Perimeter gates by name."""
    disruptions: list[Disruption] = Field(default_factory=list)
    """Dated events, a list of tables ``[[disruptions]]``."""
    reference: dict[str, float] = Field(default_factory=dict)
    """Published figures to print beside the results (free names, numbers)."""

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

    def with_overrides(self, overrides: Mapping[str, Any], source: str = "overrides") -> Scenario:
        """A validated copy with dotted overrides applied (``{"gates.abbey.lanes": 6}``)."""
        raw = self.model_dump(mode="python", by_alias=True)
        apply_overrides(raw, overrides, source)
        return validate(raw, source)

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
        operators = set(self.operators)
        for name, c in self.cohorts.items():
            for op in c.carriers:
                if op != "any" and op not in operators:
                    problems.append(f"cohorts.{name}.carriers: unknown operator {op!r} (known: {sorted(operators)})")
            admitted = [g for g, gate in self.gates.items() if "any" in gate.admits or name in gate.admits]
            if c.people > 0 and not admitted:
                problems.append(f"cohorts.{name}: no gate admits this cohort")
        for name, g in self.gates.items():
            for co in g.admits:
                if co != "any" and co not in self.cohorts:
                    problems.append(f"gates.{name}.admits: unknown cohort {co!r}")
            for i, w in enumerate(g.closed):
                if w.end is not None and self.hours(w.end) < self.hours(w.start):
                    problems.append(f"gates.{name}.closed.{i}.end: before its start")
        for name, f in self.fleets.items():
            for b in f.bases:
                if b not in self.bases:
                    problems.append(f"fleets.{name}.bases: unknown base {b!r} (known: {sorted(self.bases)})")
            if f.size_class not in self.ramp.spots:
                problems.append(f"fleets.{name}.size_class: no ramp.spots entry for {f.size_class!r}")
            elif f.count > 0 and self.ramp.spots[f.size_class] == 0:
                problems.append(f"ramp.spots.{f.size_class}: fleet {name} needs at least one spot")
            if f.available_from is not None and f.available_until is not None:
                if self.hours(f.available_until) < self.hours(f.available_from):
                    problems.append(f"fleets.{name}.available_until: before available_from")
        for op in self.retrograde.carriers:
            if op not in operators:
                problems.append(f"retrograde.carriers: unknown operator {op!r}")
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
                problems.append(f"{where}.target: {d.target!r} is not a valid target for {d.kind}")
            needs_value = d.kind in ("arrival_factor", "lanes", "staging_capacity", "staging_outflow")
            if needs_value and (d.value is None or d.value < 0 or not math.isfinite(d.value)):
                problems.append(f"{where}.value: {d.kind} needs a value >= 0")
            if d.kind == "arrival_factor" and d.value is not None and d.value > 1:
                problems.append(f"{where}.value: an arrival factor is a fraction between 0 and 1")
        if problems:
            raise ValueError("; ".join(problems))
        return self


# -- loading ----------------------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(str(path), [("", "file not found")]) from None
    except OSError as e:
        raise ScenarioError(str(path), [("", f"cannot read: {e.strerror}")]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(str(path), [("", f"TOML syntax error: {e}")]) from None


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
    raw = _read_toml(path)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ScenarioError(str(path), [("extends", "must be a file name")])
    parent_path = (path.parent / parent).resolve()
    if not parent_path.exists():
        raise ScenarioError(str(path), [("extends", f"base scenario {parent!r} not found")])
    return _merge(_load_raw(parent_path, (*seen, path)), raw)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = []
    for p in loc:
        if isinstance(p, str) and (p.startswith("function-") or p in ("datetime", "float", "int")):
            continue  # union branch tags added by pydantic
        if isinstance(p, str) and p.startswith("tagged-union"):
            continue
        parts.append(str(p))
    return ".".join(parts)


def validate(raw: Mapping[str, Any], source: str) -> Scenario:
    """Validate a raw mapping into a :class:`Scenario`, or raise :class:`ScenarioError`."""
    try:
        return Scenario.model_validate(raw)
    except ValidationError as e:
        problems: list[tuple[str, str]] = []
        seen: set[tuple[str, str]] = set()
        for err in e.errors(include_url=False):
            field = _field_name(tuple(err["loc"]))
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
                msg = f"{msg} (got {err['input']!r})"
            if (field, msg) not in seen:
                seen.add((field, msg))
                problems.append((field, msg))
        raise ScenarioError(source, _merge_time_errors(problems)) from None


def _merge_time_errors(problems: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A bad time fails both branches of ``datetime | float``: say it once, plainly."""
    out: list[tuple[str, str]] = []
    for field, msg in problems:
        both = [m for f, m in problems if f == field]
        if any("valid datetime" in m for m in both) and any("valid number" in m for m in both):
            got = msg[msg.rfind(" (got ") :] if " (got " in msg else ""
            merged = (field, f"expected an ISO datetime or a number of days after start{got}")
            if merged not in out:
                out.append(merged)
        else:
            out.append((field, msg))
    return out


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``key=value``; the value is read as a TOML value, else kept as a string."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError("--set", [(text, "expected KEY=VALUE, e.g. security.end=20")])
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    return key, parsed


def apply_overrides(raw: dict[str, Any], overrides: Mapping[str, Any], source: str = "--set") -> None:
    """Set dotted keys in a raw scenario mapping in place (``disruptions.2.end`` indexes lists)."""
    for key, value in overrides.items():
        parts = key.split(".")
        node: Any = raw
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ScenarioError(source, [(key, f"no list element {part!r}")])
                if last:
                    node[int(part)] = value
                else:
                    node = node[int(part)]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    if part not in node or node[part] is None:
                        node[part] = {}
                    node = node[part]
            else:
                raise ScenarioError(source, [(key, f"{'.'.join(parts[:i])} is a value, not a table")])


def scenarios_dir() -> Path:
    """The folder of bundled scenarios: inside an installed wheel, else the repository's."""
    packaged = Path(__file__).parent / "scenarios"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "scenarios"


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
    raw = _load_raw(p)
    source = str(p)
    if overrides:
        source = f"{p} (with {', '.join(f'{k}={v!r}' for k, v in overrides.items())})"
        apply_overrides(raw, overrides, source)
    return validate(raw, source)
