"""Parameter sweeps: a grid or a Latin hypercube of points, replications, any Executor.

Each (point, replication) is one task of the task engine (:mod:`sim.experiments.tasks`):
replication ``r`` of every point draws from the same random streams (common random numbers), so
differences between points are paired. Rows are appended to ``results.csv`` as tasks finish, so
memory stays flat and an interrupted sweep resumes where it stopped. Results are identical
whatever runs them (serial, a local process pool, a Dask cluster). What was derived from the rows
(tables, figures) goes before they change; the manifest lists the digest of every file at the end.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from sim.description.errors import ScenarioError
from sim.description.loading import load_scenario, resolve_path
from sim.description.metric_catalog import check_metrics, metric_names
from sim.description.overrides import parse_override
from sim.description.scenario import Scenario
from sim.experiments.ensemble import Ensemble
from sim.experiments.identity import scenario_hash
from sim.experiments.replications import ReplicationResult, as_executor, make_executor, run_replication
from sim.experiments.sweep_file import DEFAULT_METRICS, iso_times, read_sweep_file
from sim.experiments.tasks import MAX_IN_FLIGHT, Progress, ResultsCsv, TaskFailure, TasksFailed, TasksNotRun, cell, run_tasks
from sim.statistics import point_summary

__all__ = [
    "SweepSpec",
    "parse_vary",
    "load_sweep_file",
    "latin_hypercube",
    "run_sweep",
    "SweepResult",
    "read_results",
    "point_summary",
    "make_executor",
    "validate_sweep",
    "times_in_days",
    "derived_files",
    "seal_sweep",
    "DERIVED_TABLES",
]

MAX_VALUES = 10_000
"""Most values one ``--vary`` range may expand to."""
MAX_POINTS = 1_000_000
"""Most points of one sweep (grid or Latin hypercube)."""
RESULTS = "results.csv"
MANIFEST = "manifest.json"
DERIVED_TABLES = ("points.csv", "points.parquet", "capacity_curve.json", "security_window_curve.csv")
"""The tables airlift derives from a sweep's ``results.csv`` (its figures: :func:`sim.outputs.sweep_figures.figure_names`)."""
REPORT = "report.html"


def _number(text: str) -> float | int:
    v = float(text)
    return int(v) if v.is_integer() and "." not in text and "e" not in text.lower() else v


def _is_time(text: str) -> bool:
    """Whether ``text`` is an ISO datetime (its colons make no range)."""
    try:
        datetime.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


def parse_values(key: str, text: str | Sequence[Any]) -> list[Any]:
    """``"1,2,3"`` (each read as a TOML value), ``"14:30:2"`` (inclusive range) or a list."""
    if not isinstance(text, str):
        return list(text)
    if ":" in text and "," not in text and not text.strip().startswith(('"', "'")) and not _is_time(text):
        parts = text.split(":")
        try:
            nums = [_number(p) for p in parts]
        except ValueError:
            nums = []
        if not all(math.isfinite(x) for x in nums):
            raise ScenarioError("--vary", [(key, f"bad range {text!r}: every bound must be a finite number")])
        if len(nums) == 3 and nums[2] > 0 and nums[1] >= nums[0]:
            start, stop, step = nums
            n = int(math.floor((stop - start) / step + 1e-9)) + 1
            if n > MAX_VALUES:
                raise ScenarioError("--vary", [(key, f"range {text!r} has {n:,} values; at most {MAX_VALUES:,} per key")])
            vals = [start + i * step for i in range(n)]
            return [round(v, 10) if isinstance(v, float) else v for v in vals]
        if len(nums) == 2 and nums[1] > nums[0]:
            return [nums[0], nums[1]]  # a continuous range, for --samples
        raise ScenarioError("--vary", [(key, f"bad range {text!r}: expected START:STOP:STEP with STOP >= START, STEP > 0")])
    return [parse_override(f"{key}={v.strip()}")[1] for v in text.split(",") if v.strip()]


