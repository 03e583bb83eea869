"""A naive version of the same airlift, for comparison only: one SimPy process per person.

Simplified where the real model's detail does not change the cost much: each person is a
process that waits for its family's arrival time, requests a lane at its family's gate
(``PriorityResource``, cohort priority), gives up after its patience, is screened for its share
of the family's screening time, and enters the holding area (a ``Container``); aircraft are
processes that cycle to their first staging base and take passengers one ``Store.get`` at a
time. No retries after giving up, no lane schedules, closures or staging limits. It uses the
real model's population (same families, same arrival times), so the workloads are comparable.
"""

from __future__ import annotations

import math

import numpy as np
import simpy

from sim.description.scenario import Scenario
from sim.model.population import Population
from sim.model.streams import Streams
from sim.model.timeline import Timeline


def run_naive(scenario: Scenario, seed: int = 0) -> dict[str, float]:
    tl = Timeline.from_scenario(scenario)
    streams = Streams(seed, 0)
    pop = Population(scenario, tl, streams)
    reached = pop.reach_gates(tl.end)
    env = simpy.Environment()
    gates = {n: simpy.PriorityResource(env, capacity=max(g.lanes, 1)) for n, g in scenario.gates.items()}
    gate_names = list(scenario.gates)
    holding = simpy.Store(env, capacity=scenario.airfield.holding_capacity_people)
    rng = streams("naive")
    counts = {"evacuated": 0, "gave_up": 0, "screened": 0}

    def person(arrive: float, gate: str, prio: int, screen_h: float, patience_h: float):
        yield env.timeout(arrive)
        if env.now >= tl.gate_close:
            return
        with gates[gate].request(priority=prio) as req:
            got = yield req | env.timeout(patience_h)
            if req not in got:
                counts["gave_up"] += 1
                return
            yield env.timeout(screen_h)
        counts["screened"] += 1
        yield holding.put(prio)

    for g in range(pop.n_groups):
        t = reached[g]
        if not math.isfinite(t):
            continue
        c = pop.cohort[g]
        name = pop.cohort_names[c]
        admitted = [n for n in gate_names if "any" in scenario.gates[n].admits or name in scenario.gates[n].admits]
        gate = admitted[int(rng.integers(len(admitted)))]
        spec = scenario.gates[gate]
        n = pop.size[g]
        family_screen_h = (spec.screening_base_min + spec.screening_per_person_min * n) / 60 * pop.screen_e[g]
        patience_h = pop.cohorts[c].patience.mean_hours * float(rng.exponential())
        for _ in range(n):
            env.process(person(t, gate, pop.cohorts[c].priority, family_screen_h / n, patience_h))

    def aircraft(fleet):
        base = scenario.bases[fleet.bases[0]]
        while env.now + base.flight_hours < tl.last_landing:
            yield env.timeout(base.flight_hours + fleet.ground_fixed_min / 60)
            deadline = env.now + scenario.departure.max_ground_hours
            load = 0
            while load < fleet.seats and env.now < deadline:
                get = holding.get()
                got = yield get | env.timeout(deadline - env.now)
                if get in got:
                    load += 1
                    yield env.timeout(fleet.boarding_min_per_person / 60)
                else:
                    get.cancel()
            counts["evacuated"] += load
            yield env.timeout(base.flight_hours + fleet.turnaround_hours)

    for f in scenario.fleets.values():
        for _ in range(f.count):
            env.process(aircraft(f))
    env.run(until=tl.end)
    return {k: float(v) for k, v in counts.items()} | {"people": float(np.sum(pop.size_arr))}
