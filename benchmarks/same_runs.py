"""Same runs, other engine: do two engines give identical replications, record for record?

    python benchmarks/same_runs.py --rev 953b07a [-n 3] [--seed 7] [--random 0] [--except-holding] [--except-limits]

For a change meant only to make the engine faster, distributions agreeing is not enough: every
replication must be the same. This runs ``-n`` replications of the reference scenario and of the
small test scenario with the engine of git revision ``--rev`` (its source tree, extracted with
``git archive``) and with this tree, each in its own process, and compares, per replication, a
hash of everything a replication leaves behind: its metrics, hourly columns, every record
(departures, runway movements, screenings, boardings, arrivals at staging, waits) and the final
whereabouts of every family. Exit code 0 if all are identical, 1 otherwise. The per-operator
hourly columns (``evacuated_cumulative.<operator>``, ``departures_cumulative.<operator>``) are left
out of the hash: they are counted from the departure records, which are hashed, and engines older
than those columns do not have them. Metrics that are 0 are left out of the hash too, so that a
metric added for a feature the runs do not use (``did_not_travel_total`` in a scenario without
registered cohorts) is no difference; a metric that is 0 in one tree and not in the other still is.

``--random N`` also runs N random variations of the small scenario (the overrides and seeds of
the invariant tests, ``tests/test_invariants.py``, drawn the same way every time), one
replication each: closures, odd capacities, ties in time, one-spot ramps, zero-length ground
times; what the two named scenarios rarely meet.

``--except-holding`` leaves out the gate-hours stopped by a full holding area (the metric
``limit.holding_hours``, the hourly column ``limit_holding_hours``, the gate stops, and the
``holding`` rows of the waits of engines that sampled them once an hour): engines with
``records.gate_stops`` record the stops exactly, as they happen, so those numbers differ from
the sampled ones by design while everything else must not.

``--except-limits`` leaves out every ``limit.*`` metric and ``limit_*`` hourly column (what
limited throughput, an account of the run that does not change it): for a change of that
account only, the runs themselves (every record, the other metrics) must stay the same.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from equivalence import extract

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import hashlib, json, sys
import numpy as np
import sim
from sim.model.world import World
seed, n, small, holding, cases = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1", sys.argv[5]
limits = sys.argv[6] == "1"

def kept(name):
    if "." in name and name.split(".")[0] in ("evacuated_cumulative", "departures_cumulative"):
        return False  # per-operator hourly columns: derived from the departure records, hashed below
    if not limits and name.startswith(("limit.", "limit_")):
        return False
    return holding or name not in ("limit.holding_hours", "limit_holding_hours")

def digest(w):
    w.run()
    summary = w.summary()
    # a metric that is 0 is left out: one this tree adds for a feature the run does not use
    # (did_not_travel_total without registered cohorts) is then no difference
    metrics = {k: v for k, v in summary["metrics"].items() if kept(k) and v != 0}
    h = hashlib.sha256(json.dumps(metrics, sort_keys=True, default=float).encode())
    for k, v in sorted(summary["hourly"].items()):
        if kept(k):
            h.update(k.encode() + np.ascontiguousarray(v).tobytes())
    for field in ("departures", "movements", "screened", "boardings", "arrivals"):
        h.update(repr(list(getattr(w.records, field))).encode())
    h.update(repr([x for x in w.records.waits if holding or x.cause != "holding"]).encode())
    if holding:
        h.update(repr(list(getattr(w.records, "gate_stops", []))).encode())
    h.update(repr([int(x) for x in w.population.status]).encode())
    return h.hexdigest()[:16]

out = {}
for name, path in (("reference", None), ("small", small)):
    s = sim.load_scenario(path)
    for r in range(n):
        out[f"{name} replication {r}"] = digest(World(s, seed, r))
base = sim.load_scenario(small)
for i, (o, case_seed) in enumerate(json.load(open(cases))):
    try:
        w = World(base.with_overrides(o), case_seed, 0)
    except Exception as e:  # refused: the same refusal is the same run
        out[f"random scenario {i}"] = "refused " + type(e).__name__
        continue
    out[f"random scenario {i}"] = digest(w)
print(json.dumps(out))
"""


def random_cases(n: int) -> list[tuple[dict[str, Any], int]]:
    """``n`` overrides of the small scenario and seeds, as the invariant tests draw them (derandomized)."""
    if n <= 0:
        return []
    sys.path.insert(0, str(ROOT))
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.test_invariants import scenario_overrides

    cases: list[tuple[dict[str, Any], int]] = []

    @settings(max_examples=n, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(o=scenario_overrides(), seed=st.integers(0, 2**32 - 1))
    def collect(o: dict[str, Any], seed: int) -> None:
        cases.append((o, seed))

    collect()
    return cases[:n]


def hashes(src: Path, seed: int, n: int, cases: Path, holding: bool = True, limits: bool = True) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(src))
    small = str(ROOT / "tests" / "data" / "small.toml")
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(seed), str(n), small, "1" if holding else "0", str(cases), "1" if limits else "0"],
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
    ap.add_argument("--random", type=int, default=0, metavar="N", help="also N random variations of the small scenario")
    ap.add_argument("--except-holding", action="store_true", help="leave out the gate-hours stopped by a full holding area")
    ap.add_argument("--except-limits", action="store_true", help="leave out the limit.* metrics and limit_* hourly columns")
    args = ap.parse_args()
    holding, limits = not args.except_holding, not args.except_limits
    with tempfile.TemporaryDirectory() as tmp:
        cases = Path(tmp) / "cases.json"
        cases.write_text(json.dumps(random_cases(args.random), default=str))
        base = hashes(extract(args.rev, Path(tmp) / "src"), args.seed, args.n, cases, holding, limits)
        new = hashes(ROOT, args.seed, args.n, cases, holding, limits)
    same = 0
    for key in base:
        verdict = "identical" if base[key] == new.get(key) else "DIFFERENT"
        same += verdict == "identical"
        if not key.startswith("random") or verdict != "identical":
            print(f"{key:<24} {args.rev} {base[key]}  this tree {new.get(key)}  {verdict}")
    refused = sum(v.startswith("refused") for k, v in base.items() if k.startswith("random"))
    print(
        f"{same} of {len(base)} replications identical"
        + (f" ({args.random} random, {refused} of them refused)" if args.random else "")
    )
    return 0 if same == len(base) else 1


if __name__ == "__main__":
    sys.exit(main())
