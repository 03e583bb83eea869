"""What ``airlift report`` reads from a folder, checked before use: ``summary.json``,
``compare.json`` and ``manifest.json`` against pydantic schemas, and the files of a run, a
comparison or a sweep against the digests its summary or manifest lists. Anything else is refused with a
``ScenarioError`` naming the file and the problem (exit 2), never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from sim.description.errors import ScenarioError
from sim.outputs.files import read_json
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
]

_MAX_PROBLEMS = 8

FileName = Annotated[str, StringConstraints(pattern=r"^[^./\\\x00][^/\\\x00]*$")]
"""A file name in the folder itself: no path, no hidden file."""


class Checked(BaseModel):
    """Types as JSON has them (no coercion: ``"3"`` is not a number); fields not named here pass."""

    model_config = ConfigDict(extra="allow", strict=True, allow_inf_nan=False)


LARGEST_SEED = 2**63 - 1
"""The largest seed airlift takes (what numpy's seed sequence takes)."""


class Stats(Checked):
    """A metric's mean and interval: finite numbers, or ``null`` where none could be estimated."""

    mean: float | None
    ci95_low: float | None = None
    ci95_high: float | None = None
    values: list[float | None] | None = Field(default=None, min_length=1)
    """One value a replication (``null`` where a replication has none, e.g. no gate wait)."""


class Day(Checked):
    """One local calendar day of ``summary.json``'s ``daily``."""

    date: str
    evacuated: float | None
    departures: float | None
    by_operator: dict[str, float | None] = Field(default_factory=dict)
    binding: str | None = None


class Sealed(Checked):
    """What every sealed summary carries: how it was run, its identity and the digests of its files."""

    seed: int = Field(ge=0, le=LARGEST_SEED)
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
    by_cohort: dict[str, dict[str, float | None]]
    by_operator: dict[str, dict[str, float | None]]
    daily: list[Day]
    intervals: str = ""
    """Why there are no intervals (one replication); absent otherwise, never ``null``."""
    overrides: dict[str, Any] = Field(default_factory=dict)

    @field_validator("metrics", mode="before")
    @classmethod
    def _has_headline(cls, metrics: Any) -> Any:
        from sim.experiments.replications import HEADLINE

        missing = [name for name in HEADLINE if name not in metrics] if isinstance(metrics, dict) else []
        if missing:
            raise ValueError(f"lacks the headline metric{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        return metrics


class Side(Checked):
    scenario: dict[str, Any]


class Difference(Checked):
    a_mean: float | None
    b_mean: float | None
    difference_mean: float | None
    ci95_low: float | None = None
    ci95_high: float | None = None
    values: list[float | None] | None = Field(default=None, min_length=1)


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
    if err["type"] == "value_error":
        return str(err["ctx"]["error"])
    if err["type"] == "finite_number":
        return "not a finite number (JSON has no NaN or Infinity: airlift writes null)"
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
