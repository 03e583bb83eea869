"""The ``airlift sweep`` command: a parameter sweep (grid or Latin hypercube) from ``--vary`` or a sweep file,
its per-point table, capacity curves and plots."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli import arguments
from sim.cli.parents import Parents
from sim.cli.printing import Progress, ensemble_intervals, number
from sim.cli.report import write_report_if_asked
from sim.cli.validate import is_sweep_file
from sim.statistics import interval_available

if TYPE_CHECKING:
    import pandas as pd

    from sim.experiments.ensemble import Ensemble
    from sim.experiments.sweeps import SweepSpec

__all__ = ["add_parser", "cmd"]


def add_parser(subparsers: Any, parents: Parents) -> None:
    from sim.experiments.sweeps import SweepSpec  # its defaults apply when neither -n/--seed nor a sweep file give them

    parser = subparsers.add_parser(
        "sweep",
        help="run a parameter sweep (grid or Latin hypercube) on any executor",
        parents=[
            parents.replications(None, f"the sweep file's, else {SweepSpec.replications}"),
            parents.seed(None, f"the sweep file's, else {SweepSpec.seed}"),
            parents.overrides,
            parents.metrics,
            parents.out,
            parents.executor,
            parents.resume,
            parents.plots,
            parents.table_format,
            parents.ensemble,
            parents.report,
        ],
        epilog="DIR defaults to out/sweep.",
    )
    parser.add_argument(
        "target",
        nargs="?",
        metavar="SCENARIO_OR_SWEEP",
        help="a scenario (default: Kabul 2021) or a sweep file with a [vary] table",
    )
    parser.add_argument(
        "--vary", action="append", metavar="KEY=VALUES", help="V1,V2,... or START:STOP:STEP (inclusive); with --samples, LO:HI"
    )
    parser.add_argument(
        "--samples", type=arguments.at_least_one, metavar="N", help="a Latin hypercube of N points instead of the grid"
    )
    parser.set_defaults(func=cmd)


def _sweep_spec(args: argparse.Namespace) -> SweepSpec:
    """The sweep: a sweep file's, or ``--vary``'s, with the command line's options on top."""
    from sim.description.errors import ScenarioError
    from sim.description.loading import resolve_path
    from sim.experiments import sweeps

    arguments.distinct_keys(args.vary)
    target = args.target
    if target and not Path(target).is_file() and resolve_path(target).is_file():
        target = str(resolve_path(target))  # a bundled file, e.g. sweeps/security_window.toml
    if target and is_sweep_file(target):
        spec = sweeps.load_sweep_file(target)
        if args.vary:
            spec.vary.update(sweeps.parse_vary(args.vary))
    else:
        if not args.vary:
            raise ScenarioError("--vary", [("", "give at least one --vary KEY=VALUES, or a sweep file")])
        spec = sweeps.SweepSpec(target, sweeps.parse_vary(args.vary))
    for name in ("replications", "seed", "samples"):
        if getattr(args, name) is not None:
            setattr(spec, name, getattr(args, name))
    spec.set.update(arguments.overrides_of(args.set))
    if args.metric:
        spec.metrics = list(args.metric)
        spec.metrics_source = "--metric"
    if args.ensemble:
        from sim.experiments.ensemble import load_ensemble

        spec.ensemble = load_ensemble(args.ensemble)
    if spec.samples:
        bad = [k for k, v in spec.vary.items() if len(v) < 2 or not all(isinstance(x, int | float) for x in v)]
        if bad:
            raise ScenarioError("--samples", [(k, "a Latin hypercube needs a numeric range LO:HI") for k in bad])
    return spec


