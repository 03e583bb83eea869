"""Benchmark: this engine against an earlier one (default: commit fdc83a6), side by side.

    python benchmarks/bench_engines.py [--rev fdc83a6] [--pairs 5] [--repeat 2] [--scales 1,4,10]

The earlier engine is the source tree of ``--rev`` (extracted with ``git archive``), run with the
same interpreter and libraries. Each measurement is a fresh process running ``--repeat``
replications of the reference scenario scaled whole (people and every capacity) after one
warm-up replication; the two engines alternate, in alternating order, ``--pairs`` times, so that
the load of a shared machine falls on both alike. Reports, per engine, the median seconds of a
replication (wall clock, and CPU time of the process: on a shared machine CPU time is the
steadier), and the CPU time of its run split in two: the people on the ground (the perimeter's
compiled loop and the families' draws it asks for, i.e. the time inside
``Perimeter.advance_to``) and the rest, the aircraft side (SimPy, the aircraft, the holding
area's Python side, the hourly recorder); each with the median of the per-pair ratios. Then the
events of a replication (SimPy's, counted in one more replication after the timed ones, and the
perimeter's own) and peak memory (the median over its processes of their max RSS: a process
that compiled the engine's loop first, as the earlier engine's fresh tree does once, peaks higher).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
sys.path.append(sys.argv[3])
import sim
from sim.model.perimeter import Perimeter
from sim.model.world import World
from scaling import scaled
try:  # as sim.experiments.replications.run_replication runs a world, where the engine has it
    from sim.model.world import paused_collector
except ImportError:
    from contextlib import nullcontext as paused_collector
try:
    from sim.model.world import reuse_freed_memory
    reuse_freed_memory()
except ImportError:
    pass
inside = [0.0]  # CPU seconds inside the perimeter (its compiled loop and the draws it asks for)
advance_to = Perimeter.advance_to
def timed_advance_to(self, t, clock=time.process_time):
    c = clock()
    advance_to(self, t)
    inside[0] += clock() - c
Perimeter.advance_to = timed_advance_to
k, repeat = float(sys.argv[1]), int(sys.argv[2])
s = sim.load_scenario()
if k != 1:
    s = scaled(s, k)
times, cpu, perimeter, aircraft = [], [], [], []
for r in range(repeat + 1):
    t, c = time.perf_counter(), time.process_time()
    with paused_collector():
        w = World(s, 1, r)
        inside[0], c_run = 0.0, time.process_time()
        w.run()
        run = time.process_time() - c_run
        w.summary()
        events, people = w.perimeter.events, w.population.people()
        del w
    if r:  # the first replication warms up (imports, compiled code loaded from its cache)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        perimeter.append(inside[0])
        aircraft.append(run - inside[0])
with paused_collector():  # one more, untimed: SimPy's events, counted as they are processed
    w = World(s, 1, repeat + 1)
    steps, step = [0], w.env.step
    def counted():
        steps[0] += 1
        step()
    w.env.step = counted
    w.run()
    del w
print(json.dumps({"times": times, "cpu": cpu, "perimeter": perimeter, "aircraft": aircraft, "events": events,
                  "simpy_events": steps[0], "people": people,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

MEASURES = (("times", "wall s"), ("cpu", "CPU s"), ("perimeter", "perimeter s"), ("aircraft", "aircraft side s"))


def measure(src: Path, scale: float, repeat: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(scale), str(repeat), str(ROOT / "benchmarks")],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, PYTHONPATH=str(src)),
        cwd=tempfile.gettempdir(),
    )
    return json.loads(out.stdout)


def extract(rev: str, into: Path) -> Path:
    """The source tree of ``rev`` in ``into`` (from the git repository this file is in)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def report(scale: float, base: list[dict], new: list[dict]) -> None:
    """One block per scale: each measure's medians and the median of its per-pair ratios."""

    def med(ms: list[dict], key: str) -> float:
        return statistics.median(t for m in ms for t in m[key])

    print(f"\n{scale:g}x ({new[0]['people']:,} people)")
    print(f"  {'':<16} {'base':>9} {'new':>9} {'base/new':>9}")
    for key, label in MEASURES:
        ratio = statistics.median(statistics.median(b[key]) / statistics.median(n[key]) for b, n in zip(base, new, strict=True))
        print(f"  {label:<16} {med(base, key):>9.3f} {med(new, key):>9.3f} {ratio:>8.2f}x")
    for key, label in (("simpy_events", "SimPy events"), ("events", "perimeter events")):
        print(f"  {label:<16} {base[0][key]:>9,} {new[0][key]:>9,} {base[0][key] / new[0][key]:>8.2f}x")
    peak = [statistics.median(m["maxrss_mb"] for m in ms) for ms in (base, new)]
    print(f"  {'peak MB':<16} {peak[0]:>9.0f} {peak[1]:>9.0f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", default="fdc83a6", help="the earlier engine (a git revision)")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--scales", default="1,4", help="comma-separated population scales (whole airlift)")
    ap.add_argument("--base-src", type=Path, help="use this source tree as the earlier engine instead of extracting --rev")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base_src = args.base_src or extract(args.rev, Path(tmp))
        print(f"engine {args.rev} (base) vs this tree (new); {args.pairs} interleaved pairs of {args.repeat} replications each")
        for scale in (float(x) for x in args.scales.split(",")):
            base: list[dict] = []
            new: list[dict] = []
            for i in range(args.pairs):
                order = [(base_src, base), (ROOT, new)]
                for src, acc in order if i % 2 == 0 else order[::-1]:
                    acc.append(measure(src, scale, args.repeat))
            report(scale, base, new)


if __name__ == "__main__":
    main()
