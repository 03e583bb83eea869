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
    parser.add_argument(
        "--ensemble-size",
        type=arguments.at_least_one,
        default=200,
        metavar="M",
        help="settings wanted in the ensemble: the final sample draws this many, and more rounds while fewer pass (default 200)",
    )
    parser.add_argument(
        "--cut-rank",
        type=arguments.at_least_one,
        default=2,
        metavar="K",
        help="early waves cut on the K-th largest implausibility (default 2; the last wave on the largest)",
    )
    parser.add_argument(
        "--discrepancy",
        type=float,
        default=0.05,
        metavar="R",
        help="model discrepancy of a target without its own, as a share of its value (default 0.05)",
    )
    parser.add_argument(
        "--until",
        metavar="DATETIME",
        help="only targets dated at or before this time (ISO datetime or days after start; end-of-run metrics: at the end)",
    )
    parser.set_defaults(func=cmd)


def _command(args: argparse.Namespace) -> str:
    """The command line kept in the calibration's provenance, with every value in effect (defaults too)."""
    parts = ["airlift calibrate"] + ([args.scenario] if args.scenario else [])
    if args.targets:
        parts.append(f"--targets {args.targets}")
    parts += [f"--budget {args.budget}", f"-n {args.replications}", f"--waves {args.waves}", f"--seed {args.seed}"]
    parts += [f"--ensemble-size {args.ensemble_size}", f"--cut-rank {args.cut_rank}", f"--discrepancy {args.discrepancy:g}"]
    parts += [f"--until {args.until}"] if args.until else []
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
    until = _until(args.until)
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
                    ensemble_size=args.ensemble_size,
                    cut_rank=args.cut_rank,
                    discrepancy=args.discrepancy,
                    until=until,
                    executor=executor,
                    resume=args.resume,
                    progress=bar.update,
                    on_wave=lambda stage, tasks: bar.start(tasks, stage),
                    command=_command(args),
                )
        print_calibration(c.report)
        files = "ensemble.csv, calibration.json, runs.csv, emulator_validation.csv, parameters.png, targets.png"
        print(f"\n  written to {out}/ ({files}, screening/, wave_*/, final_*/)")
        return 0 if c.consistent else 1


def _until(text: str | None) -> Any:
    """``--until``: a datetime (ISO) or days after the start, as a scenario writes a time."""
    if text is None:
        return None
    from pydantic import TypeAdapter, ValidationError

    from sim.description.times import TimeSpec

    value: float | str = text
    try:
        value = float(text)
    except ValueError:
        pass
    try:
        return TypeAdapter(TimeSpec).validate_python(value)
    except ValidationError:
        raise ScenarioError("--until", [(text, "expected an ISO datetime or a number of days after start")]) from None


def _n(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:.3g}"


# long: the printed summary, section by section as calibration.json holds them
def print_calibration(r: dict[str, Any]) -> None:
    """The printed summary of ``calibration.json``."""
    p = print
    p(f"{r['scenario']}: {r['method']}")
    p(f"  {r['runs']} runs ({r['points']} points x {r['replications']} replications), seed {r['seed']}, cut-off {r['cutoff']:g}")
    if r.get("until"):
        p(f"  targets dated at or before {r['until']} only: {len(r['targets'])} of them")
    scr = r["screening"]
    p(f"  screening: {len(scr['active_inputs'])} active inputs, {len(scr['inactive_inputs'])} inactive (drawn over their ranges)")
    if scr["capped_inputs"]:
        left_out = len(scr["capped_inputs"])
        p(f"    {left_out} more found active but left out (drawn over their ranges): no budget for 10 wave-0 points each")
    for w in r["stages_run"]:
        frac = w.get("non_implausible_fraction")
        how = f"; {frac:.2%} of {w['candidates']:,} candidates not implausible ({w['cut_on']})" if frac is not None else ""
        failed = [n for n, v in w.get("emulators", {}).items() if not v["passed"]]
        failed += [f"{n} (held out)" for n, v in w.get("emulators_held_out", {}).items() if not v["passed"]]
        bad = f"; emulators failing validation (not cutting): {', '.join(failed)}" if failed else ""
        p(f"    {w['stage']}: {w['points']} points{how}{bad}")
    checks, failures = r["emulators_validated"], r["emulators_failed"]
    p(f"  emulator checks (leave-one-out, and on the next wave's runs): {checks}, failed: {failures}")
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
    for warning in r["prior_limit_warnings"]:
        p(f"  WARNING: {warning}")
    if r["consistent"]:
        share = r["final_sample_share_passed"]
        rounds = r.get("final_sample_rounds", 1)
        in_rounds = f" in {rounds} rounds" if rounds > 1 else ""
        sampled = f"{r['final_sample_settings']} settings of the final sample{in_rounds}"
        passed = f" ({share:.0%} of the {sampled})" if share is not None else ""
        p(f"  {r['plausible_settings']} plausible settings{passed}, from the {r['ensemble_source']}")
        return
    c = r["conflicts"]
    p(f"  NO SETTING in the declared ranges is consistent with all {len(diag['targets'])} targets.")
    if c["unreachable"]:
        p(f"  no setting matches even alone: {', '.join(c['unreachable'])}")
    for a, b in c["incompatible_pairs"]:
        p(f"  conflict: {a} and {b} are each matched by some runs, never by the same one")
    misses = ", ".join(f"{k} (implausibility {v:g})" for k, v in c["best_run_misses"].items())
    p(f"  the closest run misses: {misses}")
