"""Parameter sweeps: a grid or a Latin hypercube of points, replications, any Executor.

Each (point, replication) is one task: replication ``r`` of every point draws from the same
random streams (common random numbers), so differences between points are paired. Tasks run
on any :class:`concurrent.futures.Executor` (serial, a local process pool, a Dask cluster);
rows are appended to ``results.csv`` as tasks finish, so memory stays flat and an interrupted
sweep resumes where it stopped. Results are identical whatever runs them.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from sim.description.errors import ScenarioError
from sim.description.loading import load_scenario, read_toml, resolve_path
from sim.description.metric_catalog import check_metrics
from sim.description.overrides import parse_override
from sim.description.scenario import Scenario
from sim.experiments.ensemble import Ensemble
from sim.experiments.replications import as_executor, make_executor, run_replication
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
]

LIMITS = {"replications": (1, 100_000), "seed": (0, 2**63 - 1), "samples": (1, 100_000)}
"""Bounds of a sweep's ``replications``, ``seed`` and ``samples``."""
MAX_VALUES = 10_000
"""Most values one ``--vary`` range may expand to."""
MAX_POINTS = 1_000_000
"""Most points of one sweep (grid or Latin hypercube)."""
RESULTS = "results.csv"
MANIFEST = "manifest.json"


def _number(text: str) -> float | int:
    v = float(text)
    return int(v) if v.is_integer() and "." not in text and "e" not in text.lower() else v


def parse_values(key: str, text: str | Sequence[Any]) -> list[Any]:
    """``"1,2,3"`` (each read as a TOML value), ``"14:30:2"`` (inclusive range) or a list."""
    if not isinstance(text, str):
        return list(text)
    if ":" in text and "," not in text and not text.strip().startswith(('"', "'")):
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
    """``samples`` points, one in each of ``samples`` equal strata of every range, shuffled.

    A range given by two integers yields integers (rounded within their stratum)."""
    gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0x1A7])))
    cols: dict[str, list[Any]] = {}
    for key, values in ranges.items():
        lo, hi = min(values), max(values)
        u = (gen.permutation(samples) + gen.random(samples)) / samples
        x = lo + u * (hi - lo)
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
    metrics: list[str] = field(default_factory=lambda: ["evacuated_total", "stranded_total"])
    base: Scenario | None = None
    """A scenario object to sweep instead of ``scenario_path`` (from the Python API)."""
    metrics_source: str = "metrics"
    """Where ``metrics`` came from, for error messages (a sweep file, ``--metric``)."""
    explicit: list[dict[str, Any]] | None = None
    """Points given one by one (``{dotted key: value}``, e.g. a sensitivity design) instead of ``vary``."""

    ensemble: Ensemble | None = None
    """Plausible settings: replication ``r`` of every point runs setting ``r mod K`` (a swept key wins)."""

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
    """A sweep described in TOML: ``scenario``, ``replications``, ``seed``, ``samples``,
    ``metrics``, a ``[vary]`` table (lists or ``"START:STOP:STEP"`` strings) and a ``[set]`` table."""
    p = Path(path)
    raw = read_toml(p)
    allowed = {"scenario", "replications", "seed", "samples", "vary", "set", "metrics", "description"}
    problems = [(k, "unknown key (check the spelling; unknown keys are errors)") for k in raw if k not in allowed]
    if "scenario" not in raw or not isinstance(raw.get("scenario"), str):
        problems.append(("scenario", "missing: the scenario file to sweep, relative to this file"))
    if not isinstance(raw.get("vary"), dict) or not raw.get("vary"):
        problems.append(("vary", "missing: a table of dotted keys and their values"))
    for k, (lo, hi) in LIMITS.items():
        v = raw.get(k)
        if k in raw and (not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi):
            problems.append((k, f"must be a whole number from {lo} to {hi:,}"))
    if "set" in raw and not isinstance(raw["set"], dict):
        problems.append(("set", "must be a table of dotted keys and values"))
    for k, v in (raw.get("vary") or {}).items() if isinstance(raw.get("vary"), dict) else ():
        if not (isinstance(v, str) or isinstance(v, list) and v):
            problems.append((f"vary.{k}", 'expected a list of values or a "START:STOP:STEP" string'))
    metrics = raw.get("metrics", ["evacuated_total", "stranded_total"])
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        problems.append(("metrics", "must be a list of metric names (see `airlift metrics`)"))
    if problems:
        raise ScenarioError(str(p), problems)
    scen = raw["scenario"]
    scen_path = (p.parent / scen) if not Path(scen).is_absolute() else Path(scen)
    if not scen_path.exists():
        scen_path = resolve_path(scen)
    if not scen_path.is_file():
        raise ScenarioError(str(p), [("scenario", f"scenario file {scen!r} not found (relative to this file, or bundled)")])
    vary = {}
    for k, v in raw["vary"].items():
        try:
            vary[k] = parse_values(k, v)
        except ScenarioError as e:
            raise ScenarioError(str(p), [(f"vary.{f}", m) for f, m in e.problems]) from None
    return SweepSpec(
        str(scen_path),
        vary,
        raw.get("replications", 5),
        raw.get("seed", 0),
        raw.get("samples"),
        dict(raw.get("set", {})),
        list(metrics),
        metrics_source=str(p),
    )


