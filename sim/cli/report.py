"""The ``airlift report`` command, and ``--report`` of run, compare and sweep: one self-contained HTML page
of an output folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sim.cli.parents import Parents

__all__ = ["add_parser", "cmd", "write_report_if_asked"]


def add_parser(subparsers: Any, parents: Parents) -> None:
    parser = subparsers.add_parser(
        "report", help="write DIR/report.html: one self-contained page of a run, compare or sweep folder"
    )
    parser.add_argument("dir", metavar="DIR", help="an output folder of run, compare or sweep")
    parser.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    from sim.report.html import write_report

    print(f"written to {write_report(Path(args.dir))}")
    return 0


def write_report_if_asked(args: argparse.Namespace, out: Path) -> None:
    """``DIR/report.html`` of a command's output folder, if ``--report`` was given."""
    if args.report:
        from sim.report.html import write_report

        print(f"report: {write_report(out)}")
