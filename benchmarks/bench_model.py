"""Benchmark: one replication of the reference scenario at 1x, 2x and 4x its population, and
the same airlift with one SimPy process per person.

    python benchmarks/bench_model.py [--repeat 3] [--naive-scale 0.25]

Each size runs in a fresh subprocess so that its peak memory (max RSS) is its own. Two series:
the population alone scaled (larger crowds at the same gates: more families give up and retry, so
events per person grow), and the whole airlift scaled (lanes, fleets, ramp, holding, bases and
runway with the population: the same dynamics, bigger). Reports seconds per replication (median
of --repeat), simulated events (SimPy events plus perimeter events) per person and per second,
peak memory, and the cost per person relative to 1x (about 1.0 means linear); then the speed-up
over the per-person design measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
import simpy
import sim
from sim.model.world import World
scale, repeat, naive, whole = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4] == "1"
sys.path.insert(0, "benchmarks")
from scaling import scaled
s = scaled(sim.load_scenario(), scale, whole)
times, events = [], 0
for r in range(repeat):
    if naive:
        from naive_per_person import run_naive
        counted = [0]
        orig = simpy.Environment.step
        def step(self, counted=counted, orig=orig):
            counted[0] += 1
            return orig(self)
        simpy.Environment.step = step
        t = time.perf_counter(); out = run_naive(s, seed=r); times.append(time.perf_counter() - t)
        simpy.Environment.step = orig
        events = counted[0]
        people = out["people"]
    else:
        t = time.perf_counter()
        w = World(s, 0, r)
        counted = [0]
        orig = w.env.step
        def step(counted=counted, orig=orig):
            counted[0] += 1
            return orig()
        w.env.step = step
        w.run(); w.summary()
        times.append(time.perf_counter() - t)
        events = counted[0] + w.perimeter.events
        people = w.population.people()
print(json.dumps({"times": times, "events": events, "people": people,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(scale: float, repeat: int, naive: bool = False, whole: bool = False) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(scale), str(repeat), "1" if naive else "0", "1" if whole else "0"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--naive-scale", type=float, default=1.0, help="population scale for the per-person version (it is slow)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    for whole in (False, True):
        what = "population and every capacity scaled" if whole else "population scaled, capacities as in the reference"
        print(f"\n{what}")
        print(
            f"{'scale':>6} {'people':>9} {'s/replication':>14} {'events':>10} {'events/person':>14} "
            f"{'events/s':>10} {'peak MB':>8} {'s/person vs 1x':>15}"
        )
        base = None
        for scale in (1, 2, 4):
            m = measure(scale, args.repeat, whole=whole)
            sec = statistics.median(m["times"])
            per_person = sec / m["people"]
            base = base or per_person
            print(
                f"{scale:>5}x {m['people']:>9,.0f} {sec:>14.3f} {m['events']:>10,} {m['events'] / m['people']:>14.3f} "
                f"{m['events'] / sec:>10,.0f} {m['maxrss_mb']:>8.0f} {per_person / base:>15.2f}"
            )
    naive = measure(args.naive_scale, 1, naive=True)
    fast = measure(args.naive_scale, args.repeat)
    nsec, fsec = naive["times"][0], statistics.median(fast["times"])
    print(
        f"\nper-person SimPy version at {args.naive_scale}x ({naive['people']:,.0f} people): {nsec:.2f} s, "
        f"{naive['events']:,} SimPy events, peak {naive['maxrss_mb']:.0f} MB"
    )
    print(f"this model at the same size: {fsec:.3f} s, {fast['events']:,} events, peak {fast['maxrss_mb']:.0f} MB")
    print(f"speed-up: {nsec / fsec:.1f}x   (total benchmark time {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
