"""The ``airlift`` command: argument parsing and printing only; no model logic.

``main(argv) -> int`` is tested in-process. Exit codes: 0 success, 2 bad input (scenario or
arguments), 1 anything else.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from sim.cli.arguments import overrides_of
from sim.cli.calibrate import add_calibrate_parser
from sim.description.scenario import ScenarioError, load_scenario, resolve_path, slug
from sim.experiments import replications as experiment
from sim.outputs.files import FORMATS
from sim.statistics import interval_available

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _usable_out(given: str | None, default: Path) -> Path:
    """The output folder, checked before anything runs: it must be a folder (or not exist yet)
    that this user can write into (or create)."""
    out = Path(given) if given else default
    if out.exists() and not out.is_dir():
        raise ScenarioError("--out", [(str(out), "exists and is not a folder")])
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise ScenarioError("--out", [(str(out), f"{probe} is not a folder")])
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ScenarioError("--out", [(str(out), f"cannot write into {probe}")])
    return out


def _progress(total: int, label: str):
    """A progress bar on stderr that appears only if the work takes more than a moment."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, unit="rep", delay=1.0, file=sys.stderr, leave=False)
    return bar


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 10 or float(x).is_integer() or x == 0 else f"{x:,.2f}"


def _ci(stats: dict[str, Any]) -> str:
    if "settings_low" in stats:  # an ensemble run: both intervals (sim.experiments.ensemble)
        return f"{_fmt(stats['mean'])}  ({_ens_intervals(stats)})"
    if not interval_available(stats["ci95_low"], stats["ci95_high"]):
        return f"{_fmt(stats['mean'])}  (95% CI n/a: one replication)"
    if stats["ci95_high"] == stats["ci95_low"]:
        return _fmt(stats["mean"])
    return f"{_fmt(stats['mean'])}  (95% CI {_fmt(stats['ci95_low'])}–{_fmt(stats['ci95_high'])})"


def _fmt_ci(low: float, high: float) -> str:
    """``low to high``, or ``n/a`` when the interval is unavailable (one replication)."""
    return f"{_fmt(low)} to {_fmt(high)}" if interval_available(low, high) else "n/a"


def _ens_intervals(stats: Any) -> str:
    """``stochastic 95% CI a to b; across settings c to d``, as defined in sim.experiments.ensemble."""
    lo, hi = stats["ci95_low"], stats["ci95_high"]
    sto = "stochastic 95% CI n/a (run a setting twice)" if lo != lo else f"stochastic 95% CI {_fmt(lo)} to {_fmt(hi)}"
    return f"{sto}; across settings {_fmt(stats['settings_low'])} to {_fmt(stats['settings_high'])}"


