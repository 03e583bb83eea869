"""The relief mechanism: a dated relief of any resource compiles into schedules that change
the capacity only while it is in force, and changes nothing when dated outside the window."""

from __future__ import annotations

import hashlib
import math
from typing import Any

import pytest

import sim
from sim.description.errors import ScenarioError
from sim.model.timeline import Steps, Timeline, more_crews, more_units
from sim.model.world import World


def relief(resource: str, start: float, end: float | None = None, fraction: float = 0.5, target: str = "*") -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "relief", "resource": resource, "target": target, "fraction": fraction, "start": start}
    if end is not None:
        out["end"] = end
    return out


def with_reliefs(s: sim.Scenario, *reliefs: dict[str, Any]) -> sim.Scenario:
    kept = [d.model_dump(mode="python", by_alias=True) for d in s.disruptions]
    return s.with_overrides({"disruptions": [*kept, *reliefs]})


def test_whole_units_rounded_up_with_at_least_one_more() -> None:
    assert more_units(3, 0.5) == 5  # 4.5 rounded up
    assert more_units(4, 0.5) == 6
    assert more_units(10, 0.1) == 11  # no float noise past the whole number
    assert more_units(1, 0.1) == 2  # at least one more
    assert more_units(0, 0.5) == 0  # nothing to add to
    assert more_units(7, 0.0) == 7
    assert more_crews(1, 0.5) == 2  # at least one more crew
    assert more_crews(4, 0.5) == 6
    assert more_crews(3, 0.1) == 4


def values_at(steps: Steps, times: list[float]) -> list[float]:
    return [steps(t) for t in times]


PROBES = [0.0, 5.0, 9.99, 10.0, 15.0, 19.99, 20.0, 30.0]
"""Times (hours) around a relief in force over [10, 20)."""


@pytest.mark.parametrize(
    "resource, schedule_of",
    [
        ("lanes", lambda tl: tl.gate_lanes["abbey"]),
        ("aircraft", lambda tl: tl.fleet_count["us_c17"]),
        ("crews", lambda tl: tl.crews["de_a400m"]),
        ("holding", lambda tl: tl.holding_capacity),
        ("staging", lambda tl: tl.base_capacity["qatar"]),
        ("runway", lambda tl: tl.runway_speedup),
        ("spots", lambda tl: tl.spots["heavy"]),
    ],
)
def test_a_relief_changes_its_schedule_only_while_in_force(small: sim.Scenario, resource: str, schedule_of: Any) -> None:
    before = values_at(schedule_of(Timeline.from_scenario(small)), PROBES)
    relieved = with_reliefs(small, relief(resource, 10 / 24, 20 / 24))
    after = values_at(schedule_of(Timeline.from_scenario(relieved)), PROBES)
    inside = [10.0 <= t < 20.0 for t in PROBES]
    for was, now, during in zip(before, after, inside, strict=True):
        assert (now > was) if during else (now == was)


def test_staging_relief_adds_outflow_and_room(small: sim.Scenario) -> None:
    tl = Timeline.from_scenario(with_reliefs(small, relief("staging", 0.0, 1.0, fraction=0.25, target="qatar")))
    assert tl.base_outflow["qatar"](12.0) == pytest.approx(1500 * 1.25 / 24)
    assert tl.base_capacity["qatar"](12.0) == 3750
    assert tl.base_capacity["tashkent"](12.0) == 2000  # another target
    assert tl.base_outflow["qatar"](30.0) == pytest.approx(1500 / 24)


def test_runway_separation_divided_while_in_force(small: sim.Scenario) -> None:
    tl = Timeline.from_scenario(with_reliefs(small, relief("runway", 0.5, 1.0, fraction=0.5)))
    assert tl.runway_speedup(6.0) == 1.0
    assert tl.runway_speedup(18.0) == 1.5


def test_reliefs_in_force_together_add_up(small: sim.Scenario) -> None:
    tl = Timeline.from_scenario(with_reliefs(small, relief("lanes", 0.0, 1.0, 0.5), relief("lanes", 0.5, 1.0, 0.5)))
    assert [tl.gate_lanes["abbey"](t) for t in (6.0, 18.0, 30.0)] == [5.0, 6.0, 3.0]


