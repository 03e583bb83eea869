"""Scripted timelines with exact expected times for the runway, the ramp and the aircraft."""

from __future__ import annotations

import math

import pytest
import simpy

import sim
from sim.model.fleet import CHALKS_PER_STAY
from sim.model.ramp import Ramp
from sim.model.records import Movement, Records
from sim.model.runway import Runway
from sim.model.timeline import Timeline
from sim.model.world import World, _service_periods
from tests.record_checks import check_all


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
    starts = sorted((m.start, m.end) for m in rec.movements_flown())
    assert all(b0 >= a1 - 1e-9 for (a0, a1), (b0, b1) in zip(starts, starts[1:]))


def test_runway_closure_pushes_movements_after_it(small):
    # the small scenario closes the runway from day 0.5 to 0.6 (12:00 to 14:24)
    rw, _ = runway(small, separation_day_min=6)
    assert rw.book(11.95, "landing", "a") == pytest.approx(14.4)  # would run into the closure
    assert rw.book(12.5, "takeoff", "b") == pytest.approx(14.5)
    assert rw.book(11.8, "landing", "c") == pytest.approx(11.8)  # ends 11.9, before the closure


def test_runway_cancel_frees_the_slot_and_is_recorded(small):
    rw, rec = runway(small, separation_day_min=6)
    t = rw.book(6.0, "landing", "a")
    rw.cancel(t, "landing", "a")
    assert rw.book(6.0, "landing", "b") == 6.0
    # append-only: the booking, its cancellation, the next booking
    assert rec.movements == [
        Movement(6.0, 6.1, "landing", "a"),
        Movement(6.0, 6.1, "landing", "a", cancelled=True),
        Movement(6.0, 6.1, "landing", "b"),
    ]
    assert [m.aircraft for m in rec.movements_flown()] == ["b"]


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
    landings = [m.start for m in w.records.movements_flown() if m.kind == "landing"]
    takeoffs = [m.start for m in w.records.movements_flown() if m.kind == "takeoff"]
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
    assert w.records.wait_hours()["ramp"] == pytest.approx(4.0)
    assert all(b_land >= a_off for (_, a_off), (b_land, _) in zip(ground, ground[1:]))


def test_nothing_lands_after_last_landing_or_stays_after_end(small):
    w = scripted(small, **{"fleets.us_c17.count": 3, "security.end": 1.0, "security.last_landing_lead_hours": 10})
    last_landing = 24 - 10
    for m in w.records.movements_flown():
        if m.kind == "landing":
            assert m.start <= last_landing
    assert all(d.takeoff <= 24 - 0.5 for d in w.records.departures)
    assert w.ramp.on_ground == 0
    assert w.summary()["metrics"]["aircraft_on_ground_at_end"] == 0


def test_fleet_available_until_stops_landings(small):
    w = scripted(small, **{"fleets.us_c17.available_until": 0.5})
    assert max(m.start for m in w.records.movements_flown() if m.kind == "landing") <= 12.0


def test_count_schedule_adds_and_retires_aircraft(small):
    # one aircraft from the start; a second joins at 30 h and both are retired at 50 h
    w = scripted(
        small,
        **{"fleets.us_c17.count_schedule": [{"from": 30 / 24, "value": 2}, {"from": 50 / 24, "value": 0}], "ramp.spots.heavy": 3},
    )
    by_aircraft: dict[str, list[float]] = {}
    for m in w.records.movements_flown():
        if m.kind == "landing":
            by_aircraft.setdefault(m.aircraft, []).append(m.start)
    assert sorted(by_aircraft) == ["us_c17-1", "us_c17-2"]
    assert min(by_aircraft["us_c17-2"]) == pytest.approx(31.0)  # joins at 30, flies 1 h
    assert max(max(v) for v in by_aircraft.values()) <= 50.0


def test_count_schedule_that_falls_and_rises_brings_aircraft_back(small):
    # one aircraft, called away at 10 h and back at 30 h. Lands 1 and 9 (as in the sortie cycle
    # above); its next landing, 17, would come after it left. It comes back at 30 as an aircraft
    # of its own with a rested crew: lands 31, 39, 47; at 54 the next 6 h sortie would end beyond
    # the duty day begun at 30, so the crew rests until 66 and it lands 67 (last landing 69).
    w = scripted(small, **{"fleets.us_c17.count_schedule": [{"from": 10 / 24, "value": 0}, {"from": 30 / 24, "value": 1}]})
    by_aircraft: dict[str, list[float]] = {}
    for m in w.records.movements_flown():
        if m.kind == "landing":
            by_aircraft.setdefault(m.aircraft, []).append(m.start)
    assert by_aircraft == {"us_c17-1": pytest.approx([1, 9]), "us_c17-1-2": pytest.approx([31, 39, 47, 67])}


def test_service_periods_follow_every_rise_and_fall_of_the_count():
    # 6 aircraft; 3 from 10 h, 8 from 20 h, 2 from 30 h, 5 from 40 h
    periods = _service_periods(6, [(10, 3), (20, 8), (30, 2), (40, 5)])
    assert periods[0] == periods[1] == [(0.0, math.inf)]
    assert periods[2] == [(0.0, 30), (40, math.inf)]
    assert periods[3] == periods[4] == [(0.0, 10), (20, 30), (40, math.inf)]
    assert periods[5] == [(0.0, 10), (20, 30)]
    assert periods[6] == periods[7] == [(20, 30)]
    # a count that only rises: one period each, as before
    assert _service_periods(1, [(5, 3)]) == [[(0.0, math.inf)], [(5, math.inf)], [(5, math.inf)]]


