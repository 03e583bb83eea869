"""The security clock: the window's deadlines, and every dated change compiled into schedules.

This module turns the scenario's times, lead times and ``disruptions`` into plain numbers in
hours after the start (deadlines, closure intervals, step functions) that the actors read. It
owns no process: nothing here decides; it only says what holds when.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sim.description.airport import Retrograde
from sim.description.disruptions import (
    ArrivalFactor,
    Disruption,
    GateClosure,
    LaneChange,
    Relief,
    RunwayClosure,
    StagingCapacity,
    StagingOutflow,
)
from sim.description.scenario import Scenario
from sim.description.times import StepValue, Window

__all__ = ["SCHEDULE_BUILDERS", "Steps", "Timeline", "in_hours_window", "more_crews", "more_units", "relieved", "windowed"]

INF = math.inf
PER_HOUR = 1 / 24.0
"""A rate a day times this is the rate an hour."""


class Steps:
    """A piecewise-constant function of time: ``initial`` until the first change, and so on."""

    def __init__(self, initial: float, changes: list[tuple[float, float]] | None = None):
        changes = sorted(changes or [], key=lambda c: c[0])
        self.times = [t for t, _ in changes]
        self.values = [initial] + [v for _, v in changes]

    def __call__(self, t: float) -> float:
        return self.values[bisect.bisect_right(self.times, t)]

    def integral(self, a: float, b: float) -> float:
        """The integral of the function over ``[a, b]``."""
        if b <= a:
            return 0.0
        total, t = 0.0, a
        i = bisect.bisect_right(self.times, a)
        while t < b:
            nxt = self.times[i] if i < len(self.times) else INF
            seg_end = min(nxt, b)
            total += self.values[i] * (seg_end - t)
            t, i = seg_end, i + 1
        return total


def in_hours_window(hour_of_day: float, start: float, end: float) -> bool:
    """Whether a local hour of day lies in a daily window that may wrap midnight."""
    if start == end:
        return False
    if start < end:
        return start <= hour_of_day < end
    return hour_of_day >= start or hour_of_day < end


def _intervals(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Merge overlapping intervals, sorted."""
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def windowed(initial: float, schedule: list[tuple[float, float]], windows: list[tuple[float, float, float]]) -> Steps:
    """The value in force over time under a step schedule and overlapping disruption windows.

    The one composition rule for every windowed kind (lanes, staging capacity, staging
    outflow): at time ``t`` the disruption active at ``t`` (``start <= t < end``) that started
    latest is in force (on equal starts, the later one in the list); when none is active, the
    schedule is: its last step at or before ``t``, else ``initial``. A disruption that started
    before the scenario start is in force from the start.
    """
    sched = Steps(initial, schedule)
    times = sorted({t for t, _ in schedule} | {x for a, z, _ in windows for x in (a, z)})

    def at(t: float) -> float:
        best: tuple[float, int] | None = None
        value = sched(t)
        for k, (a, z, v) in enumerate(windows):
            if a <= t < z and (best is None or (a, k) >= best):
                best, value = (a, k), v
        return value

    return Steps(initial, [(t, at(t)) for t in times])


def more_units(base: float, fraction: float) -> float:
    """Whole units of a capacity ``base`` relieved by ``fraction``: times 1 + fraction, rounded up,
    at least one more where there is at least one."""
    if fraction <= 0 or base < 1:
        return base
    return float(max(math.ceil(base * (1 + fraction) - 1e-9), base + 1))


def more_crews(base: float, fraction: float) -> float:
    """Crews per aircraft relieved by ``fraction``: ``ceil(fraction x crews)`` more, at least one."""
    if fraction <= 0:
        return base
    return base + max(1, math.ceil(fraction * base - 1e-9))


def relieved(base: Steps, reliefs: list[tuple[float, float, float]], rule: Callable[[float, float], float]) -> Steps:
    """A schedule under reliefs ``(start, end, fraction)``: ``rule(value, fraction)`` where
    ``fraction`` sums the reliefs in force (``start <= t < end``). No relief: ``base`` itself."""
    if not reliefs:
        return base
    times = sorted(set(base.times) | {x for a, z, _ in reliefs for x in (a, z)})

    def at(t: float) -> float:
        return rule(base(t), sum(f for a, z, f in reliefs if a <= t < z))

    return Steps(base.values[0], [(t, at(t)) for t in times])


def in_intervals(t: float, spans: list[tuple[float, float]]) -> bool:
    return any(a <= t < b for a, b in spans)


