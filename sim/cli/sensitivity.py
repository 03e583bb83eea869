"""The ``airlift sensitivity`` command: global sensitivity analysis of the ``[uncertain]`` parameters
(Morris screening or Sobol indices), its ranked tables and plots."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli import arguments
from sim.cli.parents import Parents
from sim.cli.printing import Progress, number

if TYPE_CHECKING:
    from sim.analysis.sensitivity import SensitivityResult

__all__ = ["add_parser", "cmd"]

TOP = 15
"""How many parameters each metric's printed ranking shows."""


def add_parser(subparsers: Any, parents: Parents) -> None:
    parser = subparsers.add_parser(
        "sensitivity",
        help="global sensitivity analysis of the [uncertain] parameters (Morris or Sobol)",
        parents=[
            parents.scenario,
            parents.ranges,
            parents.replications(1),
            parents.seed(0),
            parents.metrics,
            parents.out,
            parents.executor,
            parents.resume,
            parents.plots,
        ],
        epilog="DIR defaults to out/sensitivity-<method>.",
    )
    parser.add_argument(
        "--method", choices=["morris", "sobol"], default="morris", help="Morris screening (default) or Sobol indices"
    )
    parser.add_argument(
        "--trajectories", type=arguments.at_least_one, default=10, metavar="R", help="Morris trajectories: (k+1) x R points"
    )
    parser.add_argument(
        "--samples",
        type=arguments.at_least_one,
        default=64,
        metavar="N",
        help="Sobol base samples, a power of 2: (k+2) x N points",
    )
    parser.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    from sim.analysis import sensitivity
    from sim.description.uncertainty import parse_ranges
    from sim.experiments.executors import make_executor
    from sim.outputs.folders import claim_folder

    out = arguments.output_folder(args.out, Path("out") / f"sensitivity-{args.method}")
    with claim_folder(out, args.command_line, resumable=True, kind="sensitivity"):
        with Progress("sensitivity runs", "run", smoothing=0.1) as bar:
            with make_executor(args.workers, args.dask) as executor:
                result = sensitivity.run_sensitivity(
                    args.scenario,
                    args.method,
                    out,
                    vary=parse_ranges(arguments.distinct_keys(args.vary)),
                    trajectories=args.trajectories,
                    samples=args.samples,
                    replications=args.replications,
                    seed=args.seed,
                    metrics=args.metric,
                    executor=executor,
                    resume=args.resume,
                    on_total=bar.start,
                    progress=bar.update,
                )
        design, sweep = result.design, result.sweep
        print(
            f"{args.method} on {len(design.params)} uncertain parameters: {len(design.unit)} points x {args.replications} "
            f"replications, seed {args.seed}; {sweep.ran} runs, {sweep.skipped} already done"
        )
        _print_rankings(result)
        if not args.no_plots:
            from sim.outputs.files import save_png
            from sim.outputs.sensitivity_figures import sensitivity_figures

            for stem, figure in sensitivity_figures(result.table).items():
                save_png(out / f"{stem}.png", figure)
        print(f"\nwritten to {out}/ (sensitivity.csv, results.csv, manifest.json{'' if args.no_plots else ', plots'})")
        return 0


def _print_rankings(result: SensitivityResult) -> None:
    """Each metric's most influential parameters, with their indices and 95% bootstrap intervals."""
    for metric in result.metrics:
        rows = result.ranked(metric)
        print(f"\n{metric}: the {min(TOP, len(rows))} most influential of {len(rows)} (95% bootstrap intervals)")
        width = max(48, *(len(str(name)) + 2 for name in rows.head(TOP)["parameter"]))  # long keys keep the columns aligned
        if result.design.method == "morris":
            print(f"  {'parameter':<{width}}{'mu*':>12}{'± conf':>10}{'sigma':>12}")
            for _, r in rows.head(TOP).iterrows():
                zero = "  ≈ 0" if r["mu_star"] <= r["mu_star_conf"] else ""
                indices = f"{number(r['mu_star']):>12}{number(r['mu_star_conf']):>10}{number(r['sigma']):>12}"
                print(f"  {r['parameter']:<{width}}{indices}{zero}")
        else:
            print(f"  {'parameter':<{width}}{'S1':>8}{'± conf':>8}{'ST':>8}{'± conf':>8}")
            for _, r in rows.head(TOP).iterrows():
                print(f"  {r['parameter']:<{width}}{r['S1']:>8.3f}{r['S1_conf']:>8.3f}{r['ST']:>8.3f}{r['ST_conf']:>8.3f}")
