"""The ``airlift`` command: the parser assembled from one module per command, and the dispatch.

``main(argv) -> int`` is tested in-process; it returns the exit code: 0 success, 2 bad input (scenario
or arguments), 1 anything else, 130 interrupted.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from typing import NoReturn

from sim.cli import calibrate, compare, explain, keys, metrics, plan, report, run, sensitivity, sweep, validate
from sim.cli.parents import Parents
from sim.description.errors import ScenarioError

__all__ = ["build_parser", "entry", "main"]

COMMANDS = (run, validate, sweep, metrics, sensitivity, keys, compare, plan, explain, calibrate, report)
"""The command modules, in the order ``airlift --help`` lists them: each has ``add_parser`` and ``cmd``."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from sim._version import __version__

    parser = _Parser(prog="airlift", description="Simulate evacuation airlift capacity through one secured airport.")
    parser.add_argument("--version", action="version", version=f"airlift {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    parents = Parents()
    for command in COMMANDS:
        command.add_parser(subparsers, parents)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # a bad argument (2, argparse's message printed), --help or --version (0): nothing ran
        return int(stop.code or 0)
    args.command_line = shlex.join(["airlift", *argv])
    try:
        return int(args.func(args))
    except ScenarioError as e:
        print(e, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        hint = ": run the same command with --resume to finish" if "resume" in vars(args) else ""
        print(f"interrupted{hint}", file=sys.stderr)
        return 130
    except Exception as e:  # anything else: one line, exit 1
        print(f"airlift: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


def entry() -> None:  # console script
    raise SystemExit(main())
