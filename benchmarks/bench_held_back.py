"""Benchmark: the hourly account of people held back, against its rule written carrier by carrier.

    python benchmarks/bench_held_back.py [-n 3] [--repeat 10] [--scenario FILE]

Runs ``-n`` replications of the reference scenario (or ``--scenario``). At every hourly sample,
in the same process and on the same state, it times ``--repeat`` times each: the rule as the
recorder applied it until the account (``sim.model.held_back.held_back``, every carrier of every
cohort, each hour), and :meth:`HeldBackAccount.sample` (what the account keeps each hour, on fresh
accounts kept beside the replication's own). At the end of each replication it times
:meth:`HeldBackAccount.people` (the compiled loop over every sample) and checks that its numbers
are the rule's, float for float: the people held back at every sample and the people-hours up
to each, summed as the recorder of the rule summed them. Timed side by side on the same
samples, the two are compared under the same load. Prints microseconds a sample, milliseconds a
replication, and whether every number is the same (exit code 1 if not).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np

import sim
from sim.description.metric_catalog import LIMIT_CAUSES
from sim.model import held_back as hb
from sim.model.world import World


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=3, help="replications")
    ap.add_argument("--repeat", type=int, default=10, help="times each is run at each sample")
    ap.add_argument("--scenario", default=None, help="a scenario file (default: the reference)")
    args = ap.parse_args()
    scenario = sim.load_scenario(args.scenario)
    clock = time.perf_counter
    spent = {"rule": 0.0, "sample": 0.0, "people": 0.0}
    samples, different = 0, 0
    sample = hb.HeldBackAccount.sample

    for r in range(args.n):
        world = World(scenario, 1, r)
        pop = world.population
        priority = sorted(range(len(pop.cohorts)), key=lambda i: (pop.cohorts[i].priority, i))
        carriers = [[ac for ac in world.aircraft if i in ac.cohorts] for i in range(len(pop.cohorts))]
        shadows = [
            hb.HeldBackAccount(world.aircraft, [ac.cohorts for ac in world.aircraft], len(pop.cohorts), priority)
            for _ in range(args.repeat)
        ]
        by_rule: list[list[float]] = []

        def timed(
            account: hb.HeldBackAccount,
            t: float,
            *rest: Any,
            carriers=carriers,
            priority=priority,
            shadows=shadows,
            by_rule=by_rule,
        ) -> None:
            nonlocal samples
            c = clock()
            for _ in range(args.repeat):
                out = hb.held_back(t, rest[0], rest[1], rest[2], carriers, priority)
            d = clock()
            for shadow in shadows:
                sample(shadow, t, *rest)
            spent["rule"] += d - c
            spent["sample"] += clock() - d
            samples += 1
            by_rule.append(list(out.values()))
            sample(account, t, *rest)

        world._held_back.sample = lambda *a, acc=world._held_back: timed(acc, *a)  # type: ignore[method-assign]
        world.run()
        c = clock()
        people, hours = shadows[0].people()
        spent["people"] += clock() - c
        held, summed = [0.0] * len(LIMIT_CAUSES), []
        for row in by_rule:
            summed.append(list(held))
            held = [h + p for h, p in zip(held, row, strict=True)]
        same = people.tolist() == by_rule and hours.tolist() == summed and np.array_equal(world.records.held_back, hours)
        different += not same

    per_sample = {k: spent[k] / args.repeat / samples * 1e6 for k in ("rule", "sample")}
    hours_a_run = samples / args.n
    print(f"{samples} samples in {args.n} replications ({hours_a_run:.0f} a replication), each timed {args.repeat} times")
    rule_ms = per_sample["rule"] * hours_a_run / 1000
    print(f"  the rule, carrier by carrier:   {per_sample['rule']:8.2f} us a sample  {rule_ms:6.2f} ms a replication")
    people_ms = spent["people"] / args.n * 1000
    account_ms = per_sample["sample"] * hours_a_run / 1000 + people_ms
    print(
        f"  the account: sample             {per_sample['sample']:8.2f} us a sample  "
        f"+ people() {people_ms:.2f} ms = {account_ms:6.2f} ms a replication"
    )
    print(f"  {args.n - different} of {args.n} replications: every number the same")
    return 0 if different == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
