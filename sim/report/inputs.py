"""What ``airlift report`` reads from a folder, checked before use: ``summary.json``,
``compare.json`` and ``manifest.json`` against pydantic schemas, and the files of a run, a
comparison or a sweep against the digests its summary or manifest lists. Anything else is refused with a
``ScenarioError`` naming the file and the problem (exit 2), never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from sim.description.errors import ScenarioError
from sim.outputs.folders import check_seal

__all__ = [
    "RunSummary",
    "CompareSummary",
    "Manifest",
    "read_json",
    "read_checked",
    "read_run",
    "read_compare",
    "check_sweep",
    "MAX_BYTES",
]

MAX_BYTES = 512 * 2**20
"""Larger than any summary or manifest airlift writes (the Kabul run's summary is ~1 MB)."""
_MAX_PROBLEMS = 8

FileName = Annotated[str, StringConstraints(pattern=r"^[^./\\\x00][^/\\\x00]*$")]
"""A file name in the folder itself: no path, no hidden file."""


class Checked(BaseModel):
    """Types as JSON has them (no coercion: ``"3"`` is not a number); fields not named here pass."""

    model_config = ConfigDict(extra="allow", strict=True)


class Stats(Checked):
    mean: float | None
    ci95_low: float | None = None
    ci95_high: float | None = None


class Sealed(Checked):
    """What every sealed summary carries: how it was run, its identity and the digests of its files."""

    seed: int
    replications: int = Field(ge=1)
    version: str
    command: str | None = None
    scenario_file: str | None = None
    run_id: str
    files: dict[FileName, str]


class RunSummary(Sealed):
    """``summary.json`` of ``airlift run``."""

    scenario: dict[str, Any]
    metrics: dict[str, Stats]
    overrides: dict[str, Any] = Field(default_factory=dict)


class Side(Checked):
    scenario: dict[str, Any]


class Difference(Checked):
    a_mean: float | None
    b_mean: float | None
    difference_mean: float | None
    ci95_low: float | None = None
    ci95_high: float | None = None


class CompareSummary(Sealed):
    """``compare.json`` of ``airlift compare``."""

    a: Side
    b: Side
    differences: dict[str, Difference]


class SweepDefinition(Checked):
    scenario: str | None = None
    vary: dict[str, list[Any]] = Field(default_factory=dict)
    points: list[dict[str, Any]] = Field(default_factory=list)
    set: dict[str, Any] | None = None


class Manifest(Checked):
    """``manifest.json`` of a sweep or a sensitivity analysis (a calibration's has no scenario)."""

    scenario: dict[str, Any] | None = None
    sweep: SweepDefinition = Field(default_factory=SweepDefinition)
    version: str | None = None
    command: str | None = None
    scenario_hash: str | None = None
    files: dict[FileName, str] | None = None
    """A sweep's ``results.csv`` and what was derived from it, with their digests (absent until the sweep ends)."""


Model = TypeVar("Model", bound=BaseModel)


def read_json(path: Path) -> Any:
    """The JSON value of ``path``; a file that is unreadable, too large, not UTF-8, not JSON or
    nested too deeply is a ``ScenarioError`` naming it."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ScenarioError(str(path), [("", f"{size:,} bytes: too large to be a file airlift wrote")])
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        problem = "not UTF-8 text"
    except json.JSONDecodeError as e:
        problem = f"not JSON ({e.msg} at line {e.lineno}, column {e.colno})"
    except RecursionError:
        problem = "nested too deeply to be a file airlift wrote"
    except OSError as e:
        problem = f"cannot be read: {e.strerror or e}"
    raise ScenarioError(str(path), [("", problem)])


def read_checked(path: Path, model: type[Model]) -> tuple[dict[str, Any], Model]:
    """The JSON object of ``path`` and the same checked against ``model``; each problem found is
    a field of the ``ScenarioError`` (at most eight)."""
    data = read_json(path)
    try:
        checked = model.model_validate(data)
    except ValidationError as e:
        errors = e.errors()
        problems = [(".".join(str(x) for x in err["loc"]), _message(err)) for err in errors[:_MAX_PROBLEMS]]
        if len(errors) > _MAX_PROBLEMS:
            problems.append(("", f"and {len(errors) - _MAX_PROBLEMS} more problems"))
        problems.append(("", "not as airlift writes it: run the command again"))
        raise ScenarioError(str(path), problems) from None
    except RecursionError:
        raise ScenarioError(str(path), [("", "nested too deeply to be a file airlift wrote")]) from None
    return data, checked


_JSON_TYPES = {"dict": "an object", "list": "an array", "str": "a string", "int": "a number", "float": "a number"}


def _message(err: Any) -> str:
    """Pydantic's message, with what was found in JSON's words."""
    if err["type"] == "missing":
        return "missing"
    if err["type"] == "string_pattern_mismatch":
        return "not a file name of this folder"
    got = err.get("input")
    found = "null" if got is None else "a boolean" if isinstance(got, bool) else _JSON_TYPES.get(type(got).__name__, "a value")
    if err["type"] == "model_type":
        return f"{found}, not an object"
    return f"{err['msg']} (found {found})"


def read_run(out: Path) -> dict[str, Any]:
    """``summary.json`` of the run folder ``out``, checked, and its files checked against it."""
    data, checked = read_checked(out / "summary.json", RunSummary)
    check_seal(out, "summary.json", checked.files)
    return data


def read_compare(out: Path) -> dict[str, Any]:
    """``compare.json`` of the comparison folder ``out``, checked, and its files checked against it."""
    data, checked = read_checked(out / "compare.json", CompareSummary)
    check_seal(out, "compare.json", checked.files)
    return data


def check_sweep(out: Path, manifest: Manifest) -> None:
    """Refuse (``ScenarioError``) a sweep folder whose results, tables or figures are not those its
    manifest lists: a sweep that never ended (no ``files``), a file changed since or left by an
    earlier sweep, or one missing."""
    from sim.experiments.sweeps import DERIVED_TABLES, MANIFEST, RESULTS

    if manifest.files is None or RESULTS not in manifest.files:
        why = "lists no files: the sweep did not end (or an older airlift wrote it); run the same airlift sweep with --resume"
        raise ScenarioError(str(out / MANIFEST), [("files", why)])
    unlisted = [(name, f"not written by the sweep of {MANIFEST}") for name in DERIVED_TABLES if (out / name).is_file()]
    unlisted = [(name, why) for name, why in unlisted if name not in manifest.files]
    try:
        check_seal(out, MANIFEST, manifest.files)
    except ScenarioError as e:
        raise ScenarioError(e.source, [*unlisted, *e.problems]) from None
    if unlisted:
        raise ScenarioError(str(out), [*unlisted, ("", "the folder mixes runs: run the command again to write it whole")])