def print_run(result: experiment.RunResult, out: Path | None) -> None:
    from sim.description.metric_catalog import LIMIT_CAUSES

    s = result.scenario
    m = result.metrics
    n = len(result.replications)
    p = print
    p(
        f"{s.name}: {s.start:%d %b %Y %H:%M} to security end {s.at(s.end_hours):%d %b %Y %H:%M} "
        f"(UTC{s.start:%z}), {n} replication{'s' if n > 1 else ''}, seed {result.seed}"
    )
    if result.ensemble:
        e = result.ensemble
        used = min(len(e), n)
        p(f"ensemble: {e.source}, {len(e)} plausible settings ({used} used; replication r runs setting r mod {len(e)})")
    if result.precision:
        pr = result.precision
        state = "reached" if pr["reached"] else "NOT reached (cap)"
        p(
            f"precision: ±{pr['target_relative_half_width']:.1%} on stranded_total {state} "
            f"after {pr['replications_needed']} replications (achieved ±{pr['achieved_relative_half_width']:.1%})"
        )
    p("")
    p(f"  people in scenario   {_fmt(m['population_total']['mean'])}")
    p(f"  evacuated            {_ci(m['evacuated_total'])}")
    p(f"  stranded             {_ci(m['stranded_total'])}")
    p(f"    never reached a gate  {m['stranded_never_arrived']['mean']:,.0f}")
    p(f"    at the gates          {m['stranded_at_gates']['mean']:,.0f}")
    p(f"    inside the airfield   {m['stranded_airfield']['mean']:,.0f}")
    p(f"  departures           {_ci(m['departures_total'])}")
    p(
        f"  mean load factor     {m['mean_load_factor']['mean']:.0%}   "
        f"(mean {m['mean_evacuees_per_departure']['mean']:.0f} evacuees per departure)"
    )
    daily = result.daily()
    peak_day = daily["evacuated"].idxmax()
    peak = daily.loc[peak_day]
    p(f"  peak day             {peak_day:%Y-%m-%d}: {_fmt(peak['evacuated'])} evacuated, {peak['departures']:.0f} departures")
    p(f"  gate wait            mean {m['gate_wait_mean_hours']['mean']:.1f} h, p95 {m['gate_wait_p95_hours']['mean']:.1f} h")
    if m["troops_flown"]["mean"] or m["troops_stranded"]["mean"]:
        p(f"  retrograde troops    {_fmt(m['troops_flown']['mean'])} flown, {_fmt(m['troops_stranded']['mean'])} left")
    p("")
    p("  stranded by cohort        people   evacuated    stranded   never arrived  at gates  airfield")
    for c in s.cohorts:

        def g(k: str, c: str = c) -> float:
            return m[f"cohort.{c}.{k}"]["mean"]

        p(
            f"    {c:<22}{g('people'):>9,.0f}{g('evacuated'):>12,.0f}{g('stranded'):>12,.0f}"
            f"{g('stranded_never_arrived'):>16,.0f}{g('stranded_at_gates'):>10,.0f}{g('stranded_airfield'):>10,.0f}"
        )
    p("")
    p("  by operator               evacuated  departures")
    for op in s.operators:
        p(f"    {op:<22}{m[f'operator.{op}.evacuated']['mean']:>12,.0f}{m[f'operator.{op}.departures']['mean']:>12,.0f}")
    p("")
    waits = {c: m[f"limit.{c}_hours"]["mean"] for c in LIMIT_CAUSES}
    total = sum(v for k, v in waits.items() if k != "holding")
    p("  what limited throughput (aircraft-hours spent waiting, mean per replication)")
    for cause, hours in sorted(waits.items(), key=lambda kv: -kv[1]):
        unit = "gate-hours" if cause == "holding" else "aircraft-hours"
        share = f"{hours / total:6.0%}" if total and cause != "holding" else "      "
        p(f"    {share} {hours:>9,.0f} {unit:<15}{LIMIT_CAUSES[cause]}")
    spans, named = _binding_spans(result)
    if spans:
        p("  binding constraint by day: " + "; ".join(spans))
        p("    (each day, the cause with the most waiting hours, the tallest bar in limits_by_day.png)")
        for cause in named:
            p(f"    {cause}: {LIMIT_CAUSES.get(cause, 'no cause reached an hour of waiting')}")
    if s.reference:
        p("")
        p("  compared with published figures     model (mean)    published")
        for key, value in s.reference.items():
            if key in m:
                p(f"    {key:<32}{m[key]['mean']:>13,.0f}{value:>13,.0f}")
    if out is not None:
        p("")
        p(f"  written to {out}/ (summary.json, timeseries.csv, plots)")


def _binding_spans(result: experiment.RunResult) -> tuple[list[str], list[str]]:
    """Runs of consecutive days with the same binding constraint, e.g. ``evacuees 14-20 Aug``,
    and the causes named, in order of first appearance."""
    spans: list[list] = []
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


