"""The ``airlift explain`` command: what limited the airlift, measured by relief. Each resource class
relaxed by a fraction over the whole window and one local day at a time, paired with the scenario as
it is; the people gained printed by day and written to its output folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli import arguments
from sim.cli.parents import Parents
from sim.cli.printing import Progress
from sim.cli.report import write_report_if_asked

if TYPE_CHECKING:
    from sim.analysis.relief import Explanation
    from sim.description.scenario import Scenario

__all__ = ["add_parser", "cmd", "explain_folder"]

DEFAULT_REPLICATIONS = 4
EPILOG = """\
For each resource class (lanes per gate, aircraft and crews per fleet, holding room, room and outflow
per staging base, runway separation, spots per size class) one relief by the fraction --relief, on every
target, over the whole window and over each local day alone: more lanes, aircraft, holding room,
staging room and outflow, and spots (times 1 + fraction, rounded up, at least one more), ceil(fraction x
crews) more crews per aircraft (at least one), runway separation divided by 1 + fraction. Every
relaxation runs the same replication indices as the scenario unrelaxed (common random numbers): the
gain is paired, replication by replication, with a 95%% t interval. That is 1 + 7 x (days + 1) runs of
-n replications each. DIR defaults to out/explain-<scenario>-<hash of the scenario, overrides,
relief, replications, seed and ensemble>."""


def _relief(text: str) -> float:
    """``--relief``: a number above 0, at most 100."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 100:
        raise argparse.ArgumentTypeError(f"{text}: a fraction above 0 (0.5: half as much again), at most 100")
    return value


def add_parser(subparsers: Any, parents: Parents) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="what limited the airlift: people gained by relaxing each resource, over the window and day by day",
        parents=[
            parents.scenario,
            parents.replications(DEFAULT_REPLICATIONS),
            parents.seed(0),
            parents.overrides,
            parents.out,
            parents.plots,
            parents.executor,
            parents.ensemble,
            parents.report,
        ],
        epilog=EPILOG,
    )
    parser.add_argument(
        "--relief",
        type=_relief,
        default=0.5,
        metavar="FRACTION",
        help="how much more of each resource (default: %(default)s, half as much again)",
    )
    parser.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    from sim.analysis.relief import RESOURCES, explain, local_days
    from sim.description.loading import load_scenario
    from sim.experiments.ensemble import as_ensemble
    from sim.experiments.executors import make_executor
    from sim.outputs.folders import claim_folder

    overrides = arguments.overrides_of(args.set)
    scenario = load_scenario(args.scenario, overrides)
    ensemble = as_ensemble(args.ensemble, scenario, keep=["disruptions"])
    out = arguments.output_folder(args.out, explain_folder(args, scenario))
    runs = 1 + len(RESOURCES) * (len(local_days(scenario)) + 1)
    with claim_folder(out, args.command_line):
        print(f"{scenario.name}: {len(RESOURCES)} resources relaxed by {args.relief:g}, over the window and each of")
        print(f"  {len(local_days(scenario))} local days: {runs} runs of {args.replications} replications, seed {args.seed}")
        if ensemble is not None:
            k = len(ensemble)
            print(f"  ensemble: {ensemble.source}, {k} plausible settings; replication r runs setting r mod {k}")
        with Progress("replications", "rep", delay=1.0, leave=False) as bar, make_executor(args.workers, args.dask) as executor:
            bar.start(runs * args.replications)
            result = explain(
                scenario, args.replications, args.relief, args.seed, executor=executor, ensemble=ensemble, progress=bar.update
            )
        print("")
        print_gains(result)
        written = _write(args, out, result, overrides)
        print(f"\n  written to {out}/ ({', '.join(written)})")
        write_report_if_asked(args, out)
        return 0


def print_gains(result: Explanation) -> None:
    """The relief worth most on each day, then the whole table of mean gains (resource by day)."""
    for line in result.sentences():
        print(f"  {line}")
    totals = result.totals()
    table = totals.pivot(index="resource", columns="day", values="gain_mean").reindex(
        index=list(dict.fromkeys(totals["resource"]))
    )
    table = table[[c for c in dict.fromkeys(totals["day"])]]
    print("")
    print(table.round(0).to_string(float_format=lambda v: f"{v:+,.0f}"))


def _write(args: argparse.Namespace, out: Path, result: Explanation, overrides: dict[str, Any]) -> list[str]:
    from sim.outputs.explain_files import write_explain

    extra = arguments.provenance(args, args.scenario, overrides)
    figures = result.figures() if not args.no_plots else {}
    tables = {"explain": result.totals(), "explain_cohorts": result.by_cohort()}
    return [p.name for p in write_explain(result.summary(), tables, figures, out, extra)]


def explain_folder(args: argparse.Namespace, scenario: Scenario) -> Path:
    """``out/explain-<scenario>-<hash>``: the hash (8 hex digits) of the scenario file, overrides,
    relief, replications, seed and ensemble, so each question gets its own folder."""
    from sim.description.loading import resolve_path, slug

    what = {
        "scenario": str(resolve_path(args.scenario)),
        "set": list(args.set or []),
        "relief": args.relief,
        "replications": args.replications,
        "seed": args.seed,
        "ensemble": args.ensemble,
    }
    return arguments.question_folder(f"explain-{slug(scenario.name)}", what)
