"""The sweep file (``airlift sweep FILE.toml``) as a pydantic model: which keys it may hold, their
types and bounds, and errors that name the file and the dotted field (exit 2). Turning it into
the points to run is :mod:`sim.experiments.sweeps`."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from sim.description.errors import ScenarioError
from sim.description.loading import read_toml

__all__ = ["SweepFile", "read_sweep_file", "iso_times", "LIMITS", "DEFAULT_METRICS"]

LIMITS = {"replications": (1, 100_000), "seed": (0, 2**63 - 1), "samples": (1, 100_000)}
"""Bounds of a sweep's ``replications``, ``seed`` and ``samples``."""
DEFAULT_METRICS = ("evacuated_total", "stranded_total")
"""What a sweep reports and plots unless told otherwise."""


Replications = Annotated[StrictInt, Field(ge=LIMITS["replications"][0], le=LIMITS["replications"][1])]
Seed = Annotated[StrictInt, Field(ge=LIMITS["seed"][0], le=LIMITS["seed"][1])]
Samples = Annotated[StrictInt, Field(ge=LIMITS["samples"][0], le=LIMITS["samples"][1])]

Values = StrictStr | Annotated[list[Any], Field(min_length=1)]
"""One swept key's values: a list, or a ``"V1,V2"`` / ``"START:STOP:STEP"`` string."""


class SweepFile(BaseModel):
    """A sweep described in TOML."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: StrictStr
    """The scenario file to sweep, relative to the sweep file (or a bundled one)."""
    vary: Annotated[dict[str, Values], Field(min_length=1)]
    """Dotted keys and their values."""
    replications: Replications = 5
    seed: Seed = 0
    samples: Samples | None = None
    """A Latin hypercube of this many points over the ``vary`` ranges, instead of the grid."""
    set: dict[str, Any] = Field(default_factory=dict)
    """Fixed overrides of the base scenario."""
    metrics: list[StrictStr] = Field(default_factory=lambda: list(DEFAULT_METRICS))
    description: StrictStr = ""


_MESSAGES = {
    "scenario": "missing: the scenario file to sweep, relative to this file",
    "vary": "missing: a table of dotted keys and their values",
    "set": "must be a table of dotted keys and values",
    "metrics": "must be a list of metric names (see `airlift metrics`)",
    "description": "must be a string",
    **{k: f"must be a whole number from {lo} to {hi:,}" for k, (lo, hi) in LIMITS.items()},
}
_VARY_VALUE = 'expected a list of values or a "START:STOP:STEP" string'


def _problem(loc: tuple[Any, ...], kind: str, message: str) -> tuple[str, str]:
    """``(dotted field, message)`` of one pydantic error, in the words the sweep docs use."""
    if kind == "extra_forbidden":
        return str(loc[0]), "unknown key (check the spelling; unknown keys are errors)"
    if loc[0] == "vary" and len(loc) >= 2:
        return f"vary.{loc[1]}", _VARY_VALUE
    return str(loc[0]), _MESSAGES.get(str(loc[0]), message)


def read_sweep_file(path: Path) -> SweepFile:
    """The file validated, or a :class:`ScenarioError` naming it and every bad field."""
    raw = read_toml(path)
    try:
        return SweepFile.model_validate(raw)
    except ValidationError as e:
        problems: list[tuple[str, str]] = []
        for err in e.errors(include_url=False):
            problem = _problem(tuple(err["loc"]), err["type"], err["msg"])
            if problem not in problems:
                problems.append(problem)
        raise ScenarioError(str(path), problems) from None


def iso_times(value: Any) -> Any:
    """``value`` with every datetime, date and time (at any depth) as its ISO text: a sweep holds
    times as ``--set`` does (plain data, saved as JSON), and the scenario reads the text as a time."""
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [iso_times(v) for v in value]
    if isinstance(value, dict):
        return {k: iso_times(v) for k, v in value.items()}
    return value