@dataclass
class Timeline:
    """Deadlines and schedules in hours after the scenario start."""

    end: float
    gate_close: float
    last_landing: float
    last_takeoff: float
    start_hour_of_day: float
    runway_closures: list[tuple[float, float]]
    gate_closures: dict[str, list[tuple[float, float]]]
    gate_lanes: dict[str, Steps]
    arrival_factors: dict[str, list[tuple[float, float, float]]]
    base_capacity: dict[str, Steps]
    base_outflow: dict[str, Steps]
    fleet_count: dict[str, Steps] = field(default_factory=dict)
    """Per fleet, aircraft in service (its count and count schedule, and reliefs of aircraft)."""
    extra_aircraft: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    """Per fleet, when each aircraft a relief adds joins and leaves service (after its sortie)."""
    crews: dict[str, Steps] = field(default_factory=dict)
    """Per fleet, crews staged for each aircraft."""
    spots: dict[str, Steps] = field(default_factory=dict)
    """Per ramp size class, parking spots."""
    holding_capacity: Steps = field(default_factory=lambda: Steps(0.0))
    """People the holding area can hold."""
    runway_speedup: Steps = field(default_factory=lambda: Steps(1.0))
    """Runway separation is divided by this (1 + a relief's fraction; 1 without relief)."""
    boarding_deadline: float = INF
    """Aircraft stop boarding and leave by then, so that even with every spot occupied all of
    them get a take-off slot before ``last_takeoff``."""
    retrograde_start: float = INF
    """When the first withdrawal's troops start to leave (``inf``: no troops)."""
    withdrawal_starts: list[float] = field(default_factory=list)
    """Per withdrawal (in the order written), when its troops start to leave (``inf``: no troops)."""
    secured_from: float = 0.0
    """When the airport starts being secured: before it the gates admit nobody and no aircraft lands."""
    change_times: dict[str, list[float]] = field(default_factory=dict)
    """Per gate, every time its open state or lane count may change (for the gate actor)."""

    def hour_of_day(self, t: float) -> float:
        return (self.start_hour_of_day + t) % 24.0

    def gate_open(self, gate: str, t: float) -> bool:
        return t < self.gate_close and not in_intervals(t, self.gate_closures[gate])

    @classmethod
    def from_scenario(cls, s: Scenario) -> Timeline:
        end = s.end_hours
        effects = _Effects.of(s)
        closures = _intervals(effects.runway_closed)
        gate_closures, gate_lanes, change_times = _gate_schedules(s, effects)
        base_capacity, base_outflow = _base_schedules(s, effects)
        fleet_count, crews, spots = _aircraft_schedules(s, effects)
        extra = {
            f: _extra_aircraft(Steps(float(x.count), _schedule(s, x.count_schedule)), fleet_count[f]) for f, x in s.fleets.items()
        }
        last_takeoff, deadline = _deadlines(s, closures, fleet_count, spots)
        withdrawal_starts = [_withdrawal_start(s, w) for w in s.withdrawals]
        return cls(
            end=end,
            gate_close=end - s.security.gate_close_lead_hours,
            last_landing=end - s.security.last_landing_lead_hours,
            last_takeoff=last_takeoff,
            boarding_deadline=deadline,
            start_hour_of_day=s.start.hour + s.start.minute / 60.0,
            runway_closures=closures,
            gate_closures=gate_closures,
            gate_lanes=gate_lanes,
            arrival_factors=effects.arrival_factors,
            base_capacity=base_capacity,
            base_outflow=base_outflow,
            fleet_count=fleet_count,
            extra_aircraft=extra,
            crews=crews,
            spots=spots,
            holding_capacity=relieved(
                Steps(float(s.airfield.holding_capacity_people)), effects.relief("holding", "holding"), more_units
            ),
            runway_speedup=relieved(Steps(1.0), effects.relief("runway", "runway"), lambda one, r: one + r),
            retrograde_start=min(withdrawal_starts, default=INF),
            withdrawal_starts=withdrawal_starts,
            secured_from=s.secured_from_hours,
            change_times=change_times,
        )


def _withdrawal_start(s: Scenario, w: Retrograde) -> float:
    """When a withdrawal's troops start to leave: its ``start``, or ``hours_before_end`` before the end
    (``inf`` without troops)."""
    if w.troops == 0:
        return INF
    if w.start is not None:
        return s.hours(w.start)
    return s.end_hours - (w.hours_before_end or 0.0)


