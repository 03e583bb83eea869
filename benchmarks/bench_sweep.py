"""Benchmark: replications per second of the reference scenario on 1 and 2 local workers, and
the Dask overhead per task.

    python benchmarks/bench_sweep.py [--tasks 16] [--dask]

Runs the same sweep (the reference scenario, ``--tasks`` replications of one point) serially,
on a local process pool of 2 workers, and (with --dask) on a 2-worker Dask LocalCluster, and
reports replications per second and the speed-up. The Dask overhead per task is measured with
tiny tasks (a replication of a one-hour scenario), against the same tasks run serially.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import sim
from sim.experiments import sweeps


def timed(spec: sweeps.SweepSpec, workers: int | None = None, dask: str | None = None) -> float:
    with sweeps.make_executor(workers, dask) as ex, tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        res = sweeps.run_sweep(spec, Path(tmp), executor=ex)
        elapsed = time.perf_counter() - t
        assert not res.failures
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=16)
    ap.add_argument("--dask", action="store_true", help="also measure a Dask LocalCluster")
    args = ap.parse_args()
    spec = sweeps.SweepSpec(None, {"security.end": [17]}, replications=args.tasks, seed=0)
    serial = timed(spec)
    print(f"reference scenario, {args.tasks} replications")
    print(f"  serial          {args.tasks / serial:6.2f} replications/s")
    pool = timed(spec, workers=2)
    print(f"  2 local workers {args.tasks / pool:6.2f} replications/s   speed-up {serial / pool:.2f}x (includes pool start)")
    if args.dask:
        d = timed(spec, workers=2, dask="local")
        print(f"  Dask, 2 workers {args.tasks / d:6.2f} replications/s   speed-up {serial / d:.2f}x (includes cluster start)")
        tiny = sim.load_scenario("tests/data/small.toml" if Path("tests/data/small.toml").exists() else None)
        tiny_spec = sweeps.SweepSpec(None, {"security.end": [0.04]}, replications=200, seed=0, base=tiny)
        s_tiny = timed(tiny_spec)
        with sweeps.make_executor(2, "local") as ex, tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            sweeps.run_sweep(tiny_spec, Path(tmp), executor=ex)
            d_tiny = time.perf_counter() - t
        per_task = (d_tiny - s_tiny / 2) / 200
        print(
            f"  Dask overhead   {per_task * 1000:6.1f} ms per task (200 tiny tasks: {d_tiny:.2f} s on Dask, "
            f"{s_tiny:.2f} s serial, cluster start excluded)"
        )


if __name__ == "__main__":
    main()
