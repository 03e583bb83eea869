"""Timetabled fleets (``fleets.<name>.timetable``): an aircraft leaves at its slot with whatever
load it has and not before, slots no aircraft can make are not flown, each slot is flown once,
and an aircraft with no slot left leaves service. Constructed airlifts (see
:mod:`tests.test_boarding_rules`) with hand-computed take-off times and loads.

Here: 150 people (families of one) inside within the first half hour; aircraft of 100 seats fly
1 h each way, spend 1 h on the ground before boarding and 1 h turning round, and aim to land
``max_ground_hours`` = 2 h before their slot.
"""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from sim.description.errors import ScenarioError
from sim.description.scenario import Scenario, validate
from sim.model.fleet import Timetable
from sim.model.world import World
from tests.record_checks import check_all
from tests.test_boarding_rules import AIRLIFT, hours


def timetabled(slots: list[float], **overrides: Any) -> Scenario:
    """The airlift of :mod:`tests.test_boarding_rules`, 150 people, its uk fleet flying ``slots`` (hours)."""
    raw = tomllib.loads(AIRLIFT)
    raw["fleets"]["uk"]["timetable"] = [hours(h) for h in slots]
    raw["fleets"]["uk"]["departure"] = {"max_ground_hours": 2.0}
    raw["cohorts"]["b"]["people"] = 0
    scenario = validate(raw, "timetables")
    return scenario.with_overrides(overrides) if overrides else scenario


def run(scenario: Scenario) -> World:
    world = World(scenario, seed=5, replication=0)
    world.run()
    check_all(world)
    return world


def takeoffs(world: World) -> list[tuple[float, float, str, int]]:
    """Every departure: landing, take-off, aircraft, evacuees."""
    return [(d.landed, d.takeoff, d.aircraft, d.evacuees) for d in world.records.departures]


def test_leaves_exactly_at_its_slots_with_what_it_has():
    # At 0 the aircraft claims the first slot it can make (0 + 1 h flight + 1 h on the ground = 2):
    # 4. It leaves the base at 1 to land at 2 (2 h before the slot), boards the 100 it seats at 3
    # (full, under the scenario's rule it would leave now) and leaves at 4. Back at the base at 5,
    # turned round at 6: the first slot it can make is at or after 8: 10. Lands 8, boards the 50
    # left at 9 and leaves at 10 half full. At the base 12 (turned round): slot 11 cannot be made
    # and is skipped; 30: lands 28, nobody is left, leaves empty at 30. Then no slot is left: the
    # aircraft leaves service.
    world = run(timetabled([4, 10, 11, 30]))
    assert takeoffs(world) == [(2, 4, "uk-1", 100), (8, 10, "uk-1", 50), (28, 30, "uk-1", 0)]
    assert world.aircraft[0].doing[0] == "retired"


def test_each_slot_is_flown_by_one_aircraft_and_unreachable_slots_are_not_flown():
    # Two aircraft at 0: the first claims 4, the second 5 (the next free one). Back at the base
    # at 6 and 7, neither can make 6 (the earliest is 8 and 9): slot 6 is not flown and both leave service.
    world = run(timetabled([4, 5, 6], **{"fleets.uk.count": 2}))
    assert takeoffs(world) == [(2, 4, "uk-1", 100), (3, 5, "uk-2", 50)]
    assert [ac.doing[0] for ac in world.aircraft if ac.fleet == "uk"] == ["retired", "retired"]


def test_a_late_landing_takes_the_next_free_slot():
    # The runway is closed from 1:30 to 3:30: the aircraft that meant to land at 2 for its 4:00
    # slot lands at 3:30, is ready to board at 4:30 and takes the next slot, 6:00. Slot 4 is not flown.
    raw_closure = {"kind": "runway_closure", "start": hours(1.5), "end": hours(3.5), "target": "runway"}
    world = run(timetabled([4, 6], disruptions=[raw_closure]))
    assert takeoffs(world) == [(3.5, 6, "uk-1", 100)]


def test_slots_respect_availability_and_the_security_window():
    # available from 5: the first slot it can make is at or after 7, so 4 is skipped; it lands at 8
    # for the slot of 10. The security end (48 h) with last_takeoff_lead 0.5 h and a boarding
    # deadline before it: the slot of 47:45 cannot be flown, so after 10 the aircraft has no slot.
    world = run(timetabled([4, 10, 47.75], **{"fleets.uk.available_from": hours(5)}))
    assert takeoffs(world) == [(8, 10, "uk-1", 100)]


