"""The security clock: deadlines, and disruptions compiled into schedules."""

from __future__ import annotations

import math

import pytest

from sim.model.access import Access
from sim.model.timeline import Steps, Timeline, windowed


def test_steps_value_and_integral():
    s = Steps(2.0, [(10.0, 5.0), (20.0, 1.0)])
    assert [s(0), s(9.99), s(10), s(19), s(25)] == [2.0, 2.0, 5.0, 5.0, 1.0]
    assert s.integral(5, 25) == pytest.approx(5 * 2 + 10 * 5 + 5 * 1)
    assert s.integral(7, 7) == 0


def test_disruptions_become_schedules(small):
    s = small.with_overrides(
        {
            "disruptions": [
                {"kind": "lanes", "target": "abbey", "start": 0.5, "end": 0.75, "value": 7},
                {"kind": "gate_closure", "target": "*", "start": 1.0, "end": 1.1},
                {"kind": "arrival_factor", "target": "afghans", "start": 0.25, "value": 0.5},
                {"kind": "arrival_factor", "target": "*", "start": 0.5, "end": 1.0, "value": 0.5},
                {"kind": "staging_capacity", "target": "qatar", "start": 0.5, "end": 1.0, "value": 100},
                {"kind": "staging_outflow", "target": "tashkent", "start": 1.0, "value": 240},
                {"kind": "runway_closure", "target": "runway", "start": 1.5, "end": 1.6},
            ],
            "gates.abbey.lane_schedule": [{"from": 1.5, "value": 9}],
        }
    )
    tl = Timeline.from_scenario(s)
    lanes = tl.gate_lanes["abbey"]
    assert [lanes(0), lanes(12), lanes(17.9), lanes(18), lanes(36)] == [3, 7, 7, 3, 9]
    assert not tl.gate_open("abbey", 24.5) and tl.gate_open("abbey", 26.5)
    assert not tl.gate_open("north", 26.5)  # its own closed window runs to 30 h
    access = Access(s, tl)  # cohorts: 0 us_citizens, 1 afghans (whose curfew runs 21:00-05:00)
    assert access.factor(1, 6) == 0.5 and access.factor(1, 13) == 0.25 and access.factor(1, 22) == 0.125
    assert access.factor(0, 13) == 0.5 and access.factor(0, 30) == 1.0
    assert tl.base_capacity["qatar"](13) == 100 and tl.base_capacity["qatar"](25) == 3000
    assert tl.base_outflow["tashkent"](23) == pytest.approx(2000 / 24) and tl.base_outflow["tashkent"](25) == 10
    assert tl.runway_closures == [(36.0, pytest.approx(38.4))]  # the list replaced the base one
    assert 12.0 in tl.change_times["abbey"] and 18.0 in tl.change_times["abbey"]


def test_deadlines_and_a_closure_over_the_end(small):
    tl = Timeline.from_scenario(small)
    assert tl.end == 48 and tl.gate_close == 44 and tl.last_landing == 45 and tl.last_takeoff == 47.5
    # one take-off per spot (3 + 2) at the longest separation (6 min) must fit before the last one
    assert tl.boarding_deadline == pytest.approx(47.5 - 5 * 6 / 60)
    closed = small.with_overrides({"disruptions": [{"kind": "runway_closure", "start": 1.9, "target": "runway"}]})
    tl2 = Timeline.from_scenario(closed)
    # the runway closes at 45.6 h until the end: the last take-off moves before it
    assert tl2.last_takeoff == pytest.approx(45.6) and tl2.boarding_deadline < 45.6
    assert math.isinf(Timeline.from_scenario(small.with_overrides({"retrograde.troops": 0})).retrograde_start)
    rel = small.with_overrides({"retrograde.start": None, "retrograde.hours_before_end": 6})
    assert Timeline.from_scenario(rel).retrograde_start == 42


