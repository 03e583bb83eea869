"""The ``airlift calibrate`` command: arguments and printing only (the method is sim.analysis.calibration)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_calibrate_parser", "cmd_calibrate"]


def add_calibrate_parser(sub: Any) -> None:
    k = sub.add_parser("calibrate", help="find every setting of the [uncertain] parameters consistent with the targets")
    k.add_argument("scenario", nargs="?", help="scenario with an [uncertain] table (default: the Kabul 2021 reference)")
    k.add_argument("--targets", metavar="FILE", help="a TOML file with a [targets] table (default: the scenario's own)")
    k.add_argument("--budget", type=int, default=240, metavar="N", help="model runs in all (default 240)")
    k.add_argument("--replications", "-n", type=int, default=2, metavar="N", help="replications per point (default 2)")
    k.add_argument("--waves", type=int, default=3, metavar="W", help="waves of history matching (default 3)")
    k.add_argument("--seed", type=int, default=0, metavar="S")
    k.add_argument("--set", action="append", metavar="KEY=VALUE", help="fixed overrides of the scenario")
    k.add_argument("--vary", action="append", metavar="KEY=LO:HI", help="add or override an uncertain parameter (uniform)")
    k.add_argument(
        "--vary-only", action="store_true", help="search only the --vary parameters (the [uncertain] table is ignored)"
    )
    k.add_argument("--out", metavar="DIR", help="output folder (default: out/calibrate-<scenario name>)")
    k.add_argument("--workers", type=int, metavar="N", help="local worker processes (or Dask LocalCluster workers)")
    k.add_argument("--dask", metavar="ADDRESS", help="a dask.distributed scheduler address, or 'local'")
    k.add_argument("--resume", action="store_true", help="complete an interrupted calibration in DIR")
    k.set_defaults(func=cmd_calibrate)


def _command(args: argparse.Namespace) -> str:
    parts = ["airlift calibrate"] + ([args.scenario] if args.scenario else [])
    if args.targets:
        parts.append(f"--targets {args.targets}")
    parts += [f"--budget {args.budget}", f"-n {args.replications}", f"--waves {args.waves}", f"--seed {args.seed}"]
    parts += [f"--set {x}" for x in args.set or []] + (["--vary-only"] if args.vary_only else [])
    parts += [f"--vary {x}" for x in args.vary or []]
    return " ".join(parts)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sim.analysis.calibration import calibrate, load_targets
    from sim.cli.arguments import overrides_of
    from sim.description.scenario import ScenarioError, load_scenario
    from sim.description.uncertainty import parameters, parse_ranges
    from sim.experiments.replications import make_executor

    scenario = load_scenario(args.scenario, overrides_of(args.set))
    targets = load_targets(args.targets) if args.targets else dict(scenario.targets)
    if args.waves < 1:
        raise ScenarioError("--waves", [("", "must be at least 1")])
    extra = parse_ranges(args.vary or [])
    if args.vary_only and not extra:
        raise ScenarioError("--vary-only", [("", "give the parameters to search with --vary KEY=LO:HI")])
    params = parameters(scenario, extra)
    if args.vary_only:  # in the order the --vary options were given
        by_name = {p.name: p for p in params}
        params = [by_name[key] for key in extra]
    out = Path(args.out) if args.out else Path("out") / f"calibrate-{scenario.name}"
    bars: list[Any] = []

    def on_wave(k: int, tasks: int) -> None:
        for b in bars:
            b.close()
        bars.append(tqdm(total=tasks, desc=f"wave {k}", unit="run", file=sys.stderr, leave=False, delay=1.0))

    try:
        with make_executor(args.workers, args.dask) as ex:
            c = calibrate(
                scenario,
                targets,
                params,
                out,
                budget=args.budget,
                replications=args.replications,
                seed=args.seed,
                waves=args.waves,
                executor=ex,
                resume=args.resume,
                progress=lambda n: bars[-1].update(n) if bars else None,
                on_wave=on_wave,
                command=_command(args),
            )
    finally:
        for b in bars:
            b.close()
    print_calibration(c.report)
    print(f"\n  written to {out}/ (ensemble.csv, calibration.json, runs.csv, parameters.png, targets.png, wave_*/)")
    return 0 if c.consistent else 1


def _n(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:.3g}"


def print_calibration(r: dict[str, Any]) -> None:
    """The printed summary of ``calibration.json``."""
    p = print
    p(f"{r['scenario']}: {r['method']}")
    p(f"  {r['runs']} runs ({r['points']} points x {r['replications']} replications), seed {r['seed']}, cut-off {r['cutoff']:g}")
    for w in r["waves_run"]:
        frac = w.get("non_implausible_fraction")
        screen = f"; {frac:.1%} of {w['candidates']:,} candidates not implausible" if frac is not None else " (Latin hypercube)"
        p(f"    wave {w['wave']}: {w['points']} points{screen}")
    diag = r["diagnostics"]
    p("")
    p(f"  {'target':<34}{'observed':>12}{'sd':>9}   {'plausible settings predict':<28}{'all runs':<22}")
    for name, t in diag["targets"].items():
        ens = f"{_n(t['ensemble_low'])} to {_n(t['ensemble_high'])}"
        runs = f"{_n(t['runs_low'])} to {_n(t['runs_high'])}"
        p(f"  {name:<34}{_n(t['observed']):>12}{_n(t['sd']):>9}   {ens:<28}{runs:<22}")
    p("")
    p(f"  {'parameter':<44}{'prior':>20}{'plausible':>20}")
    for name, q in diag["parameters"].items():
        prior = f"{_n(q['prior_low'])} to {_n(q['prior_high'])}"
        plaus = f"{_n(q['plausible_low'])} to {_n(q['plausible_high'])}" if q["plausible_low"] is not None else "none"
        p(f"  {name:<44}{prior:>20}{plaus:>20}")
    p("")
    if r["consistent"]:
        p(f"  {r['plausible_settings']} plausible settings of {r['points']} points run")
        return
    c = r["conflicts"]
    p(f"  NO SETTING in the declared ranges is consistent with all {len(diag['targets'])} targets.")
    if c["unreachable"]:
        p(f"  no setting matches even alone: {', '.join(c['unreachable'])}")
    for a, b in c["incompatible_pairs"]:
        p(f"  conflict: {a} and {b} are each matched by some runs, never by the same one")
    misses = ", ".join(f"{k} (implausibility {v:g})" for k, v in c["best_run_misses"].items())
    p(f"  the closest run misses: {misses}")