def parse_vary(items: Sequence[str]) -> dict[str, list[Any]]:
    """``["security.end=14:30:2", "gates.abbey.lanes=4,8"]`` -> ``{key: values}``."""
    out: dict[str, list[Any]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip() or not text.strip():
            raise ScenarioError("--vary", [(item, "expected KEY=V1,V2,... or KEY=START:STOP:STEP")])
        out[key.strip()] = parse_values(key.strip(), text)
    return out


def latin_hypercube(ranges: Mapping[str, Sequence[float]], samples: int, seed: int) -> list[dict[str, float]]:
    """``samples`` points, one in each of ``samples`` equal strata of every range: SciPy's
    :class:`~scipy.stats.qmc.LatinHypercube` on a random stream of ``seed``. A range given by two
    integers yields integers (rounded to the nearest).

    The same seed gives the same points; they differ from those of versions before this one, which
    drew the strata with their own code (the design is the same, the random numbers are not).
    """
    from scipy.stats import qmc

    gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0x1A7])))
    unit = qmc.LatinHypercube(d=len(ranges), rng=gen).random(samples)
    cols: dict[str, list[Any]] = {}
    for j, (key, values) in enumerate(ranges.items()):
        lo, hi = min(values), max(values)
        x = lo + unit[:, j] * (hi - lo)
        integral = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
        cols[key] = [int(round(v)) for v in x] if integral else [float(v) for v in x]
    return [{k: cols[k][i] for k in ranges} for i in range(samples)]


@dataclass
class SweepSpec:
    """What a sweep runs: a base scenario, the points, the replications and the seed."""

    scenario_path: str | None
    vary: dict[str, list[Any]]
    replications: int = 5
    seed: int = 0
    samples: int | None = None
    set: dict[str, Any] = field(default_factory=dict)
    metrics: list[str] = field(default_factory=lambda: list(DEFAULT_METRICS))
    base: Scenario | None = None
    """A scenario object to sweep instead of ``scenario_path`` (from the Python API)."""
    metrics_source: str = "metrics"
    """Where ``metrics`` came from, for error messages (a sweep file, ``--metric``)."""
    explicit: list[dict[str, Any]] | None = None
    """Points given one by one (``{dotted key: value}``, e.g. a sensitivity design) instead of ``vary``."""

    ensemble: Ensemble | None = None
    """Plausible settings: replication ``r`` of every point runs setting ``r mod K`` (a swept key wins)."""
    outputs: Callable[[Scenario, ReplicationResult], Mapping[str, float]] | None = None
    """Values a task adds beside the metrics, from the run's scenario and result (calibration's dated targets)."""

    def __post_init__(self) -> None:
        # times (TOML datetimes of a sweep file, datetimes from Python) as ISO text, as --set keeps them
        self.vary = {k: iso_times(list(v)) for k, v in self.vary.items()}
        self.set = iso_times(dict(self.set))
        if self.explicit is not None:
            self.explicit = [iso_times(dict(p)) for p in self.explicit]

    def task_point(self, point: dict[str, Any], replication: int) -> dict[str, Any]:
        """The overrides of one task: the ensemble's setting for the replication, then the point's."""
        if self.ensemble is None:
            return point
        return {**self.ensemble.settings[self.ensemble.setting_of(replication)], **point}

    def points(self) -> list[dict[str, Any]]:
        """Every point of the sweep, in order (at most ``MAX_POINTS``)."""
        if self.explicit is not None:
            return [dict(p) for p in self.explicit]
        n = self.samples or math.prod(len(v) for v in self.vary.values())
        if n > MAX_POINTS:
            raise ScenarioError("sweep", [("vary", f"{n:,} points; a sweep has at most {MAX_POINTS:,}")])
        if self.samples:
            return latin_hypercube(self.vary, self.samples, self.seed)
        keys = list(self.vary)
        return [dict(zip(keys, combo)) for combo in itertools.product(*(self.vary[k] for k in keys))]

    def keys(self) -> list[str]:
        """The swept keys, in column order."""
        if self.explicit is not None:
            return list(dict.fromkeys(k for p in self.explicit for k in p))
        return list(self.vary)

    def source(self) -> str:
        return f"<scenario {self.base.name}>" if self.base is not None else str(resolve_path(self.scenario_path))

    def definition(self) -> dict[str, Any]:
        out = {
            "scenario": self.source(),
            "vary": self.vary,
            "samples": self.samples,
            "replications": self.replications,
            "seed": self.seed,
            "set": self.set,
        }
        if self.ensemble is not None:
            out["ensemble"] = {"source": self.ensemble.source, "settings": [dict(x) for x in self.ensemble.settings]}
        return out


