"""The ``airlift plan`` command: the inverse question. The cheapest lever values (a later security end, more
lanes...) under which every goal holds with a stated probability, shown by a one-sided 95% lower bound;
its output folder, and the answer printed as one sentence with the table of candidates."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.analysis.planning import DEFAULT_FIRST, DEFAULT_MOST
from sim.cli import arguments
from sim.cli.parents import Parents
from sim.cli.printing import Progress
from sim.cli.report import write_report_if_asked

if TYPE_CHECKING:
    from sim.analysis.plan_runs import PlanQuestion, PlanResult
    from sim.description.scenario import Scenario

__all__ = ["add_parser", "cmd", "plan_folder"]

EPILOG = f"""\
Every candidate (one value of each lever) is screened with -n replications; then, cheapest first, an
undecided candidate has its replications doubled until its one-sided 95% bounds settle it (met, or
shown not to meet the target) or it reaches --max-replications (default {DEFAULT_MOST}). The first
candidate met is the choice; no candidate met is an answer too ("choice": null, exit 0). Every
candidate runs the same replication indices (common random numbers). With --ensemble, replication r
runs plausible setting r mod K and counts are rounded up to multiples of K. DIR defaults to
out/plan-<scenario>-<hash of goals, levers, costs, probability and overrides>."""


def add_parser(subparsers: Any, parents: Parents) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="the least a lever must be for goals to hold with a stated probability (the inverse question)",
        parents=[
            parents.scenario,
            parents.replications(DEFAULT_FIRST, f"{DEFAULT_FIRST}; here the first block every candidate is screened with"),
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
        "--goal",
        action="append",
        required=True,
        metavar="EXPR",
        help="a goal over metric names and numbers, e.g. 'cohort.siv.evacuated >= 50000'; several are all required",
    )
    parser.add_argument(
        "--probability",
        type=arguments.fraction,
        required=True,
        metavar="P",
        help="the probability the goals must hold with, shown by a one-sided 95%% lower confidence bound",
    )
    parser.add_argument(
        "--lever", action="append", required=True, metavar="KEY=LO..HI[:STEP]", help="a scenario key and its values to try"
    )
    parser.add_argument(
        "--cost", action="append", metavar="KEY=PER_UNIT", help="cost of one unit of a lever above its lowest value (default 1)"
    )
    parser.add_argument(
        "--max-replications",
        type=arguments.at_least_one,
        default=DEFAULT_MOST,
        metavar="N",
        help="most replications of one candidate (default: %(default)s)",
    )
    parser.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    from sim.analysis.plan_runs import PlanQuestion
    from sim.analysis.planning import parse_cost
    from sim.description.loading import load_scenario
    from sim.experiments.executors import make_executor
    from sim.outputs.folders import claim_folder

    overrides = arguments.overrides_of(args.set)
    scenario = load_scenario(args.scenario, overrides)
    costs = dict(parse_cost(x) for x in args.cost or [])
    question = PlanQuestion.of(scenario, args.goal, args.probability, args.lever, costs, args.ensemble)
    out = arguments.output_folder(args.out, plan_folder(args, scenario))
    with claim_folder(out, args.command_line):
        _print_question(question, args)
        with Progress("replications", "rep", delay=1.0, leave=False) as bar, make_executor(args.workers, args.dask) as executor:
            result = question.answer(
                replications=args.replications,
                max_replications=args.max_replications,
                seed=args.seed,
                executor=executor,
                progress=bar.update,
                on_batch=bar.start,
            )
        print(result.sentence())
        print("")
        print_candidates(result)
        written = _write(args, out, result, overrides)
        print(f"\n  written to {out}/ ({', '.join(written)})")
        write_report_if_asked(args, out)
        return 0


def _print_question(question: PlanQuestion, args: argparse.Namespace) -> None:
    levers = ", ".join(f"{lv.key} ({len(lv.values)} values)" for lv in question.levers)
    count = 1
    for lv in question.levers:
        count *= len(lv.values)
    print(f"{question.scenario.name}: {count} candidate{'s' if count != 1 else ''} over {levers}, seed {args.seed}")
    print(f"  every goal must hold with probability {question.probability:g}: {' and '.join(g.text for g in question.goals)}")
    print(f"  screen {args.replications} replications each, undecided ones doubled up to {args.max_replications}")
    if question.ensemble is not None:
        e = question.ensemble
        print(f"  ensemble: {e.source}, {len(e)} plausible settings; replication r runs setting r mod {len(e)}")
    print("")


def print_candidates(result: PlanResult) -> None:
    """One row per candidate, cheapest first: lever values, cost, estimate, bounds, replications, verdict."""
    keys = [lv.key for lv in result.levers]
    header = "".join(f"{k:>22}" for k in keys) + f"{'cost':>9}{'probability':>13}{'bounds':>15}{'runs':>7}  verdict"
    print(f"  {header}")
    for row in result.candidate_rows():
        values = "".join(f"{row['levers'][k]:>22g}" for k in keys)
        bounds = f"{row['probability_low']:.2f}–{row['probability_high']:.2f}"
        mark = "  <- choice" if row["chosen"] else ""
        print(
            f"  {values}{row['cost']:>9g}{row['probability']:>13.2f}{bounds:>15}{row['replications']:>7}  {row['verdict']}{mark}"
        )
    n = result.replications
    print(f"  ({n:,} replications in all; bounds one-sided at {result.confidence:.0%} over every look at every candidate)")


def _write(args: argparse.Namespace, out: Path, result: PlanResult, overrides: dict[str, Any]) -> list[str]:
    from sim.outputs.plan_files import write_plan

    extra = arguments.provenance(args, args.scenario, overrides)
    figures = result.figures() if not args.no_plots else {}
    return [p.name for p in write_plan(result.summary(), result.table(), figures, out, extra)]


def plan_folder(args: argparse.Namespace, scenario: Scenario) -> Path:
    """``out/plan-<scenario>-<hash>``: the hash (8 hex digits) of the scenario file, overrides, goals,
    levers, costs, probability and ensemble, so each question gets its own folder."""
    from sim.description.loading import resolve_path, slug

    what = {
        "scenario": str(resolve_path(args.scenario)),
        "set": list(args.set or []),
        "goal": list(args.goal),
        "lever": list(args.lever),
        "cost": list(args.cost or []),
        "probability": args.probability,
        "ensemble": args.ensemble,
    }
    return arguments.question_folder(f"plan-{slug(scenario.name)}", what)
