"""The ``airlift validate`` command: check scenario and sweep files without running them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sim.cli.parents import Parents
from sim.description.errors import ScenarioError

__all__ = ["GUIDE_POINTER", "add_parser", "cmd", "is_sweep_file"]

GUIDE_POINTER = (
    "how to write a scenario: docs/writing-a-scenario.md in the airlift sources, "
    "and the template `airlift validate templates/minimal.toml` (it prints where the file is); every key: `airlift keys`"
)
"""The line printed after a failed validation: where the guide, the template and the key list are."""


def add_parser(subparsers: Any, parents: Parents) -> None:
    parser = subparsers.add_parser("validate", help="check scenario or sweep files without running them")
    parser.add_argument("scenarios", nargs="+", metavar="FILE")
    parser.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    """Every file checked, each bad one reported, then where the guide is; exit 2 if any is bad."""
    bad = 0
    for path in args.scenarios:
        try:
            print(_checked(path))
        except ScenarioError as e:
            print(e, file=sys.stderr)
            bad += 1
    if bad:
        print(GUIDE_POINTER, file=sys.stderr)
    return 2 if bad else 0


def _checked(path: str) -> str:
    """What a good file holds, in one line; a bad one raises :class:`ScenarioError`."""
    from sim.description.loading import load_scenario, resolve_path

    if is_sweep_file(path):
        from sim.experiments import sweeps

        spec = sweeps.load_sweep_file(path if Path(path).is_file() else resolve_path(path))
        sweeps.validate_sweep(spec)
        return f"{path}: ok (sweep of {spec.source()}; {len(spec.points())} points x {spec.replications} replications)"
    s = load_scenario(path)
    return (
        f"{resolve_path(path)}: ok ({s.name}; {len(s.cohorts)} cohorts, {len(s.fleets)} fleets, "
        f"{len(s.gates)} gates, {len(s.bases)} bases)"
    )


def is_sweep_file(path: str) -> bool:
    """A sweep file, told by its content: a ``[vary]`` table or a ``scenario`` key (which no
    scenario file has). A file that cannot be read raises the loader's error."""
    from sim.description.loading import read_toml, resolve_path

    raw = read_toml(Path(path) if Path(path).is_file() else resolve_path(path))
    return isinstance(raw.get("vary"), dict) or isinstance(raw.get("scenario"), str)