def _point_task(args: tuple[Scenario, dict[str, Any], int, int]) -> dict[str, float]:
    """One (point, replication): the point's scenario is built where the task runs (every point
    was validated, its declared ranges included, before the sweep started)."""
    base, point, seed, replication = args
    return run_replication(base.with_overrides(point, check_uncertain=False), seed, replication)["metrics"]


def scenario_hash(s: Scenario) -> str:
    return hashlib.sha256(json.dumps(s.model_dump(mode="json", by_alias=True), sort_keys=True).encode()).hexdigest()[:16]


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


def _read_done(path: Path, spec: SweepSpec, points: list[dict[str, Any]]) -> tuple[list[str] | None, set[tuple[int, int]]]:
    """Header and completed (point, replication) pairs of ``results.csv``, keeping only rows
    that belong to this sweep: a known point whose values match, a replication in range, the
    sweep's seed, a number in every metric column, and no duplicate. A torn last line and any
    other row are removed from the file (their tasks run again)."""
    if not path.exists():
        return None, set()
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines.pop()  # torn by a kill mid-write
    keys = spec.keys()
    expected = ["point", *keys, "replication", "seed"]
    header = next(csv.reader([lines[0]])) if lines else None
    if header is None or header[: len(expected)] != expected or len(header) == len(expected):
        if any(line.strip() for line in lines):
            raise ScenarioError(str(path), [("", "--resume: the header does not match this sweep")])
        path.unlink()
        return None, set()
    assert header is not None
    done: set[tuple[int, int]] = set()
    kept = [lines[0]]
    for line in lines[1:]:
        row = next(csv.reader([line]), [])
        pair = _valid_row(row, header, keys, spec, points)
        if pair is not None and pair not in done:
            done.add(pair)
            kept.append(line)
    if len(kept) != len(lines) or not path.read_bytes().endswith(b"\n"):
        from sim.outputs.files import atomic_write

        atomic_write(path, lambda fh: fh.writelines(kept))
    return header, done


def _valid_row(
    row: list[str], header: list[str], keys: list[str], spec: SweepSpec, points: list[dict[str, Any]]
) -> tuple[int, int] | None:
    """``(point, replication)`` of a row that belongs to this sweep, else ``None``."""
    if len(row) != len(header):
        return None
    try:
        i, r, seed = int(row[0]), int(row[len(keys) + 1]), int(row[len(keys) + 2])
        values = [float(x) for x in row[len(keys) + 3 :]]
    except ValueError:
        return None
    if not (0 <= i < len(points) and 0 <= r < spec.replications and seed == spec.seed) or not all(map(math.isfinite, values)):
        return None
    if ["" if points[i].get(k) is None else str(_cell(points[i][k])) for k in keys] != row[1 : len(keys) + 1]:
        return None
    return i, r


@dataclass
class SweepResult:
    """Where a sweep wrote its rows; ``table`` reads them as a DataFrame."""

    out: Path
    spec: SweepSpec
    failures: list[dict[str, Any]]
    ran: int
    skipped: int

    @property
    def table(self):  # -> pandas.DataFrame
        return read_results(self.out)


def read_manifest_start(out: str | Path) -> datetime | None:
    """The start of the swept scenario, from ``manifest.json`` (for dates on plots)."""
    try:
        return datetime.fromisoformat(json.loads((Path(out) / MANIFEST).read_text(encoding="utf-8"))["scenario"]["start"])
    except (OSError, KeyError, ValueError):
        return None