def test_crew_rest_is_a_limit_cause(small):
    # the timeline above: the crew rests from 24 to 36 h, and from 60 h past the aircraft's
    # last chance to land (69 - 1 h of flight = 68): 12 + 8 aircraft-hours waited for a crew
    w = scripted(small)
    assert w.records.wait_hours()["crew"] == pytest.approx(20.0)
    out = w.summary()
    # a limit only while someone waited inside for that aircraft (see tests/test_binding.py)
    assert out["metrics"]["limit.crew_hours"] == pytest.approx(out["hourly"]["limit_crew_hours"][-1])


# -- regressions: random scenarios that once broke an invariant ------------------------------
def test_a_class_without_spots_admits_no_aircraft():
    env = simpy.Environment()
    ramp = Ramp(env, {"heavy": 0, "medium": 1})
    req = ramp.request("heavy")
    env.run(until=10)
    assert not req.triggered and ramp.waiting() == 1
    ramp.release("heavy", req)  # the aircraft gives up
    assert ramp.waiting() == 0


def test_no_aircraft_left_on_the_ground_by_a_closure_at_the_boarding_deadline(small):
    # the closure runs from 03:21 on day 0 past the end; five take-offs just fit before it
    o = {
        "bases.qatar.flight_hours": 1.59,
        "disruptions": [{"kind": "runway_closure", "start": 0.14, "end": 2.14, "target": "runway"}],
    }
    w = World(small.with_overrides(o), 1, 0)
    w.run()
    assert w.summary()["metrics"]["aircraft_on_ground_at_end"] == 0
    check_all(w)


def test_no_landing_runs_into_the_boarding_deadline(small):
    # no fixed ground time and 30-minute separations: a landing just before the deadline would
    # take the runway from the take-offs kept after it
    o = {
        "fleets.us_c17.ground_fixed_min": 0,
        "ramp.spots.medium": 1,
        "runway.separation_day_min": 30,
        "fleets.us_c17.turnaround_hours": 0,
        "bases.qatar.flight_hours": 0.5,
        "security.end": 0.5809745808874573,
    }
    w = World(small.with_overrides(o), 1, 0)
    w.run()
    assert w.summary()["metrics"]["aircraft_on_ground_at_end"] == 0
    tl = w.timeline
    assert all(m.end <= tl.boarding_deadline + 1e-9 for m in w.records.movements_flown() if m.kind == "landing")
    check_all(w)


def test_boarding_deadline_counts_the_aircraft_that_can_be_on_the_ground(small):
    # the small scenario has 4 heavy and 2 medium aircraft: 100 heavy spots keep no more
    # take-offs after the deadline than 4 do
    def deadline(**o):
        return Timeline.from_scenario(small.with_overrides(o)).boarding_deadline

    sep = max(small.runway.separation_day_min, small.runway.separation_night_min) / 60
    last_takeoff = small.end_hours - small.security.last_takeoff_lead_hours
    assert deadline(**{"ramp.spots.heavy": 100}) == deadline(**{"ramp.spots.heavy": 4}) == pytest.approx(last_takeoff - 6 * sep)
    assert deadline(**{"ramp.spots.heavy": 1}) == pytest.approx(last_takeoff - 3 * sep)
    # aircraft a count schedule brings in count too
    sched = {"fleets.us_c17.count_schedule": [{"from": 1.0, "value": 7}], "ramp.spots.heavy": 100}
    assert deadline(**sched) == pytest.approx(last_takeoff - 9 * sep)


def test_a_larger_ramp_keeps_the_reference_boarding_deadline_near_the_end():
    # Kabul with 1,000 heavy and 1,000 medium spots once stopped boarding days early
    kabul = sim.load_scenario("kabul_2021.toml")
    huge = kabul.with_overrides({"ramp.spots.heavy": 1000, "ramp.spots.medium": 1000})
    # one take-off for each of the 48 aircraft at 5 min (4 h), not for each of 2,000 spots (which was 7 days)
    aircraft = sum(max([f.count, *(x.value for x in f.count_schedule)]) for f in kabul.fleets.values())
    sep = max(kabul.runway.separation_day_min, kabul.runway.separation_night_min) / 60
    tl = Timeline.from_scenario(huge)
    assert tl.boarding_deadline == pytest.approx(tl.last_takeoff - aircraft * sep)
    assert tl.last_takeoff - tl.boarding_deadline <= 4.0 + 1e-9


def test_chalks_per_stay_are_bounded(small):
    # a chalk every 3 seconds over 90 days: the interval is raised to max_ground_hours / CHALKS_PER_STAY
    o = {"airfield.chalk_interval_min": 0.05, "security.end": 90.0}
    w = World(small.with_overrides(o), 1, 0)
    w.run()
    max_ground = small.departure.max_ground_hours
    for d in w.records.departures:
        polls = [x for x in w.records.waits if x.aircraft == d.aircraft and d.landed <= x.start < d.takeoff]
        polls = [x for x in polls if x.cause in ("evacuees", "staging")]
        stay = d.takeoff - d.landed
        assert len(polls) <= CHALKS_PER_STAY * max(1.0, stay / max_ground) + 1
    check_all(w)