def load_sweep_file(path: str | Path) -> SweepSpec:
    """A sweep described in TOML (:class:`~sim.experiments.sweep_file.SweepFile`): ``scenario``,
    ``replications``, ``seed``, ``samples``, ``metrics``, a ``[vary]`` table (lists or
    ``"START:STOP:STEP"`` strings) and a ``[set]`` table."""
    p = Path(path)
    f = read_sweep_file(p)
    scen_path = (p.parent / f.scenario) if not Path(f.scenario).is_absolute() else Path(f.scenario)
    if not scen_path.exists():
        scen_path = resolve_path(f.scenario)
    if not scen_path.is_file():
        raise ScenarioError(str(p), [("scenario", f"scenario file {f.scenario!r} not found (relative to this file, or bundled)")])
    vary = {}
    for k, v in f.vary.items():
        try:
            vary[k] = parse_values(k, v)
        except ScenarioError as e:
            raise ScenarioError(str(p), [(f"vary.{f}", m) for f, m in e.problems]) from None
    return SweepSpec(str(scen_path), vary, f.replications, f.seed, f.samples, dict(f.set), list(f.metrics), metrics_source=str(p))


def _point_task(args: tuple[Scenario, dict[str, Any], int, int]) -> Mapping[str, float]:
    """One (point, replication): the point's scenario is built where the task runs (every point
    was validated, its declared ranges included, before the sweep started)."""
    base, point, seed, replication = args
    return run_replication(base.with_overrides(point, check_uncertain=False), seed, replication).metrics


def _point_task_with_outputs(
    outputs: Callable[[Scenario, ReplicationResult], Mapping[str, float]], args: tuple[Scenario, dict[str, Any], int, int]
) -> Mapping[str, float]:
    """One (point, replication) whose ``outputs`` are written beside its metrics (:attr:`SweepSpec.outputs`)."""
    base, point, seed, replication = args
    scenario = base.with_overrides(point, check_uncertain=False)
    result = run_replication(scenario, seed, replication)
    return {**result.metrics, **outputs(scenario, result)}


def validate_sweep(spec: SweepSpec) -> Scenario:
    """The base scenario, after checking that every point makes a valid scenario and every
    metric named exists (so bad input stops the sweep before anything runs or is written).
    Point scenarios are not kept: memory stays flat."""
    if spec.base is not None:
        base = spec.base.with_overrides(spec.set) if spec.set else spec.base
    else:
        base = load_scenario(spec.scenario_path, spec.set or None)
    where = spec.source()
    for i, p in enumerate(spec.points()):
        base.with_overrides(p, source=f"{where} (sweep point {i}: {p})")
    check_metrics(spec.metrics, base, spec.metrics_source)

    if spec.ensemble is not None:
        spec.ensemble.check(base)
    return base


