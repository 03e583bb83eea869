"""Who boards which operator's aircraft, in what order, over time (``boarding``), and a fleet's
own departure rule (``fleets.<name>.departure``): constructed airlifts whose loads and take-off
times can be worked out by hand, and the checks of the scenario keys.

The airlift of these tests: everyone (families of one) is inside the holding area within the
first half hour (a burst of arrivals, a thousand lanes, instant screening, endless patience).
One aircraft (100 seats, no boarding time per person) flies 1 h each way to its base, spends
1 h on the ground before boarding and 1 h turning round; it leaves when full (the scenario's
``min_load_fraction = 1``) or after 3 h on the ground. Its first sorties: land 1, board 2;
leave when full; back at the base 1 h later, turned round 1 h after that, landing 1 h later.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest

from sim.description.errors import ScenarioError
from sim.description.scenario import Scenario, validate
from sim.model.world import World
from tests.record_checks import check_all

AIRLIFT = """
name = "boarding-rules"
start = 2023-04-23T00:00:00+02:00

[security]
end = 2.0
gate_close_lead_hours = 4
last_landing_lead_hours = 3
last_takeoff_lead_hours = 0.5

[airfield]
holding_capacity_people = 100000
chalk_interval_min = 15

[departure]
min_load_fraction = 1.0
max_ground_hours = 3.0

[ramp.spots]
heavy = 4

[runway]
separation_day_min = 1
separation_night_min = 1

[bases.cyprus]
flight_hours = 1.0
capacity_people = 100000
outflow_per_day = 100000

[fleets.uk]
operator = "uk"
aircraft_type = "C-17"
size_class = "heavy"
count = 1
bases = ["cyprus"]
seats = 100
ground_fixed_min = 60
boarding_min_per_person = 0
turnaround_hours = 1
crew_duty_hours = 200

[fleets.de]
operator = "germany"
aircraft_type = "A400M"
size_class = "heavy"
count = 0
bases = ["cyprus"]
seats = 100
ground_fixed_min = 60
boarding_min_per_person = 0
turnaround_hours = 1
crew_duty_hours = 200

[cohorts.a]
people = 150
priority = 2
group_size = { distribution = "categorical", sizes = [1], weights = [1] }
arrival = { until = 0.02, curfew_factor = 1.0 }
patience = { mean_hours = 1e6 }

[cohorts.b]
people = 1000
priority = 1
group_size = { distribution = "categorical", sizes = [1], weights = [1] }
arrival = { until = 0.02, curfew_factor = 1.0 }
patience = { mean_hours = 1e6 }

