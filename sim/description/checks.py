"""The checks across a scenario's parts: every name one part gives another exists (operators,
cohorts, bases, size classes, disruption targets), periods end after they start, and every time
lies within reach of ``start``. Each finding is a ``(dotted field, message)`` pair."""

from __future__ import annotations

import functools
import typing
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel

from sim.description.airport import Gate, Ramp, Retrograde, Security
from sim.description.bounds import MAX_AIRCRAFT, MAX_DAYS, MAX_LANES, MAX_WINDOW_DAYS
from sim.description.disruptions import Disruption, TargetTable
from sim.description.errors import known_names
from sim.description.evacuees import Cohort
from sim.description.fleets import Base, BoardingStep, Fleet
from sim.description.targets import PublishedCumulative, Target, target_problems
from sim.description.times import TimeSpec

__all__ = ["Described", "cross_reference_problems"]

Problem = tuple[str, str]


class Described(Protocol):
    """What the checks read of a scenario (a :class:`~sim.description.scenario.Scenario` is one)."""

    @property
    def start(self) -> datetime: ...
    @property
    def security(self) -> Security: ...
    @property
    def retrograde(self) -> Retrograde | tuple[Retrograde, ...]: ...
    @property
    def withdrawals(self) -> tuple[Retrograde, ...]: ...
    @property
    def withdrawal_names(self) -> list[str]: ...
    @property
    def ramp(self) -> Ramp: ...
    @property
    def bases(self) -> Mapping[str, Base]: ...
    @property
    def fleets(self) -> Mapping[str, Fleet]: ...
    @property
    def cohorts(self) -> Mapping[str, Cohort]: ...
    @property
    def boarding(self) -> Mapping[str, tuple[BoardingStep, ...]]: ...
    @property
    def gates(self) -> Mapping[str, Gate]: ...
    @property
    def disruptions(self) -> tuple[Disruption, ...]: ...
    @property
    def end_hours(self) -> float: ...
    @property
    def operators(self) -> list[str]: ...
    @property
    def targets(self) -> Mapping[str, Target]: ...
    @property
    def reference_cumulative(self) -> Sequence[PublishedCumulative]: ...
    def hours(self, t: TimeSpec | str) -> float: ...


def cross_reference_problems(s: Described) -> list[Problem]:
    """Every problem across the parts of ``s``, in the order of the schema."""
    return [
        *_window_problems(s),
        *_cohort_problems(s),
        *_boarding_problems(s),
        *_gate_problems(s),
        *_fleet_problems(s),
        *_retrograde_problems(s),
        *_disruption_problems(s),
        *_time_range_problems(s),
        *(p for name, t in s.targets.items() for p in target_problems(name, t, s.operators, s.hours, None)),
        *_published_problems(s),
    ]


def _published_problems(s: Described) -> Iterator[Problem]:
    """A dated published count names an operator of the fleets, if any."""
    for i, p in enumerate(s.reference_cumulative):
        if p.operator is not None and p.operator not in s.operators:
            yield f"reference_cumulative.{i}.operator", f"unknown operator {p.operator!r} (known: {known_names(s.operators)})"


def _window_problems(s: Described) -> Iterator[Problem]:
    end = s.end_hours
    if end <= 0:
        yield "security.end", "must be after start"
    elif end > MAX_WINDOW_DAYS * 24:
        yield "security.end", f"the security window is at most {MAX_WINDOW_DAYS} days"
    if s.security.start is not None:
        yield from _window_start_problems(s.security, s.hours(s.security.start), end)


def _window_start_problems(security: Security, start: float, end: float) -> Iterator[Problem]:
    """A security start before the end, leaving time for every lead time before the end after it."""
    if start >= end:
        yield "security.start", "must be before security.end"
        return
    leads = (
        ("gate_close_lead_hours", "the gates close, so no one could enter"),
        ("last_landing_lead_hours", "the last landing, so no aircraft could land"),
        ("last_takeoff_lead_hours", "the last take-off, so no aircraft could leave"),
    )
    for key, what in leads:
        lead = getattr(security, key)
        if end - lead <= start:
            yield f"security.{key}", f"{lead:g} h before security.end is at or before security.start: {what}"


