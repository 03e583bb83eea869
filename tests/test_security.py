"""The security clock: deadlines, and disruptions compiled into schedules."""

from __future__ import annotations

import math

import pytest

from sim.model.security import Steps, Timeline


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
    assert tl.access_factor("afghans", 6) == 0.5 and tl.access_factor("afghans", 13) == 0.25
    assert tl.access_factor("us_citizens", 13) == 0.5 and tl.access_factor("us_citizens", 30) == 1.0
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