[gates.main]
lanes = 1000
screening_distribution = "fixed"
screening_base_min = 0.001
screening_per_person_min = 0
"""


START = datetime.fromisoformat("2023-04-23T00:00:00+02:00")


def airlift(boarding: dict[str, Any] | None = None, **overrides: Any) -> Scenario:
    """:data:`AIRLIFT` with a ``boarding`` table (a new table: overrides change existing keys only) and overrides."""
    raw = tomllib.loads(AIRLIFT)
    if boarding is not None:
        raw["boarding"] = boarding
    scenario = validate(raw, "boarding-rules")
    return scenario.with_overrides(overrides) if overrides else scenario


def flights(scenario: Scenario) -> list[tuple[float, str, dict[str, int]]]:
    """Every take-off: its time, fleet and people boarded by cohort."""
    world = World(scenario, seed=3, replication=0)
    world.run()
    check_all(world)  # the invariants of every run's records hold
    pop = world.population
    out = []
    for d in world.records.departures:
        aboard: Counter[str] = Counter()
        for g in d.groups:
            aboard[pop.cohort_names[pop.cohort[g]]] += pop.size[g]
        out.append((d.takeoff, d.fleet, dict(aboard)))
    return out


def hours(h: float) -> str:
    """``h`` hours after the start of :data:`AIRLIFT`, as a datetime (exact, unlike days)."""
    return (START + timedelta(hours=h)).isoformat()


# -- the default rule: unchanged -------------------------------------------------------------------
def test_without_boarding_steps_priority_decides():
    # b (priority 1) first: 100 of b at 2, and at 6 (1000 of b, never exhausted in these sorties)
    first, second = flights(airlift())[:2]
    assert first == (2.0, "uk", {"b": 100})
    assert second == (6.0, "uk", {"b": 100})


# -- an operator's steps -----------------------------------------------------------------------------
def test_only_the_listed_cohorts_board_then_the_list_widens():
    # uk boards only a from the start, then from 6:30 a first and then b. Sortie 1 at 2: 100 of a,
    # full. Sortie 2 lands 5, boards at 6: the 50 of a left, not full; chalks every 15 min take
    # no one (b is not eligible) until 6:30, when the step lets 50 of b aboard: full, leaves 6:30.
    # Sortie 3: back at the base 7:30, turned round 8:30, lands 9:30, boards at 10:30: 100 of b.
    steps = [{"from": hours(0), "cohorts": ["a"]}, {"from": hours(6.5), "cohorts": ["a", "b"]}]
    got = flights(airlift({"uk": steps}))
    assert got[:3] == [(2.0, "uk", {"a": 100}), (6.5, "uk", {"a": 50, "b": 50}), (10.5, "uk", {"b": 100})]


def test_the_order_listed_overrides_priority():
    # b has priority 1, but the step lists a first: a's 150 go first (100, then 50 and 50 of b)
    got = flights(airlift({"uk": [{"from": 0, "cohorts": ["a", "b"]}]}))
    assert got[:2] == [(2.0, "uk", {"a": 100}), (6.0, "uk", {"a": 50, "b": 50})]


def test_before_the_first_step_carriers_and_priority_hold():
    # before 5:00 the default rule: b (priority 1) first; from 5:00 only a
    got = flights(airlift({"uk": [{"from": hours(5), "cohorts": ["a"]}]}))
    # the third sortie lands at 9 and finds only 50 of a: not full, it leaves after 3 h on the ground
    assert got[:3] == [(2.0, "uk", {"b": 100}), (6.0, "uk", {"a": 100}), (12.0, "uk", {"a": 50})]


def test_steps_replace_carriers_and_leave_other_operators_alone():
    # a may be carried by germany only and b by uk only (carriers), but uk's step names a and
    # not b: uk boards a only. germany (no steps) keeps the default rule: a, its one eligible cohort.
    s = airlift(
        {"uk": [{"from": 0, "cohorts": ["a"]}]},
        **{
            "cohorts.a.carriers": ["germany"],
            "cohorts.b.carriers": ["uk"],
            "fleets.de.count": 1,
            "fleets.de.available_from": hours(3),
        },
    )
    got = flights(s)
    # uk: 100 of a at 2. germany lands at 3 + 1 = 4 and boards at 5: the 50 of a left; not
    # full, it leaves after 3 h on the ground, at 7. uk's second sortie lands at 5 and boards
    # from 6: nobody it may take is left (b is not in its step): it leaves empty at 8.
    assert got[:3] == [(2.0, "uk", {"a": 100}), (7.0, "de", {"a": 50}), (8.0, "uk", {})]


def test_an_empty_step_boards_no_evacuees():
    got = flights(airlift({"uk": [{"from": 0, "cohorts": []}]}))
    # nobody eligible: it leaves empty after 3 h on the ground (landed 1: leaves 4), and so on
    assert [(t, load) for t, _, load in got[:2]] == [(4.0, {}), (10.0, {})]


# -- a fleet's own departure rule ----------------------------------------------------------------------
def test_a_fleet_min_load_fraction_replaces_the_scenarios():
    # 60 people in all. Scenario rule: leave when full (100) or after 3 h on the ground: the
    # aircraft boards the 60 at 2 and leaves at 4 (landed 1). Its own rule (half full): leaves at 2.
    s = airlift(**{"cohorts.a.people": 60, "cohorts.b.people": 0})
    assert flights(s)[0] == (4.0, "uk", {"a": 60})
    own = s.with_overrides({"fleets.uk.departure.min_load_fraction": 0.5})
    assert flights(own)[0] == (2.0, "uk", {"a": 60})
    # the fleet's rule takes the keys it does not give from the scenario's
    rule = own.fleets["uk"].departure.over(own.departure)
    assert (rule.min_load_fraction, rule.max_ground_hours, rule.wait_for_base_room) == (0.5, 3.0, True)


def test_a_fleet_max_ground_hours_replaces_the_scenarios():
    # nobody to board: the aircraft waits its own 1.5 h on the ground (landed 1: leaves 2:30)
    s = airlift(**{"cohorts.a.people": 0, "cohorts.b.people": 0, "fleets.uk.departure": {"max_ground_hours": 1.5}})
    assert flights(s)[0] == (2.5, "uk", {})


# -- the checks ------------------------------------------------------------------------------------
def problems(**overrides: Any) -> list[tuple[str, str]]:
    raw = tomllib.loads(AIRLIFT)
    raw.update(overrides)
    with pytest.raises(ScenarioError) as e:
        validate(raw, "boarding-rules")
    return e.value.problems


def test_unknown_operators_and_cohorts_are_errors():
    found = problems(boarding={"france": [{"from": 0, "cohorts": ["a"]}], "uk": [{"from": 0, "cohorts": ["c"]}]})
    assert ("boarding.france", "unknown operator 'france' (known: germany, uk)") in found
    assert ("boarding.uk.0.cohorts", "unknown cohort 'c' (known: a, b)") in found


def test_steps_in_increasing_time_each_cohort_once_no_other_keys():
    found = problems(boarding={"uk": [{"from": 1, "cohorts": ["a"]}, {"from": 1, "cohorts": ["b"]}]})
    assert found == [("boarding.uk.1.from", "not after the step before it (steps are in increasing time)")]
    (field, message), *_ = problems(boarding={"uk": [{"from": 0, "cohorts": ["a", "b", "a"]}]})
    assert field == "boarding.uk.0" and "cohorts named more than once: a" in message
    (field, message), *_ = problems(boarding={"uk": [{"from": 0, "cohort": ["a"]}]})
    assert field.startswith("boarding.uk.0") and ("cohort" in field or "cohort" in message)
    (field, _), *_ = problems(boarding={"uk": []})
    assert field == "boarding.uk"


def test_a_fleet_departure_takes_only_departure_keys():
    raw = tomllib.loads(AIRLIFT)
    raw["fleets"]["uk"]["departure"] = {"min_load_fraction": 1.5, "max_ground": 2}
    with pytest.raises(ScenarioError) as e:
        validate(raw, "boarding-rules")
    fields = [f for f, _ in e.value.problems]
    assert "fleets.uk.departure.min_load_fraction" in fields and "fleets.uk.departure.max_ground" in fields


def test_who_is_held_back_follows_the_steps_in_force():
    # Only b (1000 people) is inside; uk boards only a until 6:30, then b too. Until then nobody
    # inside waits for any aircraft (no carrier: held back by nothing it has); from then the b
    # that the cycling aircraft cannot seat are held back by the fleet.
    s = airlift({"uk": [{"from": 0, "cohorts": ["a"]}, {"from": hours(6.5), "cohorts": ["b"]}]}, **{"cohorts.a.people": 0})
    world = World(s, seed=3, replication=0)
    world.run()
    fleet = world.summary()["hourly"]["limit_fleet_hours"]  # cumulative people-hours, sampled on the hour
    assert fleet[7] == 0 and fleet[8] > 0
    without = World(airlift(**{"cohorts.a.people": 0}), seed=3, replication=0)
    without.run()
    assert without.summary()["hourly"]["limit_fleet_hours"][7] > 0