Span = tuple[float, float]
"""A period in hours after the start: ``(start, end)``."""
Change = tuple[float, float, float]
"""A value in force over a period: ``(start, end, value)``."""


def _span(s: Scenario, w: Disruption | Window) -> Span:
    """A dated window in hours; no end means until the security end."""
    return (s.hours(w.start), s.hours(w.end) if w.end is not None else s.end_hours)


def _schedule(s: Scenario, schedule: Sequence[StepValue], scale: float = 1.0) -> list[tuple[float, float]]:
    return [(s.hours(sv.from_), sv.value * scale) for sv in schedule]


@dataclass
class _Effects:
    """What the disruptions put in force, by what they strike: closed periods, and values in force
    over periods (in file order: on equal starts the later one wins, see :func:`windowed`)."""

    runway_closed: list[Span]
    gates_closed: dict[str, list[Span]]
    lanes: dict[str, list[Change]]
    arrival_factors: dict[str, list[Change]]
    base_capacity: dict[str, list[Change]]
    base_outflow: dict[str, list[Change]]
    """People per hour."""
    reliefs: dict[tuple[str, str], list[Change]] = field(default_factory=dict)
    """Fractions in force over periods within the window, by (resource, target)."""

    def relief(self, resource: str, target: str) -> list[Change]:
        """The reliefs of ``resource`` on ``target``: ``(start, end, fraction)``."""
        return self.reliefs.get((resource, target), [])

    @classmethod
    def of(cls, s: Scenario) -> _Effects:
        """The effects of every disruption of ``s``, each compiled by its kind's builder."""
        effects = cls(
            [],
            {g: [] for g in s.gates},
            {g: [] for g in s.gates},
            {c: [] for c in s.cohorts},
            {b: [] for b in s.bases},
            {b: [] for b in s.bases},
        )
        for d in s.disruptions:
            SCHEDULE_BUILDERS[d.kind](effects, s, d)
        return effects


def _close_gates(effects: _Effects, s: Scenario, d: GateClosure) -> None:
    for g in s.gates if d.target == "*" else [d.target]:
        effects.gates_closed[g].append(_span(s, d))


def _close_runway(effects: _Effects, s: Scenario, d: RunwayClosure) -> None:
    effects.runway_closed.append(_span(s, d))


def _factor_arrivals(effects: _Effects, s: Scenario, d: ArrivalFactor) -> None:
    for c in s.cohorts if d.target == "*" else [d.target]:
        effects.arrival_factors[c].append((*_span(s, d), d.value))


def _change_lanes(effects: _Effects, s: Scenario, d: LaneChange) -> None:
    effects.lanes[d.target].append((*_span(s, d), d.value))


def _change_capacity(effects: _Effects, s: Scenario, d: StagingCapacity) -> None:
    effects.base_capacity[d.target].append((*_span(s, d), d.value))


def _change_outflow(effects: _Effects, s: Scenario, d: StagingOutflow) -> None:
    effects.base_outflow[d.target].append((*_span(s, d), d.value * PER_HOUR))


def _relieve(effects: _Effects, s: Scenario, d: Relief) -> None:
    """A relief in force within the window (clipped to it; none outside it), on every target named."""
    a, z = _span(s, d)
    a, z = max(a, 0.0), min(z, s.end_hours)
    if z <= a:
        return
    table = d.target_table()
    names = {"gates": s.gates, "fleets": s.fleets, "bases": s.bases, "spots": s.ramp.spots}.get(table, {table: None})
    for name in names if d.target == "*" else [d.target]:
        effects.reliefs.setdefault((d.resource, name), []).append((a, z, float(d.fraction)))


SCHEDULE_BUILDERS: dict[str, Callable[[_Effects, Scenario, Any], None]] = {
    "gate_closure": _close_gates,
    "runway_closure": _close_runway,
    "arrival_factor": _factor_arrivals,
    "lanes": _change_lanes,
    "staging_capacity": _change_capacity,
    "staging_outflow": _change_outflow,
    "relief": _relieve,
}
"""The one registry from a disruption's kind to what it changes (every kind of
:data:`~sim.description.disruptions.DISRUPTION_KINDS` has its entry)."""


