"""Scripted timelines with exact expected times for the runway, the ramp and the aircraft."""

from __future__ import annotations

import pytest

from sim.metrics import Records
from sim.model.runway import Runway
from sim.model.security import Timeline
from sim.model.world import World


def runway(scenario, **runway_overrides):
    s = scenario.with_overrides({f"runway.{k}": v for k, v in runway_overrides.items()})
    rec = Records()
    return Runway(s.runway, Timeline.from_scenario(s), rec), rec


def test_runway_separation_and_first_come(small):
    # start 00:00 local; separation 6 min by day (05-19), 12 min by night
    rw, rec = runway(small, separation_day_min=6, separation_night_min=12)
    assert rw.book(6.0, "landing", "a") == 6.0
    assert rw.book(6.0, "takeoff", "b") == pytest.approx(6.1)
    assert rw.book(6.05, "landing", "c") == pytest.approx(6.2)
    # a gap that fits is used: book well ahead, then a movement before it
    assert rw.book(7.0, "landing", "d") == 7.0
    assert rw.book(6.85, "takeoff", "e") == pytest.approx(6.85)  # [6.85, 6.95) fits before 7.0
    assert rw.book(6.9, "takeoff", "f") == pytest.approx(7.1)  # would overlap [7.0, 7.1)
    # at night the movement occupies 12 minutes
    assert rw.book(2.0, "landing", "g") == 2.0
    assert rw.book(2.0, "landing", "h") == pytest.approx(2.2)
    starts = sorted((m[0], m[1]) for m in rec.movements)
    assert all(b0 >= a1 - 1e-9 for (a0, a1), (b0, b1) in zip(starts, starts[1:]))


def test_runway_closure_pushes_movements_after_it(small):
    # the small scenario closes the runway from day 0.5 to 0.6 (12:00 to 14:24)
    rw, _ = runway(small, separation_day_min=6)
    assert rw.book(11.95, "landing", "a") == pytest.approx(14.4)  # would run into the closure
    assert rw.book(12.5, "takeoff", "b") == pytest.approx(14.5)
    assert rw.book(11.8, "landing", "c") == pytest.approx(11.8)  # ends 11.9, before the closure


def test_runway_cancel_frees_the_slot(small):
    rw, rec = runway(small, separation_day_min=6)
    t = rw.book(6.0, "landing", "a")
    rw.cancel(t, "a")
    assert rw.book(6.0, "landing", "b") == 6.0
    assert [m[3] for m in rec.movements] == ["b"]


def scripted(small, **extra):
    """One aircraft, no evacuees: a fully deterministic sortie cycle."""
    o = {
        "cohorts.us_citizens.people": 0,
        "cohorts.afghans.people": 0,
        "fleets.de_a400m.count": 0,
        "fleets.us_c17.count": 1,
        "fleets.us_c17.ground_fixed_min": 60,
        "fleets.us_c17.turnaround_hours": 3,
        "fleets.us_c17.crew_duty_hours": 24,
        "fleets.us_c17.crew_rest_hours": 12,
        "bases.qatar.flight_hours": 1.0,
        "departure.max_ground_hours": 3.0,
        "retrograde.troops": 0,
        "disruptions": [],
        "security.end": 3.0,
        "security.last_landing_lead_hours": 3,
        "security.last_takeoff_lead_hours": 0.5,
        "runway.separation_day_min": 6,
        "runway.separation_night_min": 6,
    }
    o.update(extra)
    w = World(small.with_overrides(o), seed=1, replication=0)
    w.run()
    return w


def test_aircraft_sortie_cycle_exact_times(small):
    w = scripted(small)
    landings = [m[0] for m in w.records.movements if m[2] == "landing"]
    takeoffs = [m[0] for m in w.records.movements if m[2] == "takeoff"]
    # land 1; 1 h fixed on the ground, then no passengers: leaves 3 h after landing, at 4;
    # base at 5; turnaround 3 h -> 8; lands 9, 17. At 24 the next sortie (2*1 + 1 + 3 = 6 h)
    # would end beyond the 24 h duty day that began at 0: crew rest until 36. Lands 37, 45, 53;
    # at 60 the duty day from 36 would again run out: rest until 72, past the last landing (69).
    assert landings == pytest.approx([1, 9, 17, 37, 45, 53])
    assert takeoffs == pytest.approx([4, 12, 20, 40, 48, 56])


def test_two_aircraft_share_one_spot(small):
    w = scripted(small, **{"fleets.us_c17.count": 2, "ramp.spots.heavy": 1, "security.end": 1.0})
    ground = sorted((d.landed, d.takeoff) for d in w.records.departures)
    # the second is cleared only when the first takes off (4), so it lands at 5; from then on
    # they alternate on the one spot. At 20 the next sortie would break the 24 h duty day.
    assert ground == [(1, 4), (5, 8), (9, 12), (13, 16), (17, 20)]
    assert w.records.waits["ramp"] == pytest.approx(4.0)
    assert all(b_land >= a_off for (_, a_off), (b_land, _) in zip(ground, ground[1:]))


def test_nothing_lands_after_last_landing_or_stays_after_end(small):
    w = scripted(small, **{"fleets.us_c17.count": 3, "security.end": 1.0, "security.last_landing_lead_hours": 10})
    last_landing = 24 - 10
    for start, _, kind, _ in w.records.movements:
        if kind == "landing":
            assert start <= last_landing
    assert all(d.takeoff <= 24 - 0.5 for d in w.records.departures)
    assert w.ramp.on_ground == 0
    assert w.summary()["metrics"]["aircraft_on_ground_at_end"] == 0


def test_fleet_available_until_stops_landings(small):
    w = scripted(small, **{"fleets.us_c17.available_until": 0.5})
    assert max(m[0] for m in w.records.movements if m[2] == "landing") <= 12.0


def test_count_schedule_adds_and_retires_aircraft(small):
    # one aircraft from the start; a second joins at 30 h and both are retired at 50 h
    w = scripted(
        small,
        **{"fleets.us_c17.count_schedule": [{"from": 30 / 24, "value": 2}, {"from": 50 / 24, "value": 0}], "ramp.spots.heavy": 3},
    )
    by_aircraft: dict[str, list[float]] = {}
    for start, _, kind, ident in w.records.movements:
        if kind == "landing":
            by_aircraft.setdefault(ident, []).append(start)
    assert sorted(by_aircraft) == ["us_c17-1", "us_c17-2"]
    assert min(by_aircraft["us_c17-2"]) == pytest.approx(31.0)  # joins at 30, flies 1 h
    assert max(max(v) for v in by_aircraft.values()) <= 50.0
