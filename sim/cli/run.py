"""The ``airlift run`` command: run one scenario's replications, write its output folder and print its summary."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli import arguments
from sim.cli.parents import Parents
from sim.cli.printing import Progress, mean_and_interval, number
from sim.cli.report import write_report_if_asked

if TYPE_CHECKING:
    from sim.experiments.replications import RunResult

__all__ = ["add_parser", "cmd", "print_run"]

COHORT_COLUMNS = ("people", "evacuated", "stranded", "stranded_never_arrived", "stranded_at_gates", "stranded_airfield")
COHORT_WIDTHS = (9, 12, 12, 14, 11, 10)
"""Printed width of each of :data:`COHORT_COLUMNS` (the headings: never reached the perimeter, at the
entry points, inside the perimeter)."""
REGISTRATION_COLUMNS = ("stranded_turned_back", "did_not_travel")
"""Columns of the cohort table added when a cohort is registered (``cohorts.<c>.registration``)."""
REGISTRATION_WIDTHS = (13, 16)


MOST_REPLICATIONS = 200
"""How many replications ``--precision`` may add up to, unless ``--max-replications`` says."""


def add_parser(subparsers: Any, parents: Parents) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a scenario (default: Kabul 2021) with replications",
        parents=[
            parents.scenario,
            parents.replications(10),
            parents.seed(0),
            parents.overrides,
            parents.out,
            parents.plots,
            parents.executor,
            parents.table_format,
            parents.ensemble,
            parents.report,
        ],
        epilog="DIR defaults to out/<scenario name>.",
    )
    parser.add_argument(
        "--precision",
        type=arguments.fraction,
        metavar="P",
        help="add replications until the 95%% half-width of stranded_total is within P of its mean",
    )
    parser.add_argument(
        "--max-replications",
        type=arguments.at_least_one,
        metavar="N",
        help=f"cap for --precision, at least -n (default: {MOST_REPLICATIONS})",
    )
    parser.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    from sim.description.loading import load_scenario, slug
    from sim.experiments import replications as experiment
    from sim.experiments.executors import make_executor
    from sim.outputs.files import write_run
    from sim.outputs.folders import claim_folder

    most = _most_replications(args)
    overrides = arguments.overrides_of(args.set)
    scenario = load_scenario(args.scenario, overrides)
    out = arguments.output_folder(args.out, Path("out") / slug(scenario.name))
    with claim_folder(out, args.command_line):
        with Progress("replications", "rep", delay=1.0, leave=False) as bar:
            bar.start(args.replications)
            with make_executor(args.workers, args.dask) as executor:
                result = experiment.run(
                    scenario,
                    args.replications,
                    args.seed,
                    precision=args.precision,
                    max_replications=most,
                    executor=executor,
                    progress=bar.update,
                    ensemble=args.ensemble,
                )
        provenance = arguments.provenance(args, args.scenario, overrides)
        written = write_run(result, out, plots=not args.no_plots, fmt=args.format, extra=provenance)
        print_run(result, out, [p.name for p in written])
        write_report_if_asked(args, out)
        return 0


def _most_replications(args: argparse.Namespace) -> int:
    """The cap of ``--precision``; a ``--max-replications`` below ``-n`` is refused (it could never apply)."""
    from sim.description.errors import ScenarioError

    if args.max_replications is None:
        return MOST_REPLICATIONS
    if args.max_replications < args.replications:
        why = f"{args.max_replications} is below -n {args.replications}: the cap must be at least the replications run first"
        raise ScenarioError("--max-replications", [("", why)])
    return int(args.max_replications)


def print_run(result: RunResult, out: Path | None, written: Sequence[str] = ()) -> None:
    """The printed summary of a run, and where it was written (``written``: the names of its files)."""
    _print_heading(result)
    _print_totals(result)
    _print_cohorts_and_operators(result)
    _print_limits(result, "limits_by_day.png" in written)
    if result.scenario.reference:
        print("")
        print("  compared with published figures     model (mean)    published")
        for key, value in result.scenario.reference.items():
            if key in result.metrics:
                print(f"    {key:<32}{result.metrics[key]['mean']:>13,.0f}{value:>13,.0f}")
    if result.scenario.reference_cumulative:
        _print_published_counts(result)
    if out is not None:
        print("")
        files = [name for name in written if not name.endswith(".png")]
        files.sort(key=lambda name: name != "summary.json")
        print(f"  written to {out}/ ({', '.join([*files, *(['plots'] if len(files) < len(written) else [])])})")


def _print_published_counts(result: RunResult) -> None:
    """Each dated published count (``[[reference_cumulative]]``) beside the model's mean cumulative
    evacuated at that time, all operators or the one it names."""
    import numpy as np

    from sim.analysis.target_values import sample_at

    s = result.scenario
    print("")
    print("  published counts by date             model (mean)    published")
    for p in s.reference_cumulative:
        column = "evacuated_cumulative" + (f".{p.operator}" if p.operator else "")
        at = s.hours(p.at)
        values = [sample_at(np.asarray(r.hourly["hours"]), np.asarray(r.hourly[column]), at) for r in result.replications]
        when = f"{s.at(at):%d %b %H:%M} {p.operator or 'all'}"
        print(f"    {when:<32}{float(np.mean(values)):>13,.0f}{p.evacuated:>13,.0f}")


def _print_heading(result: RunResult) -> None:
    s = result.scenario
    n = len(result.replications)
    print(
        f"{s.name}: {s.start:%d %b %Y %H:%M} to security end {s.at(s.end_hours):%d %b %Y %H:%M} "
        f"(UTC{s.start:%z}), {n} replication{'s' if n > 1 else ''}, seed {result.seed}"
    )
    if s.secured_from_hours > 0:
        print(f"secured from {s.at(s.secured_from_hours):%d %b %Y %H:%M}: no one enters and no aircraft lands before then")
    if result.ensemble:
        e = result.ensemble
        used = min(len(e), n)
        print(f"ensemble: {e.source}, {len(e)} plausible settings ({used} used; replication r runs setting r mod {len(e)})")
    if result.precision:
        pr = result.precision
        state = "reached" if pr["reached"] else "NOT reached (cap)"
        print(
            f"precision: ±{pr['target_relative_half_width']:.1%} on stranded_total {state} "
            f"after {pr['replications_needed']} replications (achieved ±{pr['achieved_relative_half_width']:.1%})"
        )
    print("")


def _registered(result: RunResult) -> bool:
    """Whether a cohort of the scenario is registered (its outcomes get lines of their own)."""
    return any(c.registration is not None for c in result.scenario.cohorts.values())


def _print_totals(result: RunResult) -> None:
    m = result.metrics
    registered = _registered(result)
    print(f"  people in scenario   {number(m['population_total']['mean'])}")
    print(f"  evacuated            {mean_and_interval(m['evacuated_total'])}")
    print(f"  stranded             {mean_and_interval(m['stranded_total'])}")
    print(f"    never reached the perimeter  {m['stranded_never_arrived']['mean']:,.0f}")
    if registered:
        print(f"    turned back on the way       {m['stranded_turned_back']['mean']:,.0f}")
    print(f"    at the entry points          {m['stranded_at_gates']['mean']:,.0f}")
    print(f"    inside the perimeter         {m['stranded_airfield']['mean']:,.0f}")
    if registered:
        not_stranded = "(registered, chose not to set out; not stranded)"
        print(f"  did not travel       {mean_and_interval(m['did_not_travel_total'])}  {not_stranded}")
    print(f"  departures           {mean_and_interval(m['departures_total'])}")
    if m["departures_total"]["mean"] > 0:
        print(
            f"  mean load factor     {m['mean_load_factor']['mean']:.0%}   "
            f"(mean {m['mean_evacuees_per_departure']['mean']:.0f} evacuees per departure)"
        )
    else:  # no departure: no seat was offered, a load factor is 0/0
        print("  mean load factor     n/a  (no departures)")
    daily = result.daily()
    peak_day = daily["evacuated"].idxmax()
    peak = daily.loc[peak_day]
    print(
        f"  peak day             {peak_day:%Y-%m-%d}: {number(peak['evacuated'])} evacuated, {peak['departures']:.0f} departures"
    )
    print(f"  wait to be screened  mean {m['gate_wait_mean_hours']['mean']:.1f} h, p95 {m['gate_wait_p95_hours']['mean']:.1f} h")
    if m["troops_flown"]["mean"] or m["troops_stranded"]["mean"]:
        print(f"  retrograde troops    {number(m['troops_flown']['mean'])} flown, {number(m['troops_stranded']['mean'])} left")
        for name in result.scenario.withdrawal_names:
            flown, left = m[f"withdrawal.{name}.troops_flown"]["mean"], m[f"withdrawal.{name}.troops_stranded"]["mean"]
            print(f"    {'withdrawal ' + name:<19}{number(flown)} flown, {number(left)} left")
    print("")


def _print_cohorts_and_operators(result: RunResult) -> None:
    m = result.metrics
    extra = REGISTRATION_COLUMNS if _registered(result) else ()
    keys = (*COHORT_COLUMNS, *extra)
    widths = (*COHORT_WIDTHS, *(REGISTRATION_WIDTHS if extra else ()))
    columns = ("people", "evacuated", "stranded", "not reached", "at entry", "inside", "turned back", "did not travel")
    print(f"  {'stranded by cohort':<24}" + "".join(f"{c:>{w}}" for c, w in zip(columns, widths)))
    for cohort in result.scenario.cohorts:
        mean = {key: m[f"cohort.{cohort}.{key}"]["mean"] for key in keys}
        print(f"    {cohort:<22}" + "".join(f"{mean[key]:>{w},.0f}" for key, w in zip(keys, widths)))
    print("")
    print("  by operator               evacuated  departures")
    for op in result.scenario.operators:
        print(f"    {op:<22}{m[f'operator.{op}.evacuated']['mean']:>12,.0f}{m[f'operator.{op}.departures']['mean']:>12,.0f}")
    print("")


def _print_limits(result: RunResult, plotted: bool) -> None:
    from sim.description.metric_catalog import LIMIT_CAUSES

    held = {cause: result.metrics[f"limit.{cause}_hours"]["mean"] for cause in LIMIT_CAUSES}
    total = sum(held.values())
    print("  what limited throughput (people-hours held back, mean per replication)")
    for cause, hours in sorted(held.items(), key=lambda kv: -kv[1]):
        share = f"{hours / total:6.0%}" if total else "      "
        print(f"    {share} {hours:>11,.0f}  {cause:<9}{LIMIT_CAUSES[cause]}")
    spans, named = _binding_spans(result)
    if spans:
        print("  binding constraint by day: " + "; ".join(spans))
        where = ", the tallest bar in limits_by_day.png" if plotted else ""
        print(f"    (each day, the cause that held back the most people-hours{where})")
        for cause in named:
            print(f"    {cause}: {LIMIT_CAUSES.get(cause, 'no cause held anyone back')}")


def _binding_spans(result: RunResult) -> tuple[list[str], list[str]]:
    """Runs of consecutive days with the same binding constraint, e.g. ``evacuees 14-20 Aug``,
    and the causes named, in order of first appearance."""
    spans: list[list[Any]] = []
    for day, binding in result.limits_by_day()["binding"].items():
        d = day.date()
        if spans and spans[-1][0] == binding and (d - spans[-1][2]).days == 1:
            spans[-1][2] = d
        else:
            spans.append([binding, d, d])
    out = []
    for binding, a, b in spans:
        when = f"{a:%d %b}" if a == b else f"{a:%d}-{b:%d %b}" if a.month == b.month else f"{a:%d %b}-{b:%d %b}"
        out.append(f"{binding} {when}")
    return out, list(dict.fromkeys(b for b, _, _ in spans))
