"""Benchmark: this engine against an earlier one (default: commit e01af24), side by side.

    python benchmarks/bench_engines.py [--rev e01af24] [--pairs 5] [--repeat 2] [--scales 1,4,10]

The earlier engine is the source tree of ``--rev`` (extracted with ``git archive``), run with the
same interpreter and libraries. Each measurement is a fresh process running ``--repeat``
replications of the reference scenario scaled whole (people and every capacity) after one
warm-up replication; the two engines alternate, in alternating order, ``--pairs`` times, so that
the load of a shared machine falls on both alike. Reports the median seconds per replication of
each (wall clock and CPU time of the process: on a shared machine CPU time is the steadier), the
median of the per-pair ratios, the perimeter's events, and peak memory (max RSS).
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
k, repeat = float(sys.argv[1]), int(sys.argv[2])
s = sim.load_scenario()
if k != 1:
    s = scaled(s, k)
times, cpu = [], []
for r in range(repeat + 1):
    t, c = time.perf_counter(), time.process_time()
    with paused_collector():
        w = World(s, 1, r)
        w.run()
        w.summary()
        events, people = w.perimeter.events, w.population.people()
        del w
    if r:  # the first replication warms up (imports, compiled code loaded from its cache)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
print(json.dumps({"times": times, "cpu": cpu, "events": events, "people": people,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", default="e01af24", help="the earlier engine (a git revision)")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--scales", default="1,4", help="comma-separated population scales (whole airlift)")
    ap.add_argument("--base-src", type=Path, help="use this source tree as the earlier engine instead of extracting --rev")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base_src = args.base_src or extract(args.rev, Path(tmp))
        print(f"engine {args.rev} vs this tree; {args.pairs} interleaved pairs of {args.repeat} replications each")
        print(
            f"{'scale':>6} {'people':>10} {'wall base':>10} {'wall new':>9} {'ratio':>6} {'cpu base':>9} {'cpu new':>8} "
            f"{'ratio':>6} {'events base':>12} {'events new':>11} {'MB base':>8} {'MB new':>7}"
        )
        for scale in (float(x) for x in args.scales.split(",")):
            base: list[dict] = []
            new: list[dict] = []
            wall_ratios, cpu_ratios = [], []
            for i in range(args.pairs):
                order = [(base_src, base), (ROOT, new)]
                for src, acc in order if i % 2 == 0 else order[::-1]:
                    acc.append(measure(src, scale, args.repeat))
                wall_ratios.append(statistics.median(base[-1]["times"]) / statistics.median(new[-1]["times"]))
                cpu_ratios.append(statistics.median(base[-1]["cpu"]) / statistics.median(new[-1]["cpu"]))

            def med(ms: list[dict], key: str) -> float:
                return statistics.median(t for m in ms for t in m[key])

            print(
                f"{scale:>5g}x {new[0]['people']:>10,} {med(base, 'times'):>10.3f} {med(new, 'times'):>9.3f} "
                f"{statistics.median(wall_ratios):>5.2f}x {med(base, 'cpu'):>9.3f} {med(new, 'cpu'):>8.3f} "
                f"{statistics.median(cpu_ratios):>5.2f}x {base[0]['events']:>12,} {new[0]['events']:>11,} "
                f"{max(m['maxrss_mb'] for m in base):>8.0f} {max(m['maxrss_mb'] for m in new):>7.0f}",
                flush=True,
            )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