def read_results(out: str | Path):  # -> pandas.DataFrame
    """``results.csv`` as a DataFrame sorted by point and replication."""
    import pandas as pd

    df = pd.read_csv(Path(out) / RESULTS)
    return df.sort_values(["point", "replication"], kind="stable").reset_index(drop=True)


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    *,
    executor: Executor | None = None,
    resume: bool = False,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    max_in_flight: int = 64,
) -> SweepResult:
    """Run every missing (point, replication) task, appending one row per task to ``results.csv``.

    A task that raises is reported (in ``SweepResult.failures``, with its point and replication)
    and the others go on; ``resume=True`` runs only the tasks without a row.
    """
    out = Path(out)
    points = spec.points()
    base = validate_sweep(spec)
    manifest = {
        "sweep": spec.definition() | {"points": points},
        "scenario_hash": scenario_hash(base),
        "version": _version(),
        "scenario": base.model_dump(mode="json", by_alias=True),
    }
    results = out / RESULTS
    if results.exists() and not resume:
        raise ScenarioError(str(out), [("", f"{RESULTS} exists: use --resume to complete it, or another --out")])
    if resume and (out / MANIFEST).exists():
        old = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        if old.get("sweep") != json.loads(json.dumps(manifest["sweep"])) or old.get("scenario_hash") != manifest["scenario_hash"]:
            raise ScenarioError(str(out / MANIFEST), [("", "--resume: this folder holds a different sweep")])
    from sim.outputs.files import write_json

    write_json(out / MANIFEST, manifest)
    header, done = _read_done(results, spec, points)
    keys = spec.keys()
    tasks = [(i, r) for i in range(len(points)) for r in range(spec.replications) if (i, r) not in done]
    if on_total:
        on_total(len(tasks))
    failures: list[dict[str, Any]] = []
    fh = open(results, "a", encoding="utf-8", newline="")
    try:
        writer = csv.writer(fh, lineterminator="\n")

        def write(i: int, r: int, metrics: dict[str, float]) -> None:
            nonlocal header
            if header is None:
                header = ["point", *keys, "replication", "seed", *metrics]
                writer.writerow(header)
            names = header[len(keys) + 3 :]
            writer.writerow(
                [i, *(_cell(points[i].get(k, "")) for k in keys), r, spec.seed, *(_cell(metrics.get(n, "")) for n in names)]
            )
            fh.flush()

        def finished(i: int, r: int, fut: Future | None, value: Any = None, error: BaseException | None = None) -> None:
            if fut is not None:
                error = fut.exception()
                value = None if error else fut.result()
            if error is not None:
                failures.append(
                    {"point": i, "replication": r, "parameters": points[i], "error": f"{type(error).__name__}: {error}"}
                )
            else:
                write(i, r, value)
            if progress:
                progress(1)

        if executor is None:
            for i, r in tasks:
                try:
                    value = _point_task((base, spec.task_point(points[i], r), spec.seed, r))
                except Exception as e:  # reported with its parameters; the sweep goes on
                    finished(i, r, None, error=e)
                else:
                    finished(i, r, None, value=value)
        else:
            pending: dict[Future, tuple[int, int]] = {}
            it: Iterator[tuple[int, int]] = iter(tasks)
            for i, r in itertools.islice(it, max_in_flight):
                pending[executor.submit(_point_task, (base, spec.task_point(points[i], r), spec.seed, r))] = (i, r)
            while pending:
                ready, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in ready:
                    i, r = pending.pop(fut)
                    finished(i, r, fut)
                    nxt = next(it, None)
                    if nxt is not None:
                        task = (base, spec.task_point(points[nxt[0]], nxt[1]), spec.seed, nxt[1])
                        pending[executor.submit(_point_task, task)] = nxt
    finally:
        fh.close()
    return SweepResult(out, spec, failures, ran=len(tasks), skipped=len(done))


def _cell(v: Any) -> Any:
    if isinstance(v, float):
        return repr(v)
    return v


def _version() -> str:
    from sim._version import __version__

    return __version__


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
        if res.failures:
            raise RuntimeError(f"{len(res.failures)} sweep task(s) failed, first: {res.failures[0]}")
        return res.table