def cmd_run(args: argparse.Namespace) -> int:
    from sim.outputs.files import write_run

    scenario = load_scenario(args.scenario, overrides_of(args.set))
    out = _usable_out(args.out, Path("out") / slug(scenario.name))
    total = args.replications
    bar = _progress(total, "replications")
    try:
        with experiment.make_executor(args.workers, args.dask) as ex:
            result = experiment.run(
                scenario,
                args.replications,
                args.seed,
                precision=args.precision,
                max_replications=args.max_replications,
                executor=ex,
                progress=bar.update,
                ensemble=args.ensemble,
            )
    finally:
        bar.close()
    provenance = {
        "command": args.command_line,
        "scenario_file": str(resolve_path(args.scenario).resolve()),
        "overrides": overrides_of(args.set),
    }
    write_run(result, out, plots=not args.no_plots, fmt=args.format, extra=provenance)
    print_run(result, out)
    _report(args, out)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    bad = 0
    for path in args.scenarios:
        try:
            if _is_sweep_file(path):
                from sim.experiments import sweeps

                spec = sweeps.load_sweep_file(path if Path(path).is_file() else resolve_path(path))
                sweeps.validate_sweep(spec)
                print(f"{path}: ok (sweep of {spec.source()}; {len(spec.points())} points x {spec.replications} replications)")
                continue
            s = load_scenario(path)
        except ScenarioError as e:
            print(e, file=sys.stderr)
            bad += 1
        else:
            print(
                f"{resolve_path(path)}: ok ({s.name}; {len(s.cohorts)} cohorts, {len(s.fleets)} fleets, "
                f"{len(s.gates)} gates, {len(s.bases)} bases)"
            )
    return 2 if bad else 0


def _is_sweep_file(path: str) -> bool:
    """A sweep file, told by its content: a ``[vary]`` table or a ``scenario`` key (which no
    scenario file has). A file that cannot be read raises the loader's error."""
    from sim.description.scenario import read_toml

    raw = read_toml(Path(path) if Path(path).is_file() else resolve_path(path))
    return isinstance(raw.get("vary"), dict) or isinstance(raw.get("scenario"), str)


def cmd_metrics(args: argparse.Namespace) -> int:
    from sim.description.metric_catalog import metrics_text

    print(metrics_text(load_scenario(args.scenario) if args.scenario else None), end="")
    return 0


def _flat(tree: Any, prefix: str = "") -> dict[str, Any]:
    """A nested dump of a scenario as ``{dotted name: value}``."""
    if isinstance(tree, dict):
        return {k: v for key, sub in tree.items() for k, v in _flat(sub, f"{prefix}{key}.").items()}
    if isinstance(tree, list) and tree and all(isinstance(x, dict) for x in tree):
        return {k: v for i, sub in enumerate(tree) for k, v in _flat(sub, f"{prefix}{i}.").items()}
    return {prefix[:-1]: tree}


def _what_differs(args: argparse.Namespace, a: Any, b: Any) -> list[str]:
    """Lines saying which files and overrides make A and B, and every resolved key that differs."""
    file_a = str(resolve_path(args.a))
    file_b = str(resolve_path(args.b)) if args.b else f"{file_a} (A's file again)"
    lines = [f"  A: {file_a}", *(f"       --set-a {x}" for x in args.set_a or []), f"  B: {file_b}"]
    lines += [f"       --set-b {x}" for x in args.set_b or []]
    fa = _flat(a.model_dump(mode="json", by_alias=True))
    fb = _flat(b.model_dump(mode="json", by_alias=True))
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


def _compare_folder(args: argparse.Namespace, a: Any, b: Any) -> Path:
    """``out/compare-<A>-<B>-<hash>``: the hash (8 hex digits) of both files and every override,
    so each comparison gets its own folder and re-running the same one reuses it."""
    import hashlib
    import json

    what = {
        "a": [str(resolve_path(args.a)), list(args.set_a or [])],
        "b": [str(resolve_path(args.b or args.a)), list(args.set_b or [])],
    }
    digest = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:8]
    return Path("out") / f"compare-{slug(a.name)}-{slug(b.name)}-{digest}"