def test_a_long_wait_for_a_slot_rests_the_crew():
    # duty 10 h, rest 4 h. Slot 4: out at 1 (duty from 0), back at 5, turned round at 6. Slot 20:
    # it waits at the base from 6 until 17 (11 h, off duty: rested), so the sortie 17-21 needs no
    # crew rest although 21 h have passed since its duty began.
    world = run(timetabled([4, 20], **{"fleets.uk.crew_duty_hours": 10, "fleets.uk.crew_rest_hours": 4}))
    assert takeoffs(world) == [(2, 4, "uk-1", 100), (18, 20, "uk-1", 50)]
    assert world.records.wait_hours()["crew"] == 0


def test_untimetabled_fleets_keep_the_departure_rule():
    # the germany fleet has no timetable: landed at 1, it boards at 2, leaves when full (scenario rule)
    s = timetabled([30], **{"fleets.de.count": 1})
    got = [d for d in run(s).records.departures if d.fleet == "de"]
    assert (got[0].landed, got[0].takeoff) == (1, 2)


def test_the_timetable_claims_in_order_and_gives_back():
    tt = Timetable([1.0, 2.0, 3.0, 9.0], deadline=5.0)
    assert tt.slots == [1.0, 2.0, 3.0]  # after the boarding deadline: cannot be flown
    assert tt.claim(1.5) == 2.0
    assert tt.claim(1.5) == 3.0
    assert tt.claim(1.5) is None
    tt.release(2.0)
    assert tt.claim(0.0) == 1.0
    assert tt.claim(0.0) == 2.0


def test_slots_in_increasing_order_only():
    raw = tomllib.loads(AIRLIFT)
    raw["fleets"]["uk"]["timetable"] = [1.0, 0.5]
    with pytest.raises(ScenarioError) as e:
        validate(raw, "timetables")
    assert e.value.problems == [("fleets.uk.timetable.1", "not after the slot before it (slots are in increasing time)")]


def test_the_small_scenario_with_steps_and_a_timetable_keeps_every_record_invariant(small_path):
    # the small test scenario (two days, retrograde troops, a runway closure, two operators) with
    # the us fleet on a two-hourly timetable and germany boarding afghans only, then everyone
    raw = tomllib.loads(small_path.read_text(encoding="utf-8"))
    raw["fleets"]["us_c17"]["timetable"] = [h / 24 for h in range(2, 48, 2)]
    raw["boarding"] = {"germany": [{"from": 0, "cohorts": ["afghans"]}, {"from": 1.0, "cohorts": ["afghans", "us_citizens"]}]}
    world = run(validate(raw, "small with a timetable"))
    us = [d for d in world.records.departures if d.fleet == "us_c17"]
    slots = [h / 24 * 24 for h in range(2, 48, 2)]
    # on its slot, or the first runway slot after it, but for one held by the runway closure (12:00 to 14:24)
    held = [d for d in us if d.takeoff == pytest.approx(14.4)]
    flown = [max(t for t in slots if t <= d.takeoff + 1e-9) for d in us if d not in held]
    assert len(held) <= 1 and all(0 <= d.takeoff - t < 0.2 for d, t in zip([d for d in us if d not in held], flown))
    assert len(set(flown)) == len(flown)  # each slot once
    early_de = [d for d in world.records.departures if d.fleet == "de_a400m" and d.takeoff < 24]
    us_citizens = world.population.cohort_names.index("us_citizens")
    assert all(world.population.cohort[g] != us_citizens for d in early_de for g in d.groups)
    assert sum(d.troops for d in world.records.departures) == 300  # the retrograde still flies out


def test_departure_keys_a_timetable_overrules_are_errors_for_its_fleet():
    raw = tomllib.loads(AIRLIFT)
    raw["fleets"]["uk"]["timetable"] = [0.5]
    raw["fleets"]["uk"]["departure"] = {"min_load_fraction": 0.5, "max_ground_hours": 2}
    with pytest.raises(ScenarioError) as e:
        validate(raw, "timetables")
    assert e.value.problems == [
        ("fleets.uk.departure.min_load_fraction", "plays no part for a fleet with a timetable (it leaves at its slots)")
    ]