def _task_of_row(spec: SweepSpec, points: list[dict[str, Any]], row: list[str], header: list[str]) -> tuple[int, int] | None:
    """``(point, replication)`` of a ``results.csv`` row that belongs to this sweep: a known point
    whose values match, a replication in range, the sweep's seed and a number in every metric
    column; else ``None`` (the row is dropped and its task runs again)."""
    keys = spec.keys()
    try:
        i, r, seed = int(row[0]), int(row[len(keys) + 1]), int(row[len(keys) + 2])
        values = [float(x) for x in row[len(keys) + 3 :]]
    except ValueError:
        return None
    if not (0 <= i < len(points) and 0 <= r < spec.replications and seed == spec.seed) or not all(map(math.isfinite, values)):
        return None
    if ["" if points[i].get(k) is None else str(cell(points[i][k])) for k in keys] != row[1 : len(keys) + 1]:
        return None
    return i, r


@dataclass
class SweepResult:
    """Where a sweep wrote its rows; ``table`` reads them as a DataFrame. ``failures``: one
    ``{"point", "replication", "parameters", "error"}`` per task that raised; ``ran``: the tasks
    that ran (rows or failures); ``skipped``: those an earlier run completed; ``not_run``: those
    cancelled or interrupted before they ended (no row: a resumed sweep runs them)."""

    out: Path
    spec: SweepSpec
    failures: list[dict[str, Any]]
    ran: int
    skipped: int
    not_run: int = 0

    @property
    def table(self):  # -> pandas.DataFrame
        return read_results(self.out)

    def raise_failures(self, what: str = "sweep task(s)") -> None:
        """:class:`~sim.experiments.tasks.TasksFailed` naming the first task that raised, if any did;
        else :class:`~sim.experiments.tasks.TasksNotRun` if some never ran."""
        if self.failures:
            named = [
                TaskFailure(f"point {f['point']} {f['parameters']} replication {f['replication']}", f["error"])
                for f in self.failures
            ]
            raise TasksFailed(named, total=self.ran, what=what)
        if self.not_run:
            raise TasksNotRun(self.not_run, self.ran + self.not_run, what)


def read_manifest_start(out: str | Path) -> datetime | None:
    """The start of the swept scenario, from ``manifest.json`` (for dates on plots)."""
    try:
        from sim.outputs.files import read_json

        return datetime.fromisoformat(read_json(Path(out) / MANIFEST)["scenario"]["start"])
    except (ScenarioError, KeyError, TypeError, ValueError):
        return None


