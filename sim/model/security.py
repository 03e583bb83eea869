"""The security clock: the window's deadlines, and every dated change compiled into schedules.

This module turns the scenario's times, lead times and ``disruptions`` into plain numbers in
hours after the start (deadlines, closure intervals, step functions) that the actors read. It
owns no process: nothing here decides; it only says what holds when.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from sim.scenario import Scenario, StepValue

__all__ = ["Steps", "Timeline", "in_hours_window"]

INF = math.inf


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
    boarding_deadline: float = INF
    """Aircraft stop boarding and leave by then, so that even with every spot occupied all of
    them get a take-off slot before ``last_takeoff``."""
    retrograde_start: float = INF
    change_times: dict[str, list[float]] = field(default_factory=dict)
    """Per gate, every time its open state or lane count may change (for the gate actor)."""

    def hour_of_day(self, t: float) -> float:
        return (self.start_hour_of_day + t) % 24.0

    def gate_open(self, gate: str, t: float) -> bool:
        return t < self.gate_close and not in_intervals(t, self.gate_closures[gate])

    def access_factor(self, cohort: str, t: float) -> float:
        """The product of ``arrival_factor`` disruptions active for a cohort at ``t``."""
        f = 1.0
        for a, b, v in self.arrival_factors.get(cohort, ()):
            if a <= t < b:
                f *= v
        return f

    @classmethod
    def from_scenario(cls, s: Scenario) -> Timeline:
        end = s.end_hours
        h = s.hours

        def span(start, stop) -> tuple[float, float]:
            return (h(start), h(stop) if stop is not None else end)

        def steps(initial: float, schedule: list[StepValue]) -> list[tuple[float, float]]:
            return [(h(sv.from_), sv.value) for sv in schedule]

        runway = [span(d.start, d.end) for d in s.disruptions if d.kind == "runway_closure"]
        gate_closures = {}
        gate_lanes = {}
        change_times = {}
        for g, gate in s.gates.items():
            closed = [span(w.start, w.end) for w in gate.closed]
            closed += [span(d.start, d.end) for d in s.disruptions if d.kind == "gate_closure" and d.target in (g, "*")]
            gate_closures[g] = _intervals(closed)
            lane_changes = steps(float(gate.lanes), gate.lane_schedule)
            for d in s.disruptions:
                if d.kind == "lanes" and d.target == g:
                    a, z = span(d.start, d.end)
                    assert d.value is not None
                    before = Steps(float(gate.lanes), lane_changes)(z)
                    lane_changes = [c for c in lane_changes if not a <= c[0] < z]
                    lane_changes += [(a, d.value), (z, before)]
            gate_lanes[g] = Steps(float(gate.lanes), lane_changes)
            ts = {t for t, _ in lane_changes} | {x for iv in gate_closures[g] for x in iv}
            change_times[g] = sorted(t for t in ts if 0 <= t <= end)
        factors: dict[str, list[tuple[float, float, float]]] = {c: [] for c in s.cohorts}
        for d in s.disruptions:
            if d.kind == "arrival_factor":
                assert d.value is not None
                for c in s.cohorts if d.target == "*" else [d.target]:
                    factors[c].append((*span(d.start, d.end), d.value))
        base_capacity: dict[str, Steps] = {}
        base_outflow: dict[str, Steps] = {}
        for b, base in s.bases.items():
            cap: list[tuple[float, float]] = []
            out = [(t, v / 24.0) for t, v in steps(base.outflow_per_day, base.outflow_schedule)]
            for d in s.disruptions:
                if d.target != b or d.value is None:
                    continue
                a, z = span(d.start, d.end)
                if d.kind == "staging_capacity":
                    cap += [(a, d.value), (z, float(base.capacity_people))]
                elif d.kind == "staging_outflow":
                    before = Steps(base.outflow_per_day / 24.0, out)(z)
                    out += [(a, d.value / 24.0), (z, before)]
            base_capacity[b] = Steps(float(base.capacity_people), cap)
            base_outflow[b] = Steps(base.outflow_per_day / 24.0, out)
        sec = s.security
        retro = s.retrograde
        closures = _intervals(runway)
        # the last take-off must not fall in a closure; all aircraft on the ramp (one per
        # spot at most) must fit in the runway between the boarding deadline and it
        last_takeoff = end - sec.last_takeoff_lead_hours
        queue = sum(s.ramp.spots.values()) * max(s.runway.separation_day_min, s.runway.separation_night_min) / 60
        while True:
            deadline = last_takeoff - queue
            hit = [a for a, z in closures if a < last_takeoff and z > deadline]
            if not hit:
                break
            last_takeoff = min(hit)
        return cls(
            end=end,
            gate_close=end - sec.gate_close_lead_hours,
            last_landing=end - sec.last_landing_lead_hours,
            last_takeoff=last_takeoff,
            boarding_deadline=deadline,
            start_hour_of_day=s.start.hour + s.start.minute / 60.0,
            runway_closures=closures,
            gate_closures=gate_closures,
            gate_lanes=gate_lanes,
            arrival_factors=factors,
            base_capacity=base_capacity,
            base_outflow=base_outflow,
            retrograde_start=INF
            if retro.troops == 0
            else h(retro.start)
            if retro.start is not None
            else end - (retro.hours_before_end or 0.0),
            change_times=change_times,
        )