def _cohort_problems(s: Described) -> Iterator[Problem]:
    operators = set(s.operators)
    for name, c in s.cohorts.items():
        for op in c.carriers:
            if op != "any" and op not in operators:
                yield f"cohorts.{name}.carriers", f"unknown operator {op!r} (known: {known_names([*operators, 'any'])})"
        admitted = [g for g, gate in s.gates.items() if "any" in gate.admits or name in gate.admits]
        if c.people > 0 and not admitted:
            yield f"cohorts.{name}", "no gate admits this cohort"


def _boarding_problems(s: Described) -> Iterator[Problem]:
    """Each operator's boarding steps name a known operator and known cohorts, in increasing time."""
    operators = set(s.operators)
    for op, steps in s.boarding.items():
        if op not in operators:
            yield f"boarding.{op}", f"unknown operator {op!r} (known: {known_names(operators)})"
        for i, step in enumerate(steps):
            for co in step.cohorts:
                if co not in s.cohorts:
                    yield f"boarding.{op}.{i}.cohorts", f"unknown cohort {co!r} (known: {known_names(s.cohorts)})"
            if i and not s.hours(step.from_) > s.hours(steps[i - 1].from_):
                yield f"boarding.{op}.{i}.from", "not after the step before it (steps are in increasing time)"


def _gate_problems(s: Described) -> Iterator[Problem]:
    for name, g in s.gates.items():
        for co in g.admits:
            if co != "any" and co not in s.cohorts:
                yield f"gates.{name}.admits", f"unknown cohort {co!r} (known: {known_names([*s.cohorts, 'any'])})"
        for i, sv in enumerate(g.lane_schedule):
            if sv.value != int(sv.value) or sv.value > MAX_LANES:
                yield f"gates.{name}.lane_schedule.{i}.value", f"lanes are a whole number up to {MAX_LANES}"
        for i, w in enumerate(g.closed):
            if w.end is not None and s.hours(w.end) < s.hours(w.start):
                yield f"gates.{name}.closed.{i}.end", "before its start"


def _fleet_problems(s: Described) -> Iterator[Problem]:
    for name, f in s.fleets.items():
        for b in f.bases:
            if b not in s.bases:
                yield f"fleets.{name}.bases", f"unknown base {b!r} (known: {known_names(s.bases)})"
        for i, sv in enumerate(f.count_schedule):
            if sv.value != int(sv.value) or sv.value > MAX_AIRCRAFT:
                yield f"fleets.{name}.count_schedule.{i}.value", f"aircraft are a whole number up to {MAX_AIRCRAFT}"
        most = max([f.count, *(sv.value for sv in f.count_schedule)])
        if f.size_class not in s.ramp.spots:
            known = known_names(s.ramp.spots)
            yield f"fleets.{name}.size_class", f"no ramp.spots entry for {f.size_class!r} (known: {known})"
        elif most > 0 and s.ramp.spots[f.size_class] == 0:
            yield f"ramp.spots.{f.size_class}", f"fleet {name} needs at least one spot (count or count_schedule > 0)"
        if f.available_from is not None and f.available_until is not None:
            if s.hours(f.available_until) < s.hours(f.available_from):
                yield f"fleets.{name}.available_until", "before available_from"
        yield from _timetable_problems(s, name, f)


def _timetable_problems(s: Described, name: str, f: Fleet) -> Iterator[Problem]:
    """A timetable's slots are in increasing time, and the departure keys it overrules are not set for the fleet."""
    slots = [s.hours(t) for t in f.timetable]
    for i in range(1, len(slots)):
        if not slots[i] > slots[i - 1]:
            yield f"fleets.{name}.timetable.{i}", "not after the slot before it (slots are in increasing time)"
            break
    if slots:
        for key in ("min_load_fraction", "wait_for_base_room"):
            if getattr(f.departure, key) is not None:
                yield f"fleets.{name}.departure.{key}", "plays no part for a fleet with a timetable (it leaves at its slots)"