def _days_after(value: Any, start: datetime | None) -> float | None:
    """A swept time as days after ``start``: a number already is; ISO text is read as the scenario
    reads it (without an offset, the offset of ``start``); anything else is ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if start is None:
        return None
    return (at.replace(tzinfo=at.tzinfo or start.tzinfo) - start).total_seconds() / 86_400


def times_in_days(table: Any, keys: Sequence[str], start: datetime | None) -> tuple[Any, list[str]]:
    """``table`` with every swept key given as times (ISO text, perhaps among days after start) as
    days after ``start``, for curves and plots; and those keys. Other columns are left as they are."""
    converted: dict[str, list[float]] = {}
    for key in keys:
        if key not in table.columns or table[key].dtype.kind in "biuf":
            continue
        days = [_days_after(v, start) for v in table[key]]
        if all(d is not None for d in days):
            converted[key] = [float(d) for d in days if d is not None]
    return (table.assign(**converted) if converted else table), list(converted)


def read_results(out: str | Path):  # -> pandas.DataFrame
    """``results.csv`` as a DataFrame sorted by point and replication (no rows, if no task ended)."""
    import pandas as pd

    try:
        df = pd.read_csv(Path(out) / RESULTS)
    except pd.errors.EmptyDataError:  # not even a header: every task failed or never ran
        return pd.DataFrame(columns=["point", "replication"])
    return df.sort_values(["point", "replication"], kind="stable").reset_index(drop=True)


def _manifest(spec: SweepSpec, points: list[dict[str, Any]], base: Scenario) -> dict[str, Any]:
    from sim._version import __version__

    return {
        "sweep": spec.definition() | {"points": points},
        "scenario_hash": scenario_hash(base),
        "version": __version__,
        "scenario": base.model_dump(mode="json", by_alias=True),
    }


def _identity(sweep: Any) -> Any:
    """What makes two sweeps the same: everything but how the scenario file was named (a relative or an
    absolute path to the same file; the scenario itself is compared by its hash)."""
    plain = json.loads(json.dumps(sweep))
    return {k: v for k, v in plain.items() if k != "scenario"} if isinstance(plain, dict) else plain


def _start(out: Path, manifest: dict[str, Any], resume: bool) -> None:
    """Write ``manifest.json`` into ``out``: a new sweep needs a folder without ``results.csv``; a
    resumed one, a folder holding the same sweep."""
    from sim.outputs.files import read_json, write_json

    if (out / RESULTS).exists() and not resume:
        raise ScenarioError(str(out), [("", f"{RESULTS} exists: use --resume to complete it, or another --out")])
    if resume and (out / MANIFEST).exists():
        old = read_json(out / MANIFEST)
        if _identity(old.get("sweep")) != _identity(manifest["sweep"]) or old.get("scenario_hash") != manifest["scenario_hash"]:
            raise ScenarioError(str(out / MANIFEST), [("", "--resume: this folder holds a different sweep")])
    write_json(out / MANIFEST, manifest)


def derived_files(out: Path, keys: Sequence[str], metrics: Sequence[str]) -> list[str]:
    """The files of ``out`` that airlift derives from the results of a sweep over ``keys`` reporting
    ``metrics`` (its tables and figures), found by the names airlift gives them: a user's other
    files are never among them."""
    from sim.outputs.sweep_figures import figure_names
    from sim.outputs.window_figures import WINDOW_CURVE

    names = {*DERIVED_TABLES, *figure_names(keys, metrics), f"{WINDOW_CURVE}.png"}
    return sorted(p.name for p in out.iterdir() if p.name in names and p.is_file()) if out.is_dir() else []


def _result_columns(out: Path) -> list[str]:
    """The header of ``results.csv`` (``[]`` if there is none yet)."""
    try:
        with open(out / RESULTS, encoding="utf-8", newline="") as fh:
            return next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def _clear_derived(out: Path, keys: Sequence[str], metrics: Sequence[str]) -> None:
    """Remove what an earlier run derived from results about to change (tables, figures, report):
    stale from now on, they never survive into the new run."""
    for name in [*derived_files(out, keys, [*metrics, *_result_columns(out)]), REPORT]:
        (out / name).unlink(missing_ok=True)


def seal_sweep(out: Path, keys: Sequence[str], derived: Sequence[str] = (), **extra: Any) -> None:
    """Close a sweep folder: remove the derived files that are not among ``derived`` (an earlier
    run's), then write in ``manifest.json`` the digest of ``results.csv`` and of each of
    ``derived`` (``files``), with ``extra`` (e.g. the command line). ``airlift report`` refuses a
    sweep folder whose files do not match its manifest."""
    from sim.outputs.files import read_json, write_json
    from sim.outputs.folders import seal

    for name in derived_files(out, keys, _result_columns(out)):
        if name not in derived:
            (out / name).unlink(missing_ok=True)
    manifest = read_json(out / MANIFEST)
    files = seal(out, [RESULTS, *derived])
    write_json(out / MANIFEST, {k: v for k, v in manifest.items() if k != "files"} | extra | {"files": files})


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    *,
    executor: Executor | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
    max_in_flight: int = MAX_IN_FLIGHT,
) -> SweepResult:
    """Run every missing (point, replication) task, appending one row per task to ``results.csv``.

    A task that raises is reported (in ``SweepResult.failures``, with its point and replication)
    and the others go on; ``resume=True`` runs only the tasks without a row. What an earlier run
    derived from the results (tables, figures, report) is removed first; once the tasks ended,
    the manifest lists the digest of ``results.csv`` (:func:`seal_sweep`). The folder is held
    (:func:`sim.outputs.folders.claim_folder`) from the manifest to the last row: a second sweep
    or resume of the same folder, in another process, is refused at once (``FolderBusy``, exit 2)
    instead of appending the same tasks again.
    """
    from sim.outputs.folders import claim_folder

    out = Path(out)
    points = spec.points()
    base = validate_sweep(spec)
    with claim_folder(out, "airlift sweep (Python API: run_sweep)", resumable=True):
        _start(out, _manifest(spec, points, base), resume)
        _clear_derived(out, spec.keys(), metric_names(base))
        results = ResultsCsv(out / RESULTS, ["point", *spec.keys(), "replication", "seed"], partial(_task_of_row, spec, points))
        done = results.completed()
        todo = [(i, r) for i in range(len(points)) for r in range(spec.replications) if (i, r) not in done]
        if on_total:
            on_total(len(todo))
        never_ran: list[tuple[int, int]] = []
        with results:
            failed = _run_tasks(spec, base, points, todo, results, executor, progress, max_in_flight, never_ran.append)
        seal_sweep(out, spec.keys())
    failures = [{"point": f.task[0], "replication": f.task[1], "parameters": points[f.task[0]], "error": f.error} for f in failed]
    return SweepResult(out, spec, failures, ran=len(todo) - len(never_ran), skipped=len(done), not_run=len(never_ran))


def _run_tasks(
    spec: SweepSpec,
    base: Scenario,
    points: list[dict[str, Any]],
    todo: list[tuple[int, int]],
    results: ResultsCsv[tuple[int, int]],
    executor: Executor | None,
    progress: Progress | None,
    max_in_flight: int,
    not_run: Callable[[tuple[int, int]], None],
) -> list[TaskFailure[tuple[int, int]]]:
    """The ``todo`` tasks on the task engine, each finished one a row of ``results`` (those that
    never ran are handed to ``not_run``)."""
    keys = spec.keys()
    tasks = (((i, r), (base, spec.task_point(points[i], r), spec.seed, r)) for i, r in todo)  # built as they are submitted
    run_one = _point_task if spec.outputs is None else partial(_point_task_with_outputs, spec.outputs)

    def write(task: tuple[int, int], metrics: Mapping[str, float]) -> None:
        i, r = task
        results.write([i, *(points[i].get(k, "") for k in keys), r, spec.seed], metrics)

    return run_tasks(
        run_one, tasks, on_result=write, executor=executor, progress=progress, max_in_flight=max_in_flight, on_not_run=not_run
    )


def sweep(
    scenario: Scenario | str | Path | None,
    vary: Mapping[str, Sequence[Any]],
    replications: int = 5,
    seed: int = 0,
    *,
    samples: int | None = None,
    out: str | Path | None = None,
    executor: Executor | Any | None = None,
    ensemble: Ensemble | str | Path | None = None,
):  # -> pandas.DataFrame
    """Run a sweep and return its table (one row per point and replication) as a DataFrame.

    ``scenario`` is a Scenario, a file path, or ``None`` for the reference. Without ``out``
    the rows go to a temporary folder. ``executor``: any :class:`concurrent.futures.Executor`,
    or a ``dask.distributed.Client``. With ``ensemble``, replication ``r`` of every point runs
    plausible setting ``r mod K`` (``sim.experiments.ensemble``). Raises :class:`RuntimeError` listing failed tasks.
    """
    import tempfile

    base = scenario if isinstance(scenario, Scenario) else None
    path = None if scenario is None or base is not None else str(scenario)
    spec = SweepSpec(path, {k: list(v) for k, v in vary.items()}, replications, seed, samples, base=base)
    if ensemble is not None:
        from sim.experiments.ensemble import load_ensemble

        spec.ensemble = ensemble if isinstance(ensemble, Ensemble) else load_ensemble(ensemble)
    with tempfile.TemporaryDirectory() as tmp:
        res = run_sweep(spec, Path(out) if out is not None else Path(tmp), executor=as_executor(executor))
        res.raise_failures()
        return res.table
