"""Writing run artefacts atomically: every file goes to a temporary name, then is renamed.

A run or a comparison is built in a new folder that replaces its ``--out`` whole
(:mod:`sim.outputs.folders`); its summary, written last, lists the digest of every other file.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from sim.outputs.folders import claim_folder, current_umask, replacing, seal

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "atomic_write",
    "json_ready",
    "write_compare",
    "write_json",
    "write_table",
    "write_run",
    "save_png",
    "run_id",
    "TableFormat",
    "FORMATS",
    "read_metadata",
    "run_metadata",
    "read_json",
    "MAX_JSON_BYTES",
]

MAX_JSON_BYTES = 512 * 2**20
"""Larger than any summary or manifest airlift writes (the Kabul run's summary is ~1 MB)."""

TableFormat = Literal["csv", "parquet"]
FORMATS: tuple[TableFormat, ...] = ("csv", "parquet")


def atomic_write(path: Path, write: Callable[[IO[Any]], None], binary: bool = False) -> None:
    """Write a file through ``write(handle)`` to a temporary file, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        _write_then_rename(fd, tmp, path, write, binary)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        if e.filename is None:  # a failed write names no file: name the one being written
            raise OSError(e.errno, e.strerror, str(path)) from e
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_then_rename(fd: int, tmp: str, path: Path, write: Callable[[IO[Any]], None], binary: bool) -> None:
    # mkstemp creates the file 0600; give it the mode any new file would get (0644 under umask 022)
    os.fchmod(fd, 0o666 & ~current_umask())
    fh: IO[Any] = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
    with fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def json_ready(obj: Any) -> Any:
    """``obj`` with every non-finite float as ``None`` (JSON has no NaN or infinity)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_ready(v) for v in obj]
    return obj


def run_id(summary: dict[str, Any]) -> str:
    """The identity of a run: a digest of its summary (identical runs share it)."""
    text = json.dumps(json_ready(summary), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def write_json(path: Path, data: Any) -> None:
    atomic_write(path, lambda fh: json.dump(json_ready(data), fh, indent=2, sort_keys=False))


def save_png(path: Path, fig: Any, dpi: int = 110) -> None:
    """Save a matplotlib figure as PNG, atomically."""

    def write(fh: IO[Any]) -> None:
        fig.savefig(fh, format="png", dpi=dpi)

    atomic_write(path, write, binary=True)


def _csv_ready(df: pd.DataFrame) -> pd.DataFrame:
    """Timezone-aware datetimes as ISO 8601 text with the offset (``2021-08-14T00:00:00+04:30``)."""
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = [t.isoformat() for t in out[col]]
    if isinstance(out.index, pd.DatetimeIndex):
        out.index = pd.Index([t.date().isoformat() for t in out.index], name=out.index.name)
    return out


def write_table(path: Path, df: pd.DataFrame, fmt: TableFormat = "csv", metadata: dict[str, Any] | None = None) -> Path:
    """Write a table as ``path`` with the suffix of ``fmt``, atomically; returns the file written.

    CSV keeps datetimes as ISO 8601 text. Parquet keeps the column types (timezone included) and
    carries ``metadata`` (e.g. the scenario, seed and version) in the file's key-value metadata,
    each value as JSON under ``airlift.<key>``. A named index is written as a column.
    """
    path = Path(path).with_suffix(f".{fmt}")
    keep_index = df.index.name is not None
    if fmt == "csv":
        table = _csv_ready(df)
        atomic_write(path, lambda fh: table.to_csv(fh, index=keep_index, float_format="%.6g"))
        return path
    if fmt != "parquet":
        raise ValueError(f"unknown table format {fmt!r} (known: {', '.join(FORMATS)})")
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        from sim.description.errors import ScenarioError

        raise ScenarioError("--format", [("", "Parquet needs pyarrow: pip install 'airlift[parquet]'")]) from None
    arrow = pa.Table.from_pandas(df, preserve_index=keep_index)
    extra = {f"airlift.{k}".encode(): json.dumps(json_ready(v)).encode() for k, v in (metadata or {}).items()}
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), **extra})
    atomic_write(path, lambda fh: pq.write_table(arrow, fh), binary=True)
    return path


