"""The ``airlift metrics`` command: every metric name with its meaning (and a scenario's own names)."""

from __future__ import annotations

import argparse
from typing import Any

from sim.cli.parents import Parents

__all__ = ["add_parser", "cmd"]


def add_parser(subparsers: Any, parents: Parents) -> None:
    parser = subparsers.add_parser("metrics", help="print every metric name with its meaning")
    parser.add_argument("scenario", nargs="?", help="also list the metric names of this scenario")
    parser.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    from sim.description.loading import load_scenario
    from sim.description.metric_catalog import metrics_text

    print(metrics_text(load_scenario(args.scenario) if args.scenario else None), end="")
    return 0
