"""The ``airlift compare`` command: a paired comparison of two scenarios (common random numbers), its
output folder and its printed table of differences."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli import arguments
from sim.cli.parents import Parents
from sim.cli.printing import Progress, ensemble_intervals, interval, number, standard_error
from sim.cli.report import write_report_if_asked
from sim.experiments.identity import flat_keys

if TYPE_CHECKING:
    import pandas as pd

    from sim.description.scenario import Scenario
    from sim.experiments.replications import CompareResult

__all__ = ["add_parser", "cmd", "compare_folder"]


def add_parser(subparsers: Any, parents: Parents) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="paired comparison of two scenarios (common random numbers)",
        parents=[
            parents.replications(10),
            parents.seed(0),
            parents.out,
            parents.plots,
            parents.executor,
            parents.table_format,
            parents.ensemble,
            parents.report,
        ],
        epilog="DIR defaults to out/compare-<A>-<B>-<hash of files and overrides>.",
    )
    parser.add_argument("a", metavar="A.toml")
    parser.add_argument("b", metavar="B.toml", nargs="?", help="default: A again (compare --set variants)")
    parser.add_argument("--set-a", action="append", metavar="KEY=VALUE", help="override a dotted key of A")
    parser.add_argument("--set-b", action="append", metavar="KEY=VALUE", help="override a dotted key of B")
    parser.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    from sim.description.loading import load_scenario
    from sim.experiments import replications as experiment
    from sim.experiments.executors import make_executor
    from sim.outputs.folders import claim_folder

    a = load_scenario(args.a, arguments.overrides_of(args.set_a))
    b = load_scenario(args.b or args.a, arguments.overrides_of(args.set_b))
    out = arguments.output_folder(args.out, compare_folder(args, a, b))
    with claim_folder(out, args.command_line):
        with Progress("replications", "rep", delay=1.0, leave=False) as bar:
            bar.start(2 * args.replications)
            with make_executor(args.workers, args.dask) as executor:
                result = experiment.compare(
                    a, b, args.replications, args.seed, executor=executor, progress=bar.update, ensemble=args.ensemble
                )
        differences = result.differences()
        written = _write_outputs(args, out, result)
        print(f"A = {a.name}   B = {b.name}   ({args.replications} paired replications, seed {args.seed})")
        print("\n".join(_what_differs(args, a, b)))
        if result.a.ensemble:
            e = result.a.ensemble
            print(f"ensemble: {e.source}, {len(e)} plausible settings; replication r of both sides runs setting r mod {len(e)}")
        print("")
        _print_differences(differences)
        print(f"\n  written to {out}/ ({', '.join(written)})")
        write_report_if_asked(args, out)
        return 0


def _write_outputs(args: argparse.Namespace, out: Path, result: CompareResult) -> list[str]:
    """``differences.csv`` (or .parquet), ``differences.png`` and ``compare.json``, in a folder that
    replaces ``out`` whole: the names written."""
    from sim.outputs.files import write_compare

    extra = arguments.provenance(args, args.a)
    return [path.name for path in write_compare(result, out, plots=not args.no_plots, fmt=args.format, extra=extra)]


REGISTERED_ROWS = ("stranded_turned_back", "did_not_travel_total")
"""Rows printed when either side has registered cohorts (someone turned back or did not travel)."""


def _print_differences(diffs: pd.DataFrame) -> None:
    """One row per headline metric and per cohort's stranded: A, B, B - A and its intervals."""
    from sim.experiments.replications import HEADLINE

    keys = list(HEADLINE)
    if any(diffs.loc[k, "a_mean"] or diffs.loc[k, "b_mean"] for k in REGISTERED_ROWS if k in diffs.index):
        at = keys.index("stranded_airfield") + 1  # beside the other places of the stranded, so they add up
        keys[at:at] = [k for k in REGISTERED_ROWS if k in diffs.index]
    keys += [k for k in diffs.index if k.startswith("cohort.") and k.endswith(".stranded")]
    width = max(34, *(len(k) + 2 for k in keys))  # long cohort names keep the columns aligned
    print(
        f"  {'metric':<{width}}{'A':>12}{'B':>12}{'B - A':>12}   {'95% CI of the difference':<26}"
        f"{'SE paired':>11}{'unpaired':>11}  variance removed by pairing"
    )
    for k in keys:
        d = diffs.loc[k]
        means = f"  {k:<{width}}{number(d['a_mean']):>12}{number(d['b_mean']):>12}{number(d['difference_mean']):>12}"
        if "settings_low" in d:  # an ensemble: the two intervals of sim.experiments.ensemble, and the percentiles
            print(f"{means}   {ensemble_intervals(d)}{_across_settings(d)}")
            continue
        removed = "n/a" if d["variance_reduction"] != d["variance_reduction"] else f"{d['variance_reduction']:.0%}"
        print(
            f"{means}   {interval(d['ci95_low'], d['ci95_high']):<26}"
            f"{standard_error(d['se_paired']):>11}{standard_error(d['se_unpaired']):>11}  {removed}"
        )
    print(
        "  (SE: standard error of B - A; 'unpaired' is what independent runs of the same size would give;"
        " common random numbers remove the rest)"
    )


def _across_settings(difference: Any) -> str:
    """`` (5/50/95%: a / b / c)``, after the range across settings: the percentiles of the per-setting mean differences
    (:func:`sim.experiments.ensemble.settings_quantiles`), when they were computed."""
    if "settings_p50" not in difference:
        return ""
    cells = " / ".join(number(difference[k]) for k in ("settings_p5", "settings_p50", "settings_p95"))
    return f" (5/50/95%: {cells})"


def _what_differs(args: argparse.Namespace, a: Scenario, b: Scenario) -> list[str]:
    """Lines saying which files and overrides make A and B, and every resolved key that differs."""
    from sim.description.loading import resolve_path

    file_a = str(resolve_path(args.a))
    file_b = str(resolve_path(args.b)) if args.b else f"{file_a} (A's file again)"
    lines = [f"  A: {file_a}", *(f"       --set-a {x}" for x in args.set_a or []), f"  B: {file_b}"]
    lines += [f"       --set-b {x}" for x in args.set_b or []]
    fa = flat_keys(a.model_dump(mode="json", by_alias=True))
    fb = flat_keys(b.model_dump(mode="json", by_alias=True))
    keys = [k for k in sorted(fa.keys() | fb.keys()) if fa.get(k, "(absent)") != fb.get(k, "(absent)")]
    if not keys:
        lines.append("  the resolved scenarios are identical: every difference below is exactly zero")
        return lines
    lines.append(f"  resolved keys that differ ({len(keys)}):")
    limit = 20
    for k in keys[:limit]:
        lines.append(f"    {k}: {fa.get(k, '(absent)')!s} -> {fb.get(k, '(absent)')!s}")
    if len(keys) > limit:
        lines.append(f"    ... and {len(keys) - limit} more (compare.json holds both scenarios)")
    return lines


def compare_folder(args: argparse.Namespace, a: Scenario, b: Scenario) -> Path:
    """``out/compare-<A>-<B>-<hash>``: the hash (8 hex digits) of both files and every override,
    so each comparison gets its own folder and re-running the same one reuses it."""
    from sim.description.loading import resolve_path, slug

    what = {
        "a": [str(resolve_path(args.a)), list(args.set_a or [])],
        "b": [str(resolve_path(args.b or args.a)), list(args.set_b or [])],
    }
    return arguments.question_folder(f"compare-{slug(a.name)}-{slug(b.name)}", what)