def cmd_compare(args: argparse.Namespace) -> int:
    from sim.outputs.files import write_json, write_table

    a = load_scenario(args.a, overrides_of(args.set_a))
    b = load_scenario(args.b or args.a, overrides_of(args.set_b))
    out = _usable_out(args.out, _compare_folder(args, a, b))
    bar = _progress(2 * args.replications, "replications")
    try:
        with experiment.make_executor(args.workers, args.dask) as ex:
            res = experiment.compare(a, b, args.replications, args.seed, executor=ex, progress=bar.update, ensemble=args.ensemble)
    finally:
        bar.close()
    summary = res.summary()
    diffs = res.differences()
    from sim._version import __version__

    meta = {"a_scenario": summary["a"]["scenario"], "b_scenario": summary["b"]["scenario"], "seed": args.seed}
    table = write_table(
        out / "differences", diffs, args.format, meta | {"version": __version__, "replications": args.replications}
    )
    written = [table.name]
    if not args.no_plots:
        written.append(_write_compare_plot(out, summary["differences"]))
    summary["command"] = args.command_line
    summary["scenario_file"] = str(resolve_path(args.a).resolve())
    write_json(out / "compare.json", summary)
    written.append("compare.json")
    keys = list(experiment.HEADLINE) + [k for k in diffs.index if k.startswith("cohort.") and k.endswith(".stranded")]
    print(f"A = {a.name}   B = {b.name}   ({args.replications} paired replications, seed {args.seed})")
    print("\n".join(_what_differs(args, a, b)))
    if res.a.ensemble:
        e = res.a.ensemble
        print(f"ensemble: {e.source}, {len(e)} plausible settings; replication r of both sides runs setting r mod {len(e)}")
    print("")
    print(
        f"  {'metric':<34}{'A':>12}{'B':>12}{'B - A':>12}   {'95% CI of the difference':<26}"
        f"{'SE paired':>11}{'unpaired':>11}  variance removed by pairing"
    )
    for k in keys:
        d = diffs.loc[k]
        if "settings_low" in d:  # an ensemble: the two intervals of sim.experiments.ensemble
            print(
                f"  {k:<34}{_fmt(d['a_mean']):>12}{_fmt(d['b_mean']):>12}{_fmt(d['difference_mean']):>12}   {_ens_intervals(d)}"
            )
            continue
        removed = "n/a" if d["variance_reduction"] != d["variance_reduction"] else f"{d['variance_reduction']:.0%}"
        print(
            f"  {k:<34}{_fmt(d['a_mean']):>12}{_fmt(d['b_mean']):>12}{_fmt(d['difference_mean']):>12}"
            f"   {_fmt_ci(d['ci95_low'], d['ci95_high']):<26}"
            f"{_fmt_se(d['se_paired']):>11}{_fmt_se(d['se_unpaired']):>11}  {removed}"
        )
    print(
        "  (SE: standard error of B - A; 'unpaired' is what independent runs of the same size would give;"
        " common random numbers remove the rest)"
    )
    print(f"\n  written to {out}/ ({', '.join(written)})")
    _report(args, out)
    return 0


def _fmt_se(x: float) -> str:
    return "n/a" if x != x else _fmt(x)


def _write_compare_plot(out: Path, differences: dict[str, Any]) -> str:
    from sim.outputs.compare_figures import compare_differences
    from sim.outputs.files import save_png

    save_png(out / "differences.png", compare_differences(differences))
    return "differences.png"


def _sweep_spec(args: argparse.Namespace):
    from sim.experiments import sweeps as sweep

    target = args.target
    if target and not Path(target).is_file() and resolve_path(target).is_file():
        target = str(resolve_path(target))  # a bundled file, e.g. sweeps/security_window.toml
    is_file = bool(target) and _is_sweep_file(target)
    if is_file:
        spec = sweep.load_sweep_file(target)
        if args.vary:
            spec.vary.update(sweep.parse_vary(args.vary))
    else:
        if not args.vary:
            raise ScenarioError("--vary", [("", "give at least one --vary KEY=VALUES, or a sweep file")])
        spec = sweep.SweepSpec(target, sweep.parse_vary(args.vary))
    for name in ("replications", "seed", "samples"):
        if getattr(args, name) is not None:
            setattr(spec, name, getattr(args, name))
    if args.set:
        spec.set.update(overrides_of(args.set))
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