def run_digest(s: sim.Scenario, replication: int = 0) -> str:
    """A hash of everything a replication leaves behind: metrics, hourly columns, every record."""
    w = World(s, 3, replication)
    w.run()
    summary = w.summary()
    h = hashlib.sha256(repr(sorted(summary["metrics"].items())).encode())
    for k, v in sorted(summary["hourly"].items()):
        h.update(k.encode() + v.tobytes())
    for name in ("departures", "movements", "screened", "boardings", "arrivals", "waits", "gate_stops"):
        h.update(repr(list(getattr(w.records, name))).encode())
    h.update(repr([int(x) for x in w.population.status]).encode())
    return h.hexdigest()


@pytest.mark.parametrize("resource", ["lanes", "aircraft", "crews", "holding", "staging", "runway", "spots"])
def test_a_relief_outside_the_window_changes_nothing_record_for_record(small: sim.Scenario, resource: str) -> None:
    after_end = with_reliefs(small, relief(resource, 2.5, 3.0))
    before_start = with_reliefs(small, relief(resource, -2.0, -1.0))
    assert run_digest(after_end) == run_digest(small) == run_digest(before_start)


def test_extra_aircraft_fly_only_while_the_relief_is_in_force(small: sim.Scenario) -> None:
    s = with_reliefs(small, relief("aircraft", 0.0, 1.0, fraction=0.5, target="us_c17"))
    w = World(s, 3, 0)
    w.run()
    extra = [a for a in w.aircraft if a.fleet == "us_c17"][4:]
    assert len(extra) == 2
    landed = [d.landed for d in w.records.departures if d.aircraft in {a.ident for a in extra}]
    assert landed and max(landed) < 24.0


def test_a_fleet_growing_after_a_relief_keeps_its_own_aircraft(small: sim.Scenario) -> None:
    growing = small.with_overrides({"fleets.us_c17.count_schedule": [{"from": 1.0, "value": 6}]})
    w = World(with_reliefs(growing, relief("aircraft", 0.0, 0.5, fraction=0.5, target="us_c17")), 3, 0)
    periods = [(a.available_from, a.last_landing) for a in w.aircraft if a.fleet == "us_c17"]
    own, extra = periods[:6], periods[6:]
    assert sum(1 for joins, _ in own if joins >= 24.0) == 2  # the fleet still grows to 6 on day 1
    assert len(extra) == 2 and all(joins == 0.0 and leaves == 12.0 for joins, leaves in extra)


def test_more_holding_room_lets_stopped_gates_restart_at_once(small: sim.Scenario) -> None:
    tight = small.with_overrides({"airfield.holding_capacity_people": 100})
    stopped = World(tight, 3, 0)
    stopped.run()
    # a stop of both gates across 22 h (the full holding area) without relief
    assert {g.gate for g in stopped.records.gate_stops if g.start < 22.0 < g.end} == {0, 1}
    w = World(with_reliefs(tight, relief("holding", 22 / 24, 30 / 24, fraction=3.0)), 3, 0)
    w.run()
    assert w.holding.capacity == 100  # back after the relief
    assert {g.gate for g in w.records.gate_stops if math.isclose(g.end, 22.0)} == {0, 1}


@pytest.mark.parametrize(
    "bad, field",
    [
        (relief("lanes", 0.0, target="nowhere"), "disruptions.1.target"),
        (relief("crews", 0.0, target="abbey"), "disruptions.1.target"),
        (relief("fuel", 0.0), "disruptions.1.resource"),
        (relief("lanes", 0.0, fraction=0.0), "disruptions.1.fraction"),
        (relief("lanes", 1.0, 0.5), "disruptions.1.end"),
    ],
)
def test_bad_reliefs_are_refused_naming_the_field(small: sim.Scenario, bad: dict[str, Any], field: str) -> None:
    with pytest.raises(ScenarioError) as e:
        with_reliefs(small, bad)
    assert field in str(e.value)