def cmd(args: argparse.Namespace) -> int:
    from sim.experiments import sweeps
    from sim.experiments.executors import make_executor
    from sim.outputs.folders import claim_folder

    spec = _sweep_spec(args)
    out = arguments.output_folder(args.out, Path("out") / "sweep")
    with claim_folder(out, args.command_line, resumable=True, kind="sweep"):
        with Progress("sweep tasks", "task", smoothing=0.1) as bar:
            with make_executor(args.workers, args.dask) as executor:
                result = sweeps.run_sweep(
                    spec, out, executor=executor, resume=args.resume, on_total=bar.start, progress=bar.update
                )
        for f in result.failures:
            print(
                f"task failed: point {f['point']} {f['parameters']} replication {f['replication']}: {f['error']}", file=sys.stderr
            )
        not_run = (
            f", {result.not_run} not run (cancelled: run the same command with --resume to run them)" if result.not_run else ""
        )
        print(
            f"sweep over {', '.join(spec.keys())}: {len(spec.points())} points x {spec.replications} replications, "
            f"seed {spec.seed}; {result.ran} tasks run, {result.skipped} already done, {len(result.failures)} failed{not_run}"
        )
        derived = _derive(args, spec, out, result.table)
        sweeps.seal_sweep(out, spec.keys(), derived, command=args.command_line)
        plots = sum(name.endswith(".png") for name in derived)
        written = ["results.csv", "manifest.json", *(n for n in derived if not n.endswith(".png"))]
        print(f"written to {out}/ ({', '.join(written + ([f'{plots} plots'] if plots else []))})")
        write_report_if_asked(args, out)
        return 1 if result.failures or result.not_run else 0


def _derive(args: argparse.Namespace, spec: SweepSpec, out: Path, table: pd.DataFrame) -> list[str]:
    """Everything a sweep derives from its whole ``results.csv``, written anew: each point's summary
    (``points.csv``), the capacity curves, the figures. Times swept (ISO text) count as days after
    the start in curves and figures. Returns the names of the files written."""
    from sim.experiments import sweeps

    keys = spec.keys()
    metrics = [m for m in spec.metrics if m in table.columns]
    derived = [_points(args, spec, table, metrics, out)] if metrics and len(table) else []
    start = sweeps.read_manifest_start(out)
    in_days, time_keys = sweeps.times_in_days(table, keys, start)
    curves = _capacity_curves(in_days, keys, time_keys, out)
    if curves:
        derived.append("capacity_curve.json")
    if not args.no_plots and len(table):
        derived += _write_plots(out, in_days, keys, metrics, curves, time_keys)
    if keys == ["security.end"] and len(table) and in_days["security.end"].dtype.kind in "biuf":
        derived += _security_window(args, spec, out, in_days, start)
    return derived


def _points(args: argparse.Namespace, spec: SweepSpec, table: pd.DataFrame, metrics: list[str], out: Path) -> str:
    """Print each point's mean and interval of every metric, write them all to ``points.csv`` (or .parquet): its name."""
    import pandas as pd

    from sim._version import __version__
    from sim.experiments import sweeps
    from sim.outputs.files import read_json, write_table

    keys = list(spec.vary)
    summaries = {m: sweeps.point_summary(table, keys, m) for m in metrics}
    _print_points(summaries, keys)
    if spec.ensemble is not None:
        summaries = _with_ensemble_intervals(summaries, table, keys, spec.ensemble)
    points = pd.concat([summaries[m].assign(metric=m) for m in metrics], ignore_index=True)
    manifest = read_json(out / sweeps.MANIFEST)
    meta = {"scenario": manifest.get("scenario"), "seed": spec.seed, "version": __version__}
    return write_table(out / "points", points, args.format, meta).name


def _print_points(summaries: dict[str, pd.DataFrame], keys: list[str]) -> None:
    """One line a point: its swept values, then each metric's mean (95% interval)."""
    first = next(iter(summaries.values()))
    print("".join(f"{k:>18}" for k in keys) + "".join(f"{m:>30}" for m in summaries))
    for i in range(len(first)):
        cells = "".join(
            f"{first.iloc[i][k]:>18.6g}" if isinstance(first.iloc[i][k], float) else f"{first.iloc[i][k]!s:>18}" for k in keys
        )
        for summary in summaries.values():
            row = summary.iloc[i]
            ok = interval_available(row["ci95_low"], row["ci95_high"])
            ci = f"{row['ci95_low']:,.0f}–{row['ci95_high']:,.0f}" if ok else "CI n/a"
            cells += f"{row['mean']:>14,.0f} ({ci})".rjust(30)
        print(cells)