def cmd_sweep(args: argparse.Namespace) -> int:
    import json

    from sim._version import __version__
    from sim.experiments import sweeps as sweep
    from sim.outputs.files import save_png, write_table

    spec = _sweep_spec(args)
    out = _usable_out(args.out, Path("out") / "sweep")
    bar = None

    def on_total(n: int) -> None:
        nonlocal bar
        from tqdm import tqdm

        bar = tqdm(total=n, desc="sweep tasks", unit="task", file=sys.stderr, smoothing=0.1)

    try:
        with sweep.make_executor(args.workers, args.dask) as ex:
            res = sweep.run_sweep(
                spec, out, executor=ex, resume=args.resume, on_total=on_total, progress=lambda k: bar.update(k) if bar else None
            )
    finally:
        if bar is not None:
            bar.close()
    for f in res.failures:
        print(f"task failed: point {f['point']} {f['parameters']} replication {f['replication']}: {f['error']}", file=sys.stderr)
    df = res.table
    keys = list(spec.vary)
    points = len(spec.points())
    print(
        f"sweep over {', '.join(keys)}: {points} points x {spec.replications} replications, seed {spec.seed}; "
        f"{res.ran} tasks run, {res.skipped} already done, {len(res.failures)} failed"
    )
    written = ["results.csv", "manifest.json"]
    metrics = [m for m in spec.metrics if m in df.columns]
    summaries = {m: sweep.point_summary(df, keys, m) for m in metrics}
    if metrics:
        first = summaries[metrics[0]]
        head = "".join(f"{k:>18}" for k in keys) + "".join(f"{m:>30}" for m in metrics)
        print(head)
        for i in range(len(first)):
            cells = "".join(
                f"{first.iloc[i][k]:>18.6g}" if isinstance(first.iloc[i][k], float) else f"{first.iloc[i][k]!s:>18}" for k in keys
            )
            for m in metrics:
                r = summaries[m].iloc[i]
                ok = interval_available(r["ci95_low"], r["ci95_high"])
                ci = f"{r['ci95_low']:,.0f}–{r['ci95_high']:,.0f}" if ok else "CI n/a"
                cells += f"{r['mean']:>14,.0f} ({ci})".rjust(30)
            print(cells)
        import pandas as pd

        if spec.ensemble is not None:
            from sim.experiments.ensemble import settings_range

            print(f"ensemble: {spec.ensemble.source}; per point, each metric's two intervals:")
            for m in metrics:
                both = settings_range(df, keys, m, spec.ensemble)
                summaries[m] = summaries[m].drop(columns=["ci95_low", "ci95_high"]).merge(both, on=keys, how="left")
                for i in range(len(summaries[m])):
                    row = summaries[m].iloc[i]
                    where = ", ".join(f"{k}={row[k]:g}" if isinstance(row[k], float) else f"{k}={row[k]}" for k in keys)
                    print(f"  {where}  {m} {_fmt(row['mean'])}  ({_ens_intervals(dict(row))})")
        table = pd.concat([summaries[m].assign(metric=m) for m in metrics], ignore_index=True)
        manifest = json.loads((out / sweep.MANIFEST).read_text(encoding="utf-8"))
        meta = {"scenario": manifest.get("scenario"), "seed": spec.seed, "version": __version__}
        written.append(write_table(out / "points", table, args.format, meta).name)
    curves = _capacity_curves(df, keys, out)
    if curves:
        written.append("capacity_curve.json")
    if not args.no_plots and len(df):
        from sim.outputs.compare_figures import capacity_curve_figure
        from sim.outputs.sweep_figures import sweep_figures

        start = sweep.read_manifest_start(out)
        plots = 0
        for stem, fig in sweep_figures(df, keys, metrics, start).items():
            save_png(out / f"{stem}.png", fig)
            plots += 1
        for curve in curves:
            save_png(out / f"capacity_curve_{curve.key}.png", capacity_curve_figure(curve, start))
            plots += 1
        if plots:
            written.append(f"{plots} plots")
    _record_command(out / sweep.MANIFEST, args.command_line)
    print(f"written to {out}/ ({', '.join(written)})")
    _report(args, out)
    return 1 if res.failures else 0


