"""The ``airlift calibrate`` command: arguments and printing only (the method is sim.analysis.calibration)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli import arguments
from sim.cli.parents import Parents
from sim.cli.printing import Progress
from sim.description.errors import ScenarioError

if TYPE_CHECKING:
    from sim.description.scenario import Scenario
    from sim.description.uncertainty import Parameter

__all__ = ["add_parser", "cmd", "print_calibration"]


def add_parser(subparsers: Any, parents: Parents) -> None:
    parser = subparsers.add_parser(
        "calibrate",
        help="find every setting of the [uncertain] parameters consistent with the targets",
        parents=[
            parents.scenario,
            parents.replications(2),
            parents.seed(0),
            parents.overrides,
            parents.ranges,
            parents.out,
            parents.executor,
            parents.resume,
        ],
        epilog="DIR defaults to out/calibrate-<scenario name>.",
    )
    parser.add_argument(
        "--targets",
        type=arguments.existing_file,
        metavar="FILE",
        help="a TOML file with a [targets] table (default: the scenario's own)",
    )
    parser.add_argument("--budget", type=int, default=240, metavar="N", help="model runs in all (default 240)")
    parser.add_argument(
        "--waves", type=arguments.at_least_one, default=3, metavar="W", help="waves of history matching (default 3)"
    )
    parser.add_argument(
        "--vary-only", action="store_true", help="search only the --vary parameters (the [uncertain] table is ignored)"
    )
    parser.set_defaults(func=cmd)


def _command(args: argparse.Namespace) -> str:
    """The command line kept in the calibration's provenance, with every value in effect (defaults too)."""
    parts = ["airlift calibrate"] + ([args.scenario] if args.scenario else [])
    if args.targets:
        parts.append(f"--targets {args.targets}")
    parts += [f"--budget {args.budget}", f"-n {args.replications}", f"--waves {args.waves}", f"--seed {args.seed}"]
    parts += [f"--set {x}" for x in args.set or []] + (["--vary-only"] if args.vary_only else [])
    parts += [f"--vary {x}" for x in args.vary or []]
    return " ".join(parts)


def _parameters(args: argparse.Namespace, scenario: Scenario) -> list[Parameter]:
    """The parameters to search: the scenario's ``[uncertain]`` ones and ``--vary``'s, or (``--vary-only``)
    ``--vary``'s alone, in the order given."""
    from sim.description.uncertainty import parameters, parse_ranges

    extra = parse_ranges(arguments.distinct_keys(args.vary))
    if args.vary_only and not extra:
        raise ScenarioError("--vary-only", [("", "give the parameters to search with --vary KEY=LO:HI")])
    params = parameters(scenario, extra)
    if args.vary_only:
        by_name = {p.name: p for p in params}
        params = [by_name[key] for key in extra]
    return params


def cmd(args: argparse.Namespace) -> int:
    from sim.analysis.calibration import calibrate, load_targets
    from sim.description.loading import load_scenario
    from sim.experiments.executors import make_executor
    from sim.outputs.folders import claim_folder

    scenario = load_scenario(args.scenario, arguments.overrides_of(args.set))
    targets = load_targets(args.targets) if args.targets else dict(scenario.targets)
    params = _parameters(args, scenario)
    out = arguments.output_folder(args.out, Path("out") / f"calibrate-{scenario.name}")
    with claim_folder(out, args.command_line, resumable=True, kind="calibration"):
        with Progress("wave", "run", leave=False, delay=1.0) as bar:
            with make_executor(args.workers, args.dask) as executor:
                c = calibrate(
                    scenario,
                    targets,
                    params,
                    out,
                    budget=args.budget,
                    replications=args.replications,
                    seed=args.seed,
                    waves=args.waves,
                    executor=executor,
                    resume=args.resume,
                    progress=bar.update,
                    on_wave=lambda wave, tasks: bar.start(tasks, f"wave {wave}"),
                    command=_command(args),
                )
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