def read_metadata(path: Path) -> dict[str, Any]:
    """The ``airlift.*`` metadata of a Parquet file written by :func:`write_table`."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    return {k.decode()[len("airlift.") :]: json.loads(v) for k, v in meta.items() if k.startswith(b"airlift.")}


def run_metadata(result: Any) -> dict[str, Any]:
    """What makes a table reproducible: the resolved scenario, its name, the seed, the version."""
    from sim._version import __version__

    return {
        "scenario_name": result.scenario.name,
        "scenario": result.scenario.model_dump(mode="json", by_alias=True),
        "seed": result.seed,
        "replications": len(result.replications),
        "version": __version__,
    }


def write_run(
    result: Any, out: Path, plots: bool = True, fmt: TableFormat = "csv", extra: dict[str, Any] | None = None
) -> list[Path]:
    """Write ``timeseries.csv`` (or ``.parquet``), the plots and, last, ``summary.json`` into a new
    folder that then replaces ``out`` whole (``extra``: more fields of the summary, e.g. the
    command line). The summary carries the run's identity (``run_id``) and the digest of every
    other file (``files``): ``airlift report`` refuses a folder whose files do not match."""
    out = Path(out)
    summary = result.summary()
    identity = run_id(summary)
    with claim_folder(out, (extra or {}).get("command") or "write_run (Python)"), replacing(out) as stage:
        names = [write_table(stage / "timeseries", result.timeseries(), fmt, run_metadata(result) | {"run_id": identity}).name]
        if plots:
            for stem, fig in result.figures().items():
                save_png(stage / f"{stem}.png", fig)
                names.append(f"{stem}.png")
        write_json(stage / "summary.json", summary | (extra or {}) | {"run_id": identity, "files": seal(stage, names)})
    return [out / name for name in [*names, "summary.json"]]


def write_compare(
    result: Any, out: Path, plots: bool = True, fmt: TableFormat = "csv", extra: dict[str, Any] | None = None
) -> list[Path]:
    """Write ``differences.csv`` (or ``.parquet``), ``differences.png`` and, last, ``compare.json``
    of a paired comparison into a new folder that then replaces ``out`` whole; ``compare.json``
    carries the identity and file digests as ``summary.json`` does (:func:`write_run`)."""
    from sim._version import __version__

    out = Path(out)
    summary = result.summary()
    identity = run_id(summary)
    meta = {"a_scenario": summary["a"]["scenario"], "b_scenario": summary["b"]["scenario"], "seed": summary["seed"]}
    meta |= {"version": __version__, "replications": summary["replications"], "run_id": identity}
    with claim_folder(out, (extra or {}).get("command") or "write_compare (Python)"), replacing(out) as stage:
        names = [write_table(stage / "differences", result.differences(), fmt, meta).name]
        if plots:
            from sim.outputs.compare_figures import compare_differences

            save_png(stage / "differences.png", compare_differences(summary["differences"]))
            names.append("differences.png")
        write_json(stage / "compare.json", summary | (extra or {}) | {"run_id": identity, "files": seal(stage, names)})
    return [out / name for name in [*names, "compare.json"]]


_JSON_KINDS: dict[type, str] = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
}


def read_json(path: Path, expect: type | None = dict) -> Any:
    """The JSON value of ``path``, a file airlift reads but did not just write.

    A file that is unreadable, too large, not UTF-8, not JSON, nested too deeply, or (unless
    ``expect`` is None) whose top level is not an ``expect`` (an object by default) is a
    ``ScenarioError`` naming the file and the problem, never a traceback.
    """
    from sim.description.errors import ScenarioError

    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise ScenarioError(str(path), [("", f"{size:,} bytes: too large to be a file airlift wrote")])
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        problem = "not UTF-8 text"
    except json.JSONDecodeError as e:
        problem = "empty: not JSON" if not e.doc.strip() else f"not JSON: {e.msg} (line {e.lineno}, column {e.colno})"
    except RecursionError:
        problem = "nested too deeply to be a file airlift wrote"
    except OSError as e:
        problem = f"cannot be read: {e.strerror or e}"
    else:
        if expect is None or isinstance(data, expect):
            return data
        found = "null" if data is None else _JSON_KINDS.get(type(data), "a value")
        problem = f"{found}, not a JSON {_JSON_KINDS.get(expect, 'a value').split()[-1]}"
    raise ScenarioError(str(path), [("", problem)])