def _capacity_curves(df: Any, keys: list[str], out: Path) -> list[Any]:
    """Print the capacity curve of ``evacuated_total`` along each swept key and write them all
    to ``capacity_curve.json`` (marginal gains, where it flattens, a slope only if straight)."""
    from sim.analysis.capacity import CRITERIA, capacity_curve
    from sim.outputs.files import write_json

    curves = [c for c in (capacity_curve(df, key, "evacuated_total") for key in keys) if c is not None]
    for curve in curves:
        print("\n".join(curve.describe("extra day of security" if curve.key == "security.end" else None)))
    if curves:
        print(f"  ({CRITERIA})")
        write_json(out / "capacity_curve.json", {c.key: c.summary() for c in curves})
    return curves


def _record_command(manifest: Path, command: str) -> None:
    """Add the command line to a sweep's manifest (the last command that completed it)."""
    import json

    from sim.outputs.files import write_json

    if manifest.is_file():
        write_json(manifest, json.loads(manifest.read_text(encoding="utf-8")) | {"command": command})


def _report(args: argparse.Namespace, out: Path) -> None:
    if getattr(args, "report", False):
        from sim.report.html import write_report

        print(f"report: {write_report(out)}")


def cmd_report(args: argparse.Namespace) -> int:
    from sim.report.html import write_report

    print(f"written to {write_report(Path(args.dir))}")
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from sim.analysis import sensitivity as sa
    from sim.description.uncertainty import parse_ranges
    from sim.outputs.files import save_png

    out = Path(args.out) if args.out else Path("out") / f"sensitivity-{args.method}"
    bar = None

    def on_total(n: int) -> None:
        nonlocal bar
        from tqdm import tqdm

        bar = tqdm(total=n, desc="sensitivity runs", unit="run", file=sys.stderr, smoothing=0.1)

    try:
        with experiment.make_executor(args.workers, args.dask) as ex:
            res = sa.run_sensitivity(
                args.scenario,
                args.method,
                out,
                vary=parse_ranges(args.vary or []),
                trajectories=args.trajectories,
                samples=args.samples,
                replications=args.replications,
                seed=args.seed,
                metrics=args.metric,
                executor=ex,
                resume=args.resume,
                on_total=on_total,
                progress=lambda k: bar.update(k) if bar else None,
            )
    finally:
        if bar is not None:
            bar.close()
    d, sweep = res.design, res.sweep
    print(
        f"{args.method} on {len(d.params)} uncertain parameters: {len(d.unit)} points x {args.replications} "
        f"replications, seed {args.seed}; {sweep.ran} runs, {sweep.skipped} already done"
    )
    top = 15
    for metric in res.metrics:
        rows = res.ranked(metric)
        print(f"\n{metric}: the {min(top, len(rows))} most influential of {len(rows)} (95% bootstrap intervals)")
        if d.method == "morris":
            print(f"  {'parameter':<48}{'mu*':>12}{'± conf':>10}{'sigma':>12}")
            for _, r in rows.head(top).iterrows():
                zero = "  ≈ 0" if r["mu_star"] <= r["mu_star_conf"] else ""
                print(f"  {r['parameter']:<48}{_fmt(r['mu_star']):>12}{_fmt(r['mu_star_conf']):>10}{_fmt(r['sigma']):>12}{zero}")
        else:
            print(f"  {'parameter':<48}{'S1':>8}{'± conf':>8}{'ST':>8}{'± conf':>8}")
            for _, r in rows.head(top).iterrows():
                print(f"  {r['parameter']:<48}{r['S1']:>8.3f}{r['S1_conf']:>8.3f}{r['ST']:>8.3f}{r['ST_conf']:>8.3f}")
    if not args.no_plots:
        from sim.outputs.sensitivity_figures import sensitivity_figures

        for stem, fig in sensitivity_figures(res.table).items():
            save_png(out / f"{stem}.png", fig)
    print(f"\nwritten to {out}/ (sensitivity.csv, results.csv, manifest.json{'' if args.no_plots else ', plots'})")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from sim.description.key_table import keys_markdown

    print(keys_markdown(), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from sim._version import __version__

    p = _Parser(prog="airlift", description="Simulate evacuation airlift capacity through one secured airport.")
    p.add_argument("--version", action="version", version=f"airlift {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("run", help="run a scenario (default: Kabul 2021) with replications")
    r.add_argument("scenario", nargs="?", help="scenario TOML file (default: the Kabul 2021 reference)")
    r.add_argument("--replications", "-n", type=int, default=10, metavar="N")
    r.add_argument("--seed", type=int, default=0, metavar="S")
    r.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a dotted key, e.g. security.end=20")
    r.add_argument("--out", metavar="DIR", help="output folder (default: out/<scenario name>)")
    r.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    r.add_argument(
        "--precision",
        type=float,
        metavar="P",
        help="add replications until the 95%% half-width of stranded_total is within P of its mean",
    )
    r.add_argument("--max-replications", type=int, default=200, metavar="N", help="cap for --precision")
    r.add_argument(
        "--workers", type=int, metavar="N", help="run replications on N local processes (or Dask LocalCluster workers)"
    )
    r.add_argument("--dask", metavar="ADDRESS", help="run on a dask.distributed scheduler at ADDRESS, or 'local'")
    r.add_argument("--format", choices=FORMATS, default="csv", help="table format: csv (default) or parquet (needs pyarrow)")
    r.add_argument("--ensemble", metavar="FILE", help="spread replications over plausible settings (airlift calibrate)")
    r.add_argument("--report", action="store_true", help="also write DIR/report.html")
    r.set_defaults(func=cmd_run)

    v = sub.add_parser("validate", help="check scenario or sweep files without running them")
    v.add_argument("scenarios", nargs="+", metavar="FILE")
    v.set_defaults(func=cmd_validate)

    w = sub.add_parser("sweep", help="run a parameter sweep (grid or Latin hypercube) on any executor")
    w.add_argument(
        "target",
        nargs="?",
        metavar="SCENARIO_OR_SWEEP",
        help="a scenario (default: Kabul 2021) or a sweep file with a [vary] table",
    )
    w.add_argument(
        "--vary", action="append", metavar="KEY=VALUES", help="V1,V2,... or START:STOP:STEP (inclusive); with --samples, LO:HI"
    )
    w.add_argument("--samples", type=int, metavar="N", help="a Latin hypercube of N points instead of the grid")
    w.add_argument("--replications", "-n", type=int, metavar="N")
    w.add_argument("--seed", type=int, metavar="S")
    w.add_argument("--set", action="append", metavar="KEY=VALUE", help="fixed overrides of the base scenario")
    w.add_argument("--metric", action="append", metavar="NAME", help="metrics to report and plot")
    w.add_argument("--out", metavar="DIR", help="output folder (default: out/sweep)")
    w.add_argument("--workers", type=int, metavar="N", help="local worker processes (or Dask LocalCluster workers)")
    w.add_argument("--dask", metavar="ADDRESS", help="a dask.distributed scheduler address, or 'local'")
    w.add_argument("--resume", action="store_true", help="run only the tasks missing from DIR/results.csv")
    w.add_argument("--no-plots", action="store_true")
    w.add_argument("--format", choices=FORMATS, default="csv", help="points table format: csv (default) or parquet")

    w.add_argument("--ensemble", metavar="FILE", help="spread replications over plausible settings (airlift calibrate)")
    w.add_argument("--report", action="store_true", help="also write DIR/report.html")
    w.set_defaults(func=cmd_sweep)

    m = sub.add_parser("metrics", help="print every metric name with its meaning")
    m.add_argument("scenario", nargs="?", help="also list the metric names of this scenario")
    m.set_defaults(func=cmd_metrics)

    a = sub.add_parser("sensitivity", help="global sensitivity analysis of the [uncertain] parameters (Morris or Sobol)")
    a.add_argument("scenario", nargs="?", help="scenario TOML file (default: the Kabul 2021 reference)")
    a.add_argument("--method", choices=["morris", "sobol"], default="morris", help="Morris screening (default) or Sobol indices")
    a.add_argument("--trajectories", type=int, default=10, metavar="R", help="Morris trajectories: (k+1) x R points")
    a.add_argument("--samples", type=int, default=64, metavar="N", help="Sobol base samples, a power of 2: (k+2) x N points")
    a.add_argument("--vary", action="append", metavar="KEY=LO:HI", help="add or replace an uncertain parameter (uniform)")
    a.add_argument("--replications", "-n", type=int, default=1, metavar="N", help="replications per point (averaged)")
    a.add_argument("--seed", type=int, default=0, metavar="S")
    a.add_argument("--metric", action="append", metavar="NAME", help="outputs to analyse (default: totals, stranded by cohort)")
    a.add_argument("--out", metavar="DIR", help="output folder (default: out/sensitivity-<method>)")
    a.add_argument("--workers", type=int, metavar="N", help="local worker processes (or Dask LocalCluster workers)")
    a.add_argument("--dask", metavar="ADDRESS", help="a dask.distributed scheduler address, or 'local'")
    a.add_argument("--resume", action="store_true", help="run only the points missing from DIR/results.csv")
    a.add_argument("--no-plots", action="store_true")
    a.set_defaults(func=cmd_sensitivity)

    k = sub.add_parser("keys", help="print every scenario key with its type, default and meaning")
    k.set_defaults(func=cmd_keys)

    c = sub.add_parser("compare", help="paired comparison of two scenarios (common random numbers)")
    c.add_argument("a", metavar="A.toml")
    c.add_argument("b", metavar="B.toml", nargs="?", help="default: A again (compare --set variants)")
    c.add_argument("--replications", "-n", type=int, default=10, metavar="N")
    c.add_argument("--seed", type=int, default=0, metavar="S")
    c.add_argument("--set-a", action="append", metavar="KEY=VALUE")
    c.add_argument("--set-b", action="append", metavar="KEY=VALUE")
    c.add_argument("--out", metavar="DIR", help="output folder (default: out/compare-<A>-<B>-<hash of files and overrides>)")
    c.add_argument(
        "--workers", type=int, metavar="N", help="run replications on N local processes (or Dask LocalCluster workers)"
    )
    c.add_argument("--dask", metavar="ADDRESS", help="run on a dask.distributed scheduler at ADDRESS, or 'local'")
    c.add_argument("--format", choices=FORMATS, default="csv", help="table format: csv (default) or parquet (needs pyarrow)")
    c.add_argument("--no-plots", action="store_true", help="skip differences.png")
    c.add_argument("--ensemble", metavar="FILE", help="spread replications over plausible settings (airlift calibrate)")
    c.add_argument("--report", action="store_true", help="also write DIR/report.html")
    c.set_defaults(func=cmd_compare)
    add_calibrate_parser(sub)

    rp = sub.add_parser("report", help="write DIR/report.html: one self-contained page of a run, compare or sweep folder")
    rp.add_argument("dir", metavar="DIR", help="an output folder of run, compare or sweep")
    rp.set_defaults(func=cmd_report)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.command_line = shlex.join(["airlift", *argv])
    for name in ("replications", "max_replications", "samples", "workers", "trajectories"):
        if getattr(args, name, 1) is not None and getattr(args, name, 1) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if getattr(args, "seed", None) is not None and not 0 <= args.seed < 2**63:
        parser.error("--seed must be a whole number from 0 to 2**63 - 1")
    if getattr(args, "precision", None) is not None and not 0 < args.precision < 1:
        parser.error("--precision must be a fraction between 0 and 1, e.g. 0.05")
    try:
        return int(args.func(args))
    except ScenarioError as e:
        print(e, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        hint = ": run the same command with --resume to finish" if args.command in ("sweep", "calibrate", "sensitivity") else ""
        print(f"interrupted{hint}", file=sys.stderr)
        return 130
    except Exception as e:  # anything else: one line, exit 1
        print(f"airlift: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


def entry() -> None:  # console script
    raise SystemExit(main())
