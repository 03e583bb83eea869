"""Same runs, other engine: do two engines give identical replications, record for record?

    python benchmarks/same_runs.py --rev 953b07a [-n 3] [--seed 7] [--except-holding]

For a change meant only to make the engine faster, distributions agreeing is not enough: every
replication must be the same. This runs ``-n`` replications of the reference scenario and of the
small test scenario with the engine of git revision ``--rev`` (its source tree, extracted with
``git archive``) and with this tree, each in its own process, and compares, per replication, a
hash of everything a replication leaves behind: its metrics, hourly columns, every record
(departures, runway movements, screenings, boardings, arrivals at staging, waits) and the final
whereabouts of every family. Exit code 0 if all are identical, 1 otherwise.

``--except-holding`` leaves out the gate-hours stopped by a full holding area (the metric
``limit.holding_hours``, the hourly column ``limit_holding_hours``, the gate stops, and the
``holding`` rows of the waits of engines that sampled them once an hour): engines with
``records.gate_stops`` record the stops exactly, as they happen, so those numbers differ from
the sampled ones by design while everything else must not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from equivalence import extract

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import hashlib, json, sys
import numpy as np
import sim
from sim.model.world import World
seed, n, small, holding = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
out = {}
for name, path in (("reference", None), ("small", small)):
    s = sim.load_scenario(path)
    for r in range(n):
        w = World(s, seed, r)
        w.run()
        summary = w.summary()
        metrics = {k: v for k, v in summary["metrics"].items() if holding or k != "limit.holding_hours"}
        h = hashlib.sha256(json.dumps(metrics, sort_keys=True, default=float).encode())
        for k, v in sorted(summary["hourly"].items()):
            if holding or k != "limit_holding_hours":
                h.update(k.encode() + np.ascontiguousarray(v).tobytes())
        for field in ("departures", "movements", "screened", "boardings", "arrivals"):
            h.update(repr(list(getattr(w.records, field))).encode())
        h.update(repr([x for x in w.records.waits if holding or x.cause != "holding"]).encode())
        if holding:
            h.update(repr(list(getattr(w.records, "gate_stops", []))).encode())
        h.update(repr([int(x) for x in w.population.status]).encode())
        out[f"{name} replication {r}"] = h.hexdigest()[:16]
print(json.dumps(out))
"""


def hashes(src: Path, seed: int, n: int, holding: bool = True) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(src))
    small = str(ROOT / "tests" / "data" / "small.toml")
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(seed), str(n), small, "1" if holding else "0"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tempfile.gettempdir(),
    )
    return dict(json.loads(out.stdout))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", default="953b07a", help="the other engine (a git revision)")
    ap.add_argument("-n", type=int, default=3, help="replications of each scenario")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--except-holding", action="store_true", help="leave out the gate-hours stopped by a full holding area")
    args = ap.parse_args()
    holding = not args.except_holding
    with tempfile.TemporaryDirectory() as tmp:
        base = hashes(extract(args.rev, Path(tmp)), args.seed, args.n, holding)
    new = hashes(ROOT, args.seed, args.n, holding)
    same = 0
    for key in base:
        verdict = "identical" if base[key] == new.get(key) else "DIFFERENT"
        same += verdict == "identical"
        print(f"{key:<24} {args.rev} {base[key]}  this tree {new.get(key)}  {verdict}")
    print(f"{same} of {len(base)} replications identical")
    return 0 if same == len(base) else 1


if __name__ == "__main__":
    sys.exit(main())
