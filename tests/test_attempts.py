"""The work per family is bounded: a family joins a gate crowd at most ``max_attempts`` times."""

from __future__ import annotations

import sim
from sim.model.world import World


def _impatient_during_a_long_closure(small: sim.Scenario, max_attempts: int | None) -> sim.Scenario:
    """3-minute patience, certain retries every 30 minutes, every gate closed for 58 of 60 days."""
    o: dict[str, object] = {
        "security.end": 60.0,
        "disruptions": [{"kind": "gate_closure", "target": "*", "start": 0.5, "end": 58.5}],
    }
    for c in small.cohorts:
        o[f"cohorts.{c}.patience.mean_hours"] = 0.05
        o[f"cohorts.{c}.patience.retry_probability"] = 1.0
        o[f"cohorts.{c}.patience.retry_after_hours"] = 0.5
        if max_attempts is not None:
            o[f"cohorts.{c}.patience.max_attempts"] = max_attempts
    return small.with_overrides(o)


def test_visits_are_bounded_and_everyone_is_accounted_for(small: sim.Scenario) -> None:
    s = _impatient_during_a_long_closure(small, max_attempts=None)
    bound = s.cohorts["afghans"].patience.max_attempts
    world = World(s, seed=3, replication=0)
    world.run()
    visits = world.perimeter.visits()
    assert max(visits) == bound  # the bound is reached (without it: ~2,800 visits a family)
    joins = sum(visits)
    assert world.perimeter.events <= 2 * joins + len(world.records.screened) + 100  # no event per give-up
    m = world.summary()["metrics"]
    assert m["evacuated_total"] + m["stranded_total"] == sum(c.people for c in s.cohorts.values())


def test_a_smaller_bound_means_fewer_visits(small: sim.Scenario) -> None:
    few = World(_impatient_during_a_long_closure(small, max_attempts=3), seed=3, replication=0)
    few.run()
    assert max(few.perimeter.visits()) == 3
    m = few.summary()["metrics"]
    assert m["evacuated_total"] + m["stranded_total"] == sum(c.people for c in small.cohorts.values())
