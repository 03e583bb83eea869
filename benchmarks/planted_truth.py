"""A planted truth: calibrate a scenario to its own outputs and see whether the truth is covered.

    python benchmarks/planted_truth.py scenarios/kabul_2021.toml --out planted \\
        [--budget 6000] [-n 2] [--waves 3] [--seed 7] [--truth-seed 11] [--workers 2] [--resume]

The truth is the scenario's own value of every ``[uncertain]`` parameter. One replication of the
scenario at the truth (seed ``--truth-seed``) gives every target of its ``[targets]`` table its
value: the same metrics and dated series, read the same way, each with the spread the scenario
states for the published figure (its ``sd``; for a range or a one-sided bound the equivalent sd)
and the same discrepancy. ``airlift calibrate`` then runs on those targets (in ``OUT/cal``), and
the script reports, per parameter, the truth against the ensemble's range and its central 90%
(5th to 95th percentile), and writes ``OUT/planted.json``. History matching keeps every setting
it cannot rule out, so every true value should lie inside the ensemble's range, and the
parameters the targets do not pin down should keep most of their prior range.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim.analysis.target_values import dated_values  # noqa: E402
from sim.description.overrides import ABSENT, raw_value  # noqa: E402
from sim.description.uncertainty import Parameter, parameters  # noqa: E402
from sim.experiments.ensemble import load_ensemble  # noqa: E402
from sim.experiments.replications import run_replication  # noqa: E402

KINDS = ("value", "sd", "low", "high", "min", "max")


def truth_of(scenario: sim.Scenario) -> dict[str, float]:
    """The scenario's own value of every uncertain parameter (each must lie inside its range)."""
    raw = scenario.model_dump(mode="python", by_alias=True)
    truth = {}
    for p in parameters(scenario):
        value = raw_value(raw, p.name)
        if isinstance(value, dt.datetime):  # a time parameter ranges over days after the start
            value = scenario.hours(value) / 24
        if value is ABSENT or not p.low <= float(value) <= p.high:
            raise SystemExit(f"{p.name}: the scenario's value {value} is not inside its range {p.low:g} to {p.high:g}")
        truth[p.name] = float(value)
    return truth


def planted_targets(scenario: sim.Scenario, seed: int) -> dict[str, dict[str, Any]]:
    """The scenario's targets with values read from one replication of it: each keeps its series,
    times, basis and discrepancy, and gets the sd of the published figure it stands for."""
    targets = dict(scenario.targets)
    result = run_replication(scenario, seed, 0)
    values = {
        **{n: float(result.metrics[n]) for n, t in targets.items() if not t.dated},
        **dated_values(targets, scenario, result),
    }
    out = {}
    for name, t in targets.items():
        fields = {k: v for k, v in t.model_dump(mode="python", by_alias=True, exclude_none=True).items() if k not in KINDS}
        sd = max(math.sqrt(t.variance), 0.01 * abs(values[name]), 1.0)
        out[name] = {**fields, "value": values[name], "sd": sd, "source": f"planted: one replication at the truth, seed {seed}"}
    return out


def toml_value(v: Any) -> str:
    """A TOML literal for a number, string or datetime."""
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(float(v)) if isinstance(v, float) else str(v)


def write_targets(path: Path, targets: dict[str, dict[str, Any]]) -> None:
    lines = ["[targets]"]
    for name, fields in targets.items():
        body = ", ".join(f'"{k}" = {toml_value(v)}' for k, v in fields.items())
        lines.append(f'"{name}" = {{ {body} }}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def coverage(
    params: Sequence[Parameter], truth: dict[str, float], ensemble: Sequence[Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Per parameter: the truth, its prior range, the ensemble's range and central 90%, and whether
    each holds the truth."""
    out = {}
    for p in params:
        name, value = p.name, truth[p.name]
        xs = np.array([float(s[name]) for s in ensemble])
        lo, hi = float(xs.min()), float(xs.max())
        p5, p95 = (float(q) for q in np.percentile(xs, [5, 95]))
        out[name] = {
            "truth": value,
            "prior_width": p.high - p.low,
            "low": lo,
            "high": hi,
            "p5": p5,
            "p95": p95,
            "in_range": lo <= value <= hi,
            "in_90": p5 <= value <= p95,
        }
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget", type=int, default=6000)
    ap.add_argument("-n", type=int, default=2)
    ap.add_argument("--waves", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--truth-seed", type=int, default=11)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args()
    from sim.cli.main import main as airlift

    scenario = sim.load_scenario(args.scenario)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    truth = truth_of(scenario)
    write_targets(out / "targets.toml", planted_targets(scenario, args.truth_seed))
    command = [args.scenario, "--targets", str(out / "targets.toml"), "--budget", str(args.budget), "-n", str(args.n)]
    command += ["--waves", str(args.waves), "--seed", str(args.seed), "--workers", str(args.workers), "--out", str(out / "cal")]
    code = airlift(["calibrate", *command, *(["--resume"] if args.resume else [])])
    if code not in (0, 1):
        return code
    ensemble = load_ensemble(out / "cal" / "ensemble.csv").settings
    table = coverage(parameters(scenario), truth, ensemble)
    in_range = sum(c["in_range"] for c in table.values())
    in_90 = sum(c["in_90"] for c in table.values())
    report = {
        "scenario": scenario.name,
        "settings": len(ensemble),
        "parameters": len(table),
        "in_range": in_range,
        "in_central_90": in_90,
    }
    (out / "planted.json").write_text(json.dumps({**report, "command": command, "coverage": table}, indent=1), encoding="utf-8")
    for name, c in table.items():
        miss = max(c["low"] - c["truth"], c["truth"] - c["high"])
        flag = "" if c["in_range"] else f"   OUTSIDE by {miss:g} ({miss / c['prior_width']:.1%} of the prior range)"
        print(f"{name:<55}{c['truth']:>12g}  {c['low']:>12g} to {c['high']:<12g}{flag}")
    print(f"\n{len(ensemble)} settings; the truth inside the ensemble's range for {in_range} of {len(table)} parameters, "
          f"inside its central 90% for {in_90}")  # fmt: skip
    return 0 if in_range == len(table) else 1


if __name__ == "__main__":
    raise SystemExit(main())
