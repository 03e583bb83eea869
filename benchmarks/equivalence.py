"""Same model, other engine: headline metrics of two engines compared as distributions.

    python benchmarks/equivalence.py [--rev 4f87fbc] [-n 120] [--seed 1]

Runs ``-n`` replications of the reference scenario with the engine of git revision ``--rev``
(its source tree, extracted with ``git archive``) and with this tree, in two processes side by
side. The two engines draw their random numbers differently, so single runs differ; what must
agree is the distribution of each headline metric. For each, a two-sample Kolmogorov-Smirnov
test and a Mann-Whitney U test (scipy), with the means and their difference.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
HEADLINE = [
    "evacuated_total",
    "stranded_never_arrived",
    "stranded_at_gates_in_crowd",
    "stranded_at_gates_gave_up",
    "stranded_airfield",
    "departures_total",
    "mean_load_factor",
    "gate_wait_mean_hours",
    "gate_wait_p95_hours",
    "peak_day_evacuated",
    "holding_peak_people",
]
# (the limit.* metrics are an account of the run, not the run: their causes and unit changed, see docs/model.md)

CHILD = r"""
import json, sys
import sim
from sim.experiments.replications import run_replication
seed, n = int(sys.argv[1]), int(sys.argv[2])
s = sim.load_scenario()
rows = []
for r in range(n):
    out = run_replication(s, seed, r)
    rows.append(out["metrics"] if isinstance(out, dict) else out.metrics)  # engines before 0e26356 return a dict
print(json.dumps(rows))
"""


def extract(rev: str, into: Path) -> Path:
    """The source tree of ``rev`` in ``into`` (from the git repository this file is in)."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def start(src: Path, seed: int, n: int) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(src))
    cmd = [sys.executable, "-c", CHILD, str(seed), str(n)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=tempfile.gettempdir())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", default="4f87fbc", help="the other engine (a git revision)")
    ap.add_argument("-n", type=int, default=120, help="replications of each engine")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--base-src", type=Path, help="use this source tree as the other engine instead of extracting --rev")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base_src = args.base_src or extract(args.rev, Path(tmp))
        procs = [start(base_src, args.seed, args.n), start(ROOT, args.seed, args.n)]
        base, new = (json.loads(p.communicate()[0]) for p in procs)
    print(f"reference scenario, {args.n} replications each (seed {args.seed}): engine {args.rev} vs this tree")
    print(f"{'metric':<28} {'mean ' + args.rev:>14} {'mean new':>12} {'diff %':>7} {'KS p':>7} {'MW p':>7}")
    for m in HEADLINE:
        a = np.array([r[m] for r in base])
        b = np.array([r[m] for r in new])
        ks = stats.ks_2samp(a, b).pvalue
        mw = stats.mannwhitneyu(a, b).pvalue if np.ptp(np.concatenate([a, b])) > 0 else 1.0
        diff = 100 * (b.mean() - a.mean()) / a.mean() if a.mean() else 0.0
        print(f"{m:<28} {a.mean():>14,.1f} {b.mean():>12,.1f} {diff:>+7.2f} {ks:>7.3f} {mw:>7.3f}")


if __name__ == "__main__":
    main()