def _gate_schedules(s: Scenario, effects: _Effects) -> tuple[dict[str, list[Span]], dict[str, Steps], dict[str, list[float]]]:
    """Per gate: closed intervals (every gate is closed before the security start), lanes in force,
    and every time either may change."""
    closures, lanes, change_times = {}, {}, {}
    unsecured = [(-INF, s.secured_from_hours)] if s.secured_from_hours > 0 else []  # before security.start
    for g, gate in s.gates.items():
        closures[g] = _intervals([_span(s, w) for w in gate.closed] + effects.gates_closed[g] + unsecured)
        in_force = windowed(float(gate.lanes), _schedule(s, gate.lane_schedule), effects.lanes[g])
        lanes[g] = relieved(in_force, effects.relief("lanes", g), more_units)
        ts = set(lanes[g].times) | {x for iv in closures[g] for x in iv}
        change_times[g] = sorted(t for t in ts if 0 <= t <= s.end_hours)
    return closures, lanes, change_times


def _base_schedules(s: Scenario, effects: _Effects) -> tuple[dict[str, Steps], dict[str, Steps]]:
    """Per staging base: capacity in force (people) and outflow in force (people per hour)."""
    capacity, outflow = {}, {}
    for b, base in s.bases.items():
        # a base has no capacity schedule: only disruptions change it
        more = effects.relief("staging", b)
        capacity[b] = relieved(windowed(float(base.capacity_people), [], effects.base_capacity[b]), more, more_units)
        outflow[b] = relieved(
            windowed(base.outflow_per_day * PER_HOUR, _schedule(s, base.outflow_schedule, PER_HOUR), effects.base_outflow[b]),
            more,
            lambda rate, r: rate * (1 + r),
        )
    return capacity, outflow


def _aircraft_schedules(s: Scenario, effects: _Effects) -> tuple[dict[str, Steps], dict[str, Steps], dict[str, Steps]]:
    """Per fleet: aircraft in service and crews per aircraft; per ramp size class: spots."""
    counts = {
        f: relieved(Steps(float(fleet.count), _schedule(s, fleet.count_schedule)), effects.relief("aircraft", f), more_units)
        for f, fleet in s.fleets.items()
    }
    crews = {
        f: relieved(Steps(float(fleet.crews_per_aircraft)), effects.relief("crews", f), more_crews)
        for f, fleet in s.fleets.items()
    }
    spots = {c: relieved(Steps(float(n)), effects.relief("spots", c), more_units) for c, n in s.ramp.spots.items()}
    return counts, crews, spots


def _extra_aircraft(scheduled: Steps, relieved_count: Steps) -> list[tuple[float, float]]:
    """When the aircraft a relief adds (``relieved_count`` over ``scheduled``) fly: the ``j``-th
    extra aircraft (0, 1, ...) from each time more than ``j`` are added to the next time no more
    than ``j`` are, apart from the fleet's own aircraft (numbered after them)."""
    added = [(t, relieved_count(t) - scheduled(t)) for t in relieved_count.times]
    periods = []
    for j in range(int(max((n for _, n in added), default=0))):
        joined = None
        for t, n in added:
            if n > j and joined is None:
                joined = t
            elif n <= j and joined is not None:
                periods.append((joined, t))
                joined = None
        if joined is not None:
            periods.append((joined, INF))
    return periods


def _deadlines(
    s: Scenario, closures: list[tuple[float, float]], fleet_count: dict[str, Steps], spots: dict[str, Steps]
) -> tuple[float, float]:
    """The last take-off time and the boarding deadline before it.

    After the boarding deadline nothing lands and nothing boards; every aircraft then on the
    ground needs one take-off, each occupying the runway at most the longer separation. At
    most ``min(spots, aircraft)`` aircraft of a class can be on the ground at once, so the
    deadline leaves that many take-offs before the last take-off time, which itself must not
    fall in (or be squeezed by) a runway closure. Aircraft and spots count at their most under
    the scenario's schedules, or as a relief has them at the last take-off time if more (a relief
    that ends before then leaves the deadline where it was).
    """
    last_takeoff = s.end_hours - s.security.last_takeoff_lead_hours
    at_end = last_takeoff - 1e-9
    most = {cls: 0 for cls in s.ramp.spots}
    for name, f in s.fleets.items():
        scheduled = max([f.count, *(x.value for x in f.count_schedule)])
        most[f.size_class] = most.get(f.size_class, 0) + int(max(scheduled, fleet_count[name](at_end)))
    on_ground = sum(min(int(max(n, spots[cls](at_end))), most.get(cls, 0)) for cls, n in s.ramp.spots.items())
    queue = on_ground * max(s.runway.separation_day_min, s.runway.separation_night_min) / 60
    while True:
        deadline = last_takeoff - queue
        hit = [a for a, z in closures if a < last_takeoff and z > deadline]
        if not hit:
            return last_takeoff, deadline
        last_takeoff = min(hit)
