"""Properties that hold for every scenario: nobody is lost, no capacity is ever exceeded."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.model.world import World

CLASS_OF = {"us_c17": "heavy", "de_a400m": "medium"}


@st.composite
def scenario_overrides(draw):
    days = draw(st.floats(0.4, 3.0))
    o = {
        "security.end": days,
        "security.gate_close_lead_hours": draw(st.floats(0, 12)),
        "security.last_landing_lead_hours": draw(st.floats(0, 6)),
        "security.last_takeoff_lead_hours": draw(st.floats(0, 2)),
        "retrograde.troops": draw(st.integers(0, 800)),
        "retrograde.start": draw(st.floats(0, days)),
        "airfield.holding_capacity_people": draw(st.integers(15, 3000)),
        "airfield.surge_when_holding_over": draw(st.floats(0, 1)),
        "ramp.spots.heavy": draw(st.integers(1, 4)),
        "ramp.spots.medium": draw(st.integers(1, 3)),
        "departure.min_load_fraction": draw(st.floats(0, 1)),
        "departure.max_ground_hours": draw(st.floats(0.1, 6)),
        "departure.wait_for_base_room": draw(st.booleans()),
        "bases.qatar.capacity_people": draw(st.integers(0, 3000)),
        "bases.qatar.outflow_per_day": draw(st.floats(0, 5000)),
        "bases.tashkent.capacity_people": draw(st.integers(0, 3000)),
        "fleets.us_c17.count": draw(st.integers(0, 4)),
        "fleets.us_c17.seats": draw(st.integers(20, 400)),
        "fleets.de_a400m.count": draw(st.integers(0, 3)),
        "fleets.de_a400m.boarding_min_per_person": draw(st.floats(0, 0.5)),
        "gates.abbey.lanes": draw(st.integers(0, 5)),
        "gates.abbey.screening_distribution": draw(st.sampled_from(["exponential", "fixed", "lognormal"])),
        "gates.north.lanes": draw(st.integers(0, 3)),
        "cohorts.us_citizens.people": draw(st.integers(0, 3000)),
        "cohorts.us_citizens.priority": draw(st.integers(1, 3)),
        "cohorts.us_citizens.patience.mean_hours": draw(st.floats(0.2, 48)),
        "cohorts.afghans.people": draw(st.integers(0, 6000)),
        "cohorts.afghans.patience.retry_probability": draw(st.floats(0, 1)),
        "cohorts.afghans.group_size.mean": draw(st.floats(1, 8)),
    }
    disruptions = []
    for kind, target in draw(
        st.lists(
            st.sampled_from(
                [
                    ("gate_closure", "abbey"),
                    ("gate_closure", "*"),
                    ("runway_closure", "runway"),
                    ("arrival_factor", "afghans"),
                    ("lanes", "north"),
                    ("staging_capacity", "qatar"),
                    ("staging_outflow", "tashkent"),
                ]
            ),
            max_size=4,
        )
    ):
        a = draw(st.floats(0, days))
        d = {"kind": kind, "start": a, "end": draw(st.floats(a, days + 1)), "target": target}
        if kind != "gate_closure" and kind != "runway_closure":
            d["value"] = draw(st.floats(0, 1)) if kind == "arrival_factor" else float(draw(st.integers(0, 2000)))
        disruptions.append(d)
    o["disruptions"] = disruptions
    return o


def max_overlap(intervals):
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals], key=lambda e: (e[0], e[1]))
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(o=scenario_overrides(), seed=st.integers(0, 2**32 - 1))
def test_nobody_lost_and_no_capacity_exceeded(small, o, seed):
    s = small.with_overrides(o)
    w = World(s, seed, 0)
    w.run()
    out = w.summary()
    m = out["metrics"]
    total = 0
    for c, cohort in s.cohorts.items():
        parts = [m[f"cohort.{c}.{k}"] for k in ("evacuated", "stranded_never_arrived", "stranded_at_gates", "stranded_airfield")]
        assert sum(parts) == cohort.people, c
        assert m[f"cohort.{c}.evacuated"] + m[f"cohort.{c}.stranded"] == cohort.people
        total += cohort.people
    assert m["population_total"] == total == m["evacuated_total"] + m["stranded_total"]
    assert m["stranded_total"] == m["stranded_never_arrived"] + m["stranded_at_gates"] + m["stranded_airfield"]
    # evacuated people are exactly those on departures
    assert m["evacuated_total"] == sum(d.evacuees for d in w.records.departures)
    # holding capacity
    assert w.holding.peak_people <= s.airfield.holding_capacity_people
    # runway: movements never overlap
    mv = sorted((a, b) for a, b, _, _ in w.records.movements)
    assert all(nxt[0] >= cur[1] - 1e-9 for cur, nxt in zip(mv, mv[1:]))
    # ramp: aircraft on the ground never exceed the spots of their class
    for cls, spots in s.ramp.spots.items():
        ground = [(d.landed, d.takeoff) for d in w.records.departures if CLASS_OF[d.fleet] == cls]
        assert max_overlap(ground) <= spots
    # nothing on the ground after the end, and nothing takes off after the last take-off time
    assert m["aircraft_on_ground_at_end"] == 0
    assert all(d.takeoff <= w.timeline.last_takeoff + 1e-9 for d in w.records.departures)
    # nothing lands after the last landing time
    assert all(a <= w.timeline.last_landing + 1e-9 for a, _, k, _ in w.records.movements if k == "landing")
    # staging bases never hold more than their capacity when people arrive (unless a disruption cut
    # the capacity below what was already there or committed)
    cut = {d["target"] for d in o["disruptions"] if d["kind"] == "staging_capacity"}
    for name, b in w.bases.items():
        assert b.committed >= 0
        if name not in cut:
            assert b.peak_over_capacity <= 1e-9, name