# -- one rule for overlapping windows and schedules: the latest-starting active disruption wins;
#    the schedule applies when none is active --------------------------------------------------
def test_windowed_rule_on_a_timeline():
    # schedule: 10 until 5 h, then 20; disruption A (value 1) over [2, 8), B (value 2) over [4, 6)
    s = windowed(10.0, [(5.0, 20.0)], [(2.0, 8.0, 1.0), (4.0, 6.0, 2.0)])
    at = [0, 2, 4, 5, 6, 7.99, 8, 9]
    assert [s(t) for t in at] == [10, 1, 2, 2, 1, 1, 20, 20]


def test_windowed_rule_equal_starts_go_to_the_later_one_in_the_file():
    s = windowed(10.0, [], [(2.0, 8.0, 1.0), (2.0, 4.0, 2.0)])
    assert [s(1), s(2), s(4), s(8)] == [10, 2, 1, 10]


def test_outflow_disruption_before_the_start_is_in_force_from_the_start(small):
    s = small.with_overrides({"disruptions": [{"kind": "staging_outflow", "target": "qatar", "start": -0.5, "value": 0}]})
    tl = Timeline.from_scenario(s)
    assert tl.base_outflow["qatar"](0.0) == 0.0
    assert tl.base_outflow["qatar"].integral(0.0, s.end_hours) == 0.0


def test_schedule_step_inside_a_disruption_waits_for_its_end(small):
    # outflow 1500/day stepping to 3000/day on day 5, cut to 240/day from day 1.75 to 8.75
    o = {
        "security.end": 10.0,
        "bases.qatar.outflow_schedule": [{"from": 5.0, "value": 3000}],
        "disruptions": [{"kind": "staging_outflow", "target": "qatar", "start": 1.75, "end": 8.75, "value": 240}],
    }
    out = Timeline.from_scenario(small.with_overrides(o)).base_outflow["qatar"]
    assert [out(h * 24) * 24 for h in (1.0, 1.75, 5.0, 8.7, 8.75, 9.0)] == pytest.approx([1500, 240, 240, 240, 3000, 3000])


def test_overlapping_capacity_cuts(small):
    # qatar: cut to 500 from day 0.5 to 1.5 and to 100 from day 1.0 to 1.8: the later start wins
    # while active, outlives the earlier one, then the base value returns. tashkent: a short cut
    # inside a long one; when it ends the long one is back in force
    o = {
        "disruptions": [
            {"kind": "staging_capacity", "target": "qatar", "start": 1.0, "end": 1.8, "value": 100},
            {"kind": "staging_capacity", "target": "qatar", "start": 0.5, "end": 1.5, "value": 500},
            {"kind": "staging_capacity", "target": "tashkent", "start": 0.2, "end": 1.5, "value": 50},
            {"kind": "staging_capacity", "target": "tashkent", "start": 0.4, "end": 0.6, "value": 70},
        ]
    }
    tl = Timeline.from_scenario(small.with_overrides(o))
    cap = tl.base_capacity["qatar"]
    assert [cap(d * 24) for d in (0.4, 0.5, 1.0, 1.49, 1.5, 1.79, 1.8)] == [3000, 500, 100, 100, 100, 100, 3000]
    cap = tl.base_capacity["tashkent"]
    assert [cap(d * 24) for d in (0.1, 0.2, 0.4, 0.6, 1.49, 1.5)] == [2000, 50, 70, 50, 50, 2000]


def test_overlapping_lane_disruptions_and_schedule(small):
    o = {
        "gates.abbey.lane_schedule": [{"from": 0.5, "value": 5}],
        "disruptions": [
            {"kind": "lanes", "target": "abbey", "start": 0.25, "end": 1.0, "value": 1},
            {"kind": "lanes", "target": "abbey", "start": 0.4, "end": 0.6, "value": 0},
        ],
    }
    tl = Timeline.from_scenario(small.with_overrides(o))
    lanes = tl.gate_lanes["abbey"]
    assert [lanes(d * 24) for d in (0.1, 0.25, 0.4, 0.5, 0.6, 0.99, 1.0)] == [3, 1, 0, 0, 1, 1, 5]
    # the perimeter re-reads the lanes at every change
    assert {0.25 * 24, 0.4 * 24, 0.5 * 24, 0.6 * 24, 24.0} <= set(tl.change_times["abbey"])
