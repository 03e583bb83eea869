"""Argument checks of the command line, as argparse ``type=`` callables (a bad value is refused with exit 2
before anything runs), the output folder's check, and dotted ``--set`` overrides read into a mapping."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.description.errors import ScenarioError
from sim.description.overrides import parse_override

__all__ = [
    "at_least_one",
    "distinct_keys",
    "existing_file",
    "fraction",
    "output_folder",
    "overrides_of",
    "provenance",
    "question_folder",
    "seed",
    "usable_folder",
]

LARGEST_SEED = 2**63 - 1


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None


def at_least_one(text: str) -> int:
    """A count (replications, workers, samples...): a whole number, at least 1."""
    number = _whole_number(text)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def seed(text: str) -> int:
    """A random seed: a whole number from 0 to 2**63 - 1 (what numpy's seed sequence takes)."""
    number = _whole_number(text)
    if not 0 <= number <= LARGEST_SEED:
        raise argparse.ArgumentTypeError("must be a whole number from 0 to 2**63 - 1")
    return number


def fraction(text: str) -> float:
    """A fraction strictly between 0 and 1 (a relative precision)."""
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not 0 < number < 1:  # also refuses nan
        raise argparse.ArgumentTypeError("must be a fraction between 0 and 1, e.g. 0.05")
    return number


def existing_file(text: str) -> str:
    """The name of a file that exists (an ensemble, a targets file)."""
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"{text}: file not found")
    return text


def _folder_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot receive output (it must be a folder, or not exist yet, that this user
    can write into or create), or ``None``."""
    if folder.exists() and not folder.is_dir():
        return "exists and is not a folder"
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"cannot write into {probe}"
    return None


def usable_folder(text: str) -> Path:
    """An output folder given with ``--out``: checked before anything runs."""
    problem = _folder_problem(Path(text))
    if problem:
        raise argparse.ArgumentTypeError(f"{text}: {problem}")
    return Path(text)


def output_folder(given: Path | None, default: Path) -> Path:
    """The output folder: ``--out`` (already checked by :func:`usable_folder`), else ``default``,
    checked here before anything runs."""
    if given is not None:
        return given
    problem = _folder_problem(default)
    if problem:
        raise ScenarioError("--out", [(str(default), problem)])
    return default


def overrides_of(items: Sequence[str] | None) -> dict[str, Any]:
    """``["gates.abbey.lanes=6", ...]`` as ``{"gates.abbey.lanes": 6}``, each value read as TOML."""
    return dict(parse_override(x) for x in items or [])


def distinct_keys(items: Sequence[str] | None, option: str = "--vary") -> list[str]:
    """``items`` (``KEY=...`` each), refused (``ScenarioError``) if a key is given twice: the
    second would silently replace the first."""
    seen: set[str] = set()
    for item in items or []:
        key = item.partition("=")[0].strip()
        if key in seen:
            raise ScenarioError(option, [(key, "given twice: give each key once, with all its values")])
        seen.add(key)
    return list(items or [])


def question_folder(stem: str, question: Mapping[str, Any]) -> Path:
    """``out/<stem>-<hash>``: the hash (8 hex digits) of everything that makes the question what it is,
    so each question gets its own default folder and asking the same one again reuses it."""
    digest = hashlib.sha256(json.dumps(question, sort_keys=True).encode()).hexdigest()[:8]
    return Path("out") / f"{stem}-{digest}"


def provenance(args: argparse.Namespace, scenario: str | None, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What every output folder records of how it was made: the command line, the scenario file's
    absolute path and, where the command takes ``--set``, the overrides."""
    from sim.description.loading import resolve_path

    out: dict[str, Any] = {"command": args.command_line, "scenario_file": str(resolve_path(scenario).resolve())}
    return out if overrides is None else out | {"overrides": dict(overrides)}