def _retrograde_problems(s: Described) -> Iterator[Problem]:
    """Each withdrawal's carriers are operators, its troops have a start and a carrier; the names of
    a list of withdrawals differ."""
    operators = set(s.operators)
    many = isinstance(s.retrograde, tuple)
    for i, r in enumerate(s.withdrawals):
        where = f"retrograde.{i}" if many else "retrograde"
        for op in r.carriers:
            if op not in operators:
                yield f"{where}.carriers", f"unknown operator {op!r} (known: {known_names(operators)})"
        if r.troops > 0 and ((r.start is None) == (r.hours_before_end is None) or not r.carriers):
            yield where, "troops need one of start or hours_before_end, and at least one carrier"
    names = s.withdrawal_names
    for i, name in enumerate(names):
        if name in names[:i]:
            yield f"retrograde.{i}.name", f"{name!r} names an earlier withdrawal too (an unnamed one is named by its index)"


def _target_names(s: Described, table: TargetTable) -> list[str]:
    """The names a disruption's target may take from ``table``."""
    if table in ("runway", "holding"):
        return [table]
    return list({"gates": s.gates, "cohorts": s.cohorts, "bases": s.bases, "fleets": s.fleets, "spots": s.ramp.spots}[table])


def _disruption_problems(s: Described) -> Iterator[Problem]:
    first_with: dict[str, int] = {}
    for i, d in enumerate(s.disruptions):
        if d.name is not None and first_with.setdefault(d.name, i) != i:
            yield f"disruptions.{i}.name", f"{d.name!r} is the name of disruption {first_with[d.name]} too: names must be unique"
        if d.end is not None and s.hours(d.end) < s.hours(d.start):
            yield f"disruptions.{i}.end", "before its start"
        valid = _target_names(s, d.target_table()) + (["*"] if d.every_target else [])
        if d.target not in valid:
            yield f"disruptions.{i}.target", f"{d.target!r} is not a valid target for {d.kind} (valid: {', '.join(valid)})"


def _holds_times(ann: Any) -> bool:
    """Whether a value of this type may hold a datetime (itself, or anywhere inside)."""
    if ann is datetime:
        return True
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return bool(_time_fields(ann))
    return any(_holds_times(a) for a in typing.get_args(ann))


@functools.cache
def _time_fields(model: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    """The fields of ``model`` that may hold datetimes, as ``(attribute, name in TOML)``."""
    return tuple((name, f.alias or name) for name, f in model.model_fields.items() if _holds_times(f.annotation))


def _datetimes(node: object, path: str) -> Iterator[tuple[str, datetime]]:
    """Every datetime below ``node``, by its dotted name (descending only where the schema has times)."""
    if isinstance(node, datetime):
        yield path, node
    elif isinstance(node, BaseModel):
        for attribute, name in _time_fields(type(node)):
            yield from _datetimes(getattr(node, attribute), f"{path}.{name}")
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _datetimes(value, f"{path}.{key}")
    elif isinstance(node, tuple | list):
        for i, value in enumerate(node):
            yield from _datetimes(value, f"{path}.{i}")


def _time_range_problems(s: Described) -> Iterator[Problem]:
    """A datetime, like a number of days, lies within ``MAX_DAYS`` of start."""
    if not isinstance(s, BaseModel):
        return
    for attribute, name in _time_fields(type(s)):
        if attribute != "start":
            for path, t in _datetimes(getattr(s, attribute), name):
                if abs(s.hours(t)) > MAX_DAYS * 24:
                    yield path, f"more than {MAX_DAYS:,} days from start"