def _with_ensemble_intervals(
    summaries: dict[str, pd.DataFrame], table: pd.DataFrame, keys: list[str], ensemble: Ensemble
) -> dict[str, pd.DataFrame]:
    """Each metric's per-point summary with the two intervals of an ensemble (printed, one line a point)."""
    from sim.experiments.ensemble import settings_range

    print(f"ensemble: {ensemble.source}; per point, each metric's two intervals:")
    both_intervals = {}
    for metric, summary in summaries.items():
        both = settings_range(table, keys, metric, ensemble)
        both_intervals[metric] = summary.drop(columns=["ci95_low", "ci95_high"]).merge(both, on=keys, how="left")
        for i in range(len(both_intervals[metric])):
            row = both_intervals[metric].iloc[i]
            where = ", ".join(f"{k}={row[k]:g}" if isinstance(row[k], float) else f"{k}={row[k]}" for k in keys)
            print(f"  {where}  {metric} {number(row['mean'])}  ({ensemble_intervals(dict(row))})")
    return both_intervals


def _security_window(args: argparse.Namespace, spec: SweepSpec, out: Path, table: pd.DataFrame, start: Any) -> list[str]:
    """The security-window curve of a sweep of ``security.end`` alone: its numbers
    (``security_window_curve.csv``) and, unless ``--no-plots``, its figure: the names written."""
    from sim.analysis.security_window import BAND_DEFINITIONS, scenario_end, window_curve, with_end_dates
    from sim.experiments import sweeps
    from sim.outputs.files import read_json, save_png, write_table
    from sim.outputs.window_figures import WINDOW_CURVE, security_window_curve

    curve = window_curve(table, "security.end", len(spec.ensemble) if spec.ensemble is not None else None)
    names = [write_table(out / WINDOW_CURVE, with_end_dates(curve, "security.end", start), "csv").name]
    if not args.no_plots:
        scenario = read_json(out / sweeps.MANIFEST).get("scenario", {})
        title = f"{scenario['name']}: people evacuated and stranded against the day security ends" if "name" in scenario else None
        figure = security_window_curve(curve, "security.end", start, title, scenario_end(scenario, start))
        save_png(out / f"{WINDOW_CURVE}.png", figure)
        names.append(f"{WINDOW_CURVE}.png")
    print(f"security-window curve, evacuated and stranded by cohort: {' and '.join(names)} ({BAND_DEFINITIONS})")
    return names


def _capacity_curves(table: pd.DataFrame, keys: list[str], time_keys: list[str], out: Path) -> list[Any]:
    """Print the capacity curve of ``evacuated_total`` along each swept key and write them all
    to ``capacity_curve.json`` (marginal gains, where it flattens, a slope only if straight); a key
    whose values are neither numbers nor times has none, and a line says so."""
    from sim.analysis.capacity import CRITERIA, capacity_curve
    from sim.outputs.files import write_json

    curves = []
    for key in keys:
        curve = capacity_curve(table, key, "evacuated_total")
        if curve is not None:
            curves.append(curve)
        elif key in table.columns and table[key].nunique() > 1 and table[key].dtype.kind not in "biuf":
            print(f"no capacity curve along {key}: its values are neither numbers nor times")
    for curve in curves:
        unit = "extra day of security" if curve.key == "security.end" else "day" if curve.key in time_keys else None
        print("\n".join(curve.describe(unit)))
    if curves:
        print(f"  ({CRITERIA})")
        write_json(out / "capacity_curve.json", {c.key: c.summary() for c in curves})
    return curves


def _write_plots(
    out: Path, table: pd.DataFrame, keys: list[str], metrics: list[str], curves: list[Any], time_keys: list[str]
) -> list[str]:
    """The sweep's figures and one capacity curve figure per swept key: the names written."""
    from sim.experiments import sweeps
    from sim.outputs.compare_figures import capacity_curve_figure
    from sim.outputs.files import save_png
    from sim.outputs.sweep_figures import capacity_curve_name, sweep_figures

    start = sweeps.read_manifest_start(out)
    names = []
    for stem, figure in sweep_figures(table, keys, metrics, start, time_keys).items():
        save_png(out / f"{stem}.png", figure)
        names.append(f"{stem}.png")
    for curve in curves:
        save_png(out / capacity_curve_name(curve.key), capacity_curve_figure(curve, start))
        names.append(capacity_curve_name(curve.key))
    return names
