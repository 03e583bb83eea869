"""A complete airlift scenario: the one model that holds every part, its time arithmetic, and its
validation (the parts' own checks, the checks across them, and the ``[uncertain]`` ranges tried
against the keys they name).

A :class:`Scenario` is a complete, validated, immutable description of one airlift. Loading it
(:mod:`sim.description.loading`) imports no SimPy and runs nothing; :mod:`sim.model` builds the
simulation from it. Every parameter has one dotted name (``gates.abbey.lanes``) used alike in TOML
files, ``--set`` overrides (:mod:`sim.description.overrides`), sweep columns and result files.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import Field, ValidationError, model_validator

from sim.description.airport import Airfield, Departure, Gate, Ramp, Retrograde, Runway, Security, Withdrawals
from sim.description.bounds import MAX_BOARDING_STEPS
from sim.description.checks import cross_reference_problems
from sim.description.disruptions import Disruption
from sim.description.errors import FieldProblems, ScenarioError
from sim.description.evacuees import Cohort
from sim.description.fleets import Base, BoardingStep, Fleet
from sim.description.overrides import ABSENT, apply_overrides, raw_value, thaw
from sim.description.ranges import Uncertain
from sim.description.targets import PublishedCumulative, Target
from sim.description.times import StartTime, TimeSpec
from sim.description.validation import problems_of
from sim.description.values import FrozenDict, FrozenMap, Name, Number, StrictModel

__all__ = ["Scenario", "validate"]


class Scenario(StrictModel):
    """A complete airlift scenario. Build one with :func:`load_scenario`."""

    name: str = "scenario"
    """Scenario name (used for the default output folder)."""
    description: str = ""
    """Free text."""
    start: StartTime
    """Start of the simulation, an ISO datetime with UTC offset; all local times use this offset."""
    security: Security
    """The security window."""
    retrograde: Withdrawals = Retrograde()
    """Withdrawal of the security force: one table ``[retrograde]``, or a list of tables ``[[retrograde]]``, one per
    withdrawal (each with its own troops, start and carriers; keys ``retrograde.<i>.troops`` and so on)."""
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
    boarding: FrozenMap[Name, Annotated[tuple[BoardingStep, ...], Field(min_length=1, max_length=MAX_BOARDING_STEPS)]] = (
        FrozenDict()
    )
    """Who boards an operator's aircraft, in what order, over time: by operator, a list of steps
    ``{ from = time, cohorts = [...] }`` in time order; from each step on that operator boards only
    the cohorts listed, first listed first. Operators not named, and any operator before its first
    step, board by the cohorts' ``carriers`` and ``priority`` (see docs/model.md)."""
    gates: Annotated[FrozenMap[Name, Gate], Field(min_length=1)]
    """Perimeter gates by name."""
    disruptions: tuple[Disruption, ...] = ()
    """Dated events, a list of tables ``[[disruptions]]``."""
    reference: FrozenMap[str, Number] = FrozenDict()
    """Published figures to print beside the results (free names, numbers)."""
    targets: dict[str, Target] = Field(default_factory=dict)
    """Published figures to calibrate against, by metric name, or by a label of your choice for a dated figure
    (with ``series`` and ``at``, or ``from`` and ``to``; see docs/calibration.md and ``airlift calibrate``)."""
    reference_cumulative: list[PublishedCumulative] = Field(default_factory=list)
    """Published counts of people evacuated since the start, each ``{ at = time, evacuated = people,
    source = "..." }`` (``[[reference_cumulative]]``), drawn on the cumulative plot."""
    uncertain: dict[str, Uncertain] = Field(default_factory=dict)
    """Unpublished parameters with their plausible ranges, keyed by dotted name (see docs/scenario-reference.md)."""

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
    def secured_from_hours(self) -> float:
        """Hours after ``start`` from which the airport is secured (``security.start``; 0 when absent or earlier)."""
        return max(0.0, self.hours(self.security.start)) if self.security.start is not None else 0.0

    @property
    def withdrawals(self) -> tuple[Retrograde, ...]:
        """Every withdrawal of the security force, in the order written (one for a single ``[retrograde]``)."""
        return self.retrograde if isinstance(self.retrograde, tuple) else (self.retrograde,)

    @property
    def withdrawal_names(self) -> list[str]:
        """The name of each withdrawal of a list (its ``name``, else its index), as its metrics use it;
        none for a single ``[retrograde]`` table."""
        if not isinstance(self.retrograde, tuple):
            return []
        return [w.name if w.name is not None else str(i) for i, w in enumerate(self.retrograde)]

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

    @model_validator(mode="after")
    def _cross_check(self) -> Scenario:
        problems = cross_reference_problems(self)
        if problems:
            raise FieldProblems(problems)
        return self


def validate(raw: Mapping[str, Any], source: str, *, check_uncertain: bool = True) -> Scenario:
    """Validate a raw mapping into a :class:`Scenario`, or raise :class:`ScenarioError` naming
    ``source`` and every field at fault."""
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as e:
        raise ScenarioError(source, problems_of(e)) from None
    if check_uncertain:
        _check_uncertain(scenario, source)
    return scenario


def _check_uncertain(scenario: Scenario, source: str) -> None:
    """Every ``[uncertain]`` key must be a real key whose ``low`` and ``high`` both make a valid
    scenario, resolved exactly as ``--set`` overrides are. Both ends are tried all at once (cheap);
    only if that fails is each key tried alone, to name the culprit."""
    if not scenario.uncertain:
        return
    raw = scenario.model_dump(mode="python", by_alias=True, exclude={"uncertain"})
    problems = _unknown_uncertain_keys(scenario, raw, source)
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
        alone = [
            (f'uncertain."{key}".{end}', f"not valid for the key: {f + ': ' if f and f != key else ''}{m}")
            for key, value in values.items()
            for f, m in probe({key: value})
        ]
        if not alone:
            joined = "; ".join(f"{f}: {m}" for f, m in together)
            alone = [(f"uncertain.*.{end}", f"each end is valid alone, but together they are not: {joined}")]
        problems += alone
    if problems:
        raise ScenarioError(source, problems)


def _unknown_uncertain_keys(scenario: Scenario, raw: dict[str, Any], source: str) -> list[tuple[str, str]]:
    """``[uncertain]`` keys that name no number of the scenario."""
    problems: list[tuple[str, str]] = []
    for key in scenario.uncertain:
        current = raw_value(raw, key)
        if current is ABSENT:
            try:  # the override machinery names what is unknown and lists the known names
                apply_overrides(copy.deepcopy(raw), {key: scenario.uncertain[key].low}, source, Scenario)
            except ScenarioError as e:
                problems += [(f'uncertain."{key}"', m) for _, m in e.problems]
            else:
                problems.append((f'uncertain."{key}"', "unknown key: not a key of this scenario (see `airlift keys`)"))
        elif isinstance(current, bool | str | list | tuple | dict):
            problems.append((f'uncertain."{key}"', "not a number-valued scenario key"))
    return problems
