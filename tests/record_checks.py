"""Invariants of a finished replication, checked from its records and its scenario only.

Nothing here reads a counter the model keeps about itself: capacities, conservation and the
disruptions in force are recomputed from the append-only records (:mod:`sim.model.records`) and the
scenario's description (the compiled :class:`~sim.model.timeline.Timeline`).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from sim.description.metric_catalog import LIMIT_CAUSES
from sim.model.records import Movement, Status
from sim.model.runway import EPS
from sim.model.world import World

TOL = 1e-6


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """Most half-open intervals ``[a, b)`` covering one instant."""
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals], key=lambda e: (e[0], e[1]))
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


WHERE = ("stranded_never_arrived", "stranded_turned_back", "stranded_at_gates", "stranded_airfield")
"""Where the stranded of a cohort are: each of them in exactly one."""


def check_conservation(w: World) -> None:
    """Everyone is evacuated, did not travel or is stranded, in exactly one place; the evacuated
    are exactly the people on departures."""
    s, rec = w.scenario, w.records
    m = w.summary()["metrics"]
    total = 0
    for c, cohort in s.cohorts.items():
        stranded = [m[f"cohort.{c}.{k}"] for k in WHERE]
        assert m[f"cohort.{c}.evacuated"] + sum(stranded) + m[f"cohort.{c}.did_not_travel"] == cohort.people, c
        assert m[f"cohort.{c}.evacuated"] + m[f"cohort.{c}.stranded"] + m[f"cohort.{c}.did_not_travel"] == cohort.people, c
        assert sum(stranded) == m[f"cohort.{c}.stranded"], c
        if cohort.registration is None:
            assert m[f"cohort.{c}.did_not_travel"] == m[f"cohort.{c}.stranded_turned_back"] == 0, c
        total += cohort.people
    assert m["population_total"] == total == m["evacuated_total"] + m["stranded_total"] + m["did_not_travel_total"]
    flown = [g for d in rec.departures for g in d.groups]
    assert len(flown) == len(set(flown)), "a family flew twice"
    assert m["evacuated_total"] == sum(d.evacuees for d in rec.departures)
    assert sum(w.population.size[g] for g in flown) == m["evacuated_total"]
    assert all(w.population.status[g] == Status.FLOWN for g in flown)
    starts = w.timeline.withdrawal_starts
    troops = [r.troops if start < float("inf") else 0 for r, start in zip(s.withdrawals, starts, strict=True)]
    assert m["troops_flown"] + m["troops_stranded"] == sum(troops)
    assert sum(d.troops for d in rec.departures) == sum(x.troops for x in rec.troops_flown)
    for name, n in zip(s.withdrawal_names, troops, strict=False):
        assert m[f"withdrawal.{name}.troops_flown"] + m[f"withdrawal.{name}.troops_stranded"] == n


def check_holding(w: World) -> None:
    """People in the holding area or in screening (room kept) never exceed its capacity.

    A family takes room when it starts screening and gives it back when it boards; at equal
    times boarding frees room first (the gates start screening on room freed)."""
    rec = w.records
    changes = [(b.at, 0, -b.people) for b in rec.boardings] + [(s.start, 1, s.people) for s in rec.screened]
    level = 0
    for _, _, n in sorted(changes):
        level += n
        assert 0 <= level <= w.scenario.airfield.holding_capacity_people


def _ground_stays(flown: list[Movement]) -> dict[str, list[tuple[float, float]]]:
    """Per aircraft, ``(landing, take-off)`` pairs; an aircraft still on the ground has ``inf``."""
    stays: dict[str, list[tuple[float, float]]] = defaultdict(list)
    landed: dict[str, float] = {}
    for m in sorted(flown, key=lambda m: (m.start, m.kind == "landing")):
        if m.kind == "landing":
            assert m.aircraft not in landed, f"{m.aircraft} landed twice"
            landed[m.aircraft] = m.start
        else:
            stays[m.aircraft].append((landed.pop(m.aircraft), m.start))
    for ac, t in landed.items():
        stays[ac].append((t, float("inf")))
    return stays


def check_runway_and_ramp(w: World) -> None:
    """Movements never overlap or touch a closure; nothing lands after the last landing time or
    leaves after the last take-off time; nothing is on the ground at the end; the aircraft on the
    ground never exceed the spots of their class."""
    tl, rec, s = w.timeline, w.records, w.scenario
    flown = rec.movements_flown()
    occupied = sorted((m.start, m.end) for m in flown)
    assert all(nxt[0] >= cur[1] - EPS for cur, nxt in zip(occupied, occupied[1:]))
    for a, b in tl.runway_closures:
        assert not any(start < b and end - EPS > a for start, end in occupied), (a, b)
    assert all(m.start <= tl.last_landing + TOL for m in flown if m.kind == "landing")
    assert all(m.start <= tl.last_takeoff + TOL for m in flown if m.kind == "takeoff")
    stays = _ground_stays(flown)
    assert all(off < float("inf") for v in stays.values() for _, off in v), "an aircraft is on the ground at the end"
    size_class = {ac.ident: ac.spec.size_class for ac in w.aircraft}
    for cls, spots in s.ramp.spots.items():
        ground = [iv for ac, v in stays.items() if size_class[ac] == cls for iv in v]
        assert max_overlap(ground) <= spots, cls
    # departures agree with the runway's take-offs
    assert sorted(d.takeoff for d in rec.departures) == sorted(m.start for m in flown if m.kind == "takeoff")


def check_staging(w: World) -> None:
    """Committed loads are honoured and nothing else exceeds a base's capacity: after each
    arrival the base holds no more than the capacity in force at the arrival, or at the base's
    last commitment (a chalk boarded for it) before the arrival, whichever is higher."""
    rec, tl = w.records, w.timeline
    commits: dict[str, list[float]] = defaultdict(list)
    for b in rec.boardings:
        if b.people:
            commits[b.base].append(b.at)
    for a in rec.arrivals:
        if a.people == 0:
            continue
        before = [t for t in commits[a.base] if t <= a.at]
        assert before, f"{a.base}: an arrival with nothing committed"
        cap = tl.base_capacity[a.base]
        allowed = max(cap(a.at), cap(before[-1]))
        assert a.level_after <= allowed + TOL, (a, allowed)
    check_staging_outflow(w)
    for name in w.scenario.bases:
        landed = sum(a.people for a in rec.arrivals if a.base == name)
        flown = sum(d.evacuees for d in rec.departures if d.base == name)
        assert landed <= flown  # the rest are still in the air at the end


def check_staging_outflow(w: World) -> None:
    """Between arrivals a base drains at the outflow in force (never below empty): the level
    before each arrival is the level after the one before it, less the outflow in between."""
    tl = w.timeline
    for name, base in w.scenario.bases.items():
        t, level = 0.0, float(base.initial_people)
        for a in (a for a in w.records.arrivals if a.base == name):
            expected = max(0.0, level - tl.base_outflow[name].integral(t, a.at))
            assert a.level_after - a.people == pytest.approx(expected, rel=1e-9, abs=1e-6), (a, expected)
            t, level = a.at, a.level_after


def check_gate_closures(w: World) -> None:
    """No family starts screening at a gate while it is closed (closures and the gate close time)."""
    tl = w.timeline
    names = list(w.scenario.gates)
    for s in w.records.screened:
        assert tl.gate_open(names[s.gate], s.start), s


def check_gate_stops(w: World) -> None:
    """A gate's stops (the holding area full) never overlap and lie in the run; the gates stopped
    at each hourly sample are those whose stop covers it (either way at its ends, which the
    sample may fall before or after); the holding limit is their gate-hours."""
    rec, end = w.records, w.timeline.end
    by_gate: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for stop in rec.gate_stops:
        assert 0.0 <= stop.start <= stop.end <= end + TOL, stop
        by_gate[stop.gate].append((stop.start, stop.end))
    for stops in by_gate.values():
        stops.sort()
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(stops, stops[1:])), stops
    for row in rec.hourly:
        h = min(row.hours, end)  # the last sample may fall a rounding error past the end: it sees the end
        inside = sum(1 for s in rec.gate_stops if s.start < h < s.end)
        touching = sum(1 for s in rec.gate_stops if s.start - TOL <= h <= s.end + TOL)
        assert inside <= row.gates_blocked <= touching, (h, row.gates_blocked, inside, touching)
    total = sum(s.end - s.start for s in rec.gate_stops)
    assert rec.wait_hours()["holding"] == pytest.approx(total, abs=TOL)
    hours = np.array([row.hours for row in rec.hourly])
    want = [sum(max(0.0, min(s.end, h) - s.start) for s in rec.gate_stops) for h in hours]
    assert rec.gate_hours_stopped(hours) == pytest.approx(want, abs=TOL)
    check_held_back(w)


def check_held_back(w: World) -> None:
    """Each hour, the people held back (all causes) are at most the people waiting at the gates
    and inside at the hour's start; nobody is held back by a full holding area while no gate is
    stopped; the metrics are the hourly columns' last values."""
    m = w.summary()
    hourly = m["hourly"]
    held = np.array([hourly[f"limit_{c}_hours"] for c in LIMIT_CAUSES])
    if held.shape[1]:
        assert held[:, 0] == pytest.approx(0.0)
        step = np.diff(held, axis=1)
        assert (step >= -TOL).all()
        waiting = hourly["gate_queue_people"][:-1] + hourly["airfield_people"][:-1]
        assert (step.sum(axis=0) <= waiting + TOL).all()
        stopped = np.diff(hourly["limit_holding_hours"])
        assert (stopped[hourly["gates_blocked"][:-1] == 0] <= TOL).all()
    for c, series in zip(LIMIT_CAUSES, held):
        assert m["metrics"][f"limit.{c}_hours"] == pytest.approx(series[-1] if len(series) else 0.0)


def check_all(w: World) -> None:
    check_conservation(w)
    check_holding(w)
    check_runway_and_ramp(w)
    check_staging(w)
    check_gate_closures(w)
    check_gate_stops(w)
