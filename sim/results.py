"""Writing run artefacts atomically: every file goes to a temporary name, then is renamed.

``summary.json`` is written last, so a directory that has one holds a complete run; an
interrupted run leaves no half-written file behind.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "write_json", "write_run", "save_png"]


def atomic_write(path: Path, write: Callable[[IO[Any]], None], binary: bool = False) -> None:
    """Write a file through ``write(handle)`` to a temporary file, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        fh: IO[Any] = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
        with fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _clean(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def write_json(path: Path, data: Any) -> None:
    atomic_write(path, lambda fh: json.dump(_clean(data), fh, indent=2, sort_keys=False))


def save_png(path: Path, fig: Any, dpi: int = 110) -> None:
    """Save a matplotlib figure as PNG, atomically."""

    def write(fh: IO[Any]) -> None:
        fig.savefig(fh, format="png", dpi=dpi)

    atomic_write(path, write, binary=True)


def write_run(result: Any, out: Path, plots: bool = True) -> list[Path]:
    """Write ``timeseries.csv``, the plots and, last, ``summary.json`` into ``out``."""
    out = Path(out)
    written = []
    ts = result.timeseries()
    atomic_write(out / "timeseries.csv", lambda fh: ts.to_csv(fh, index=False, float_format="%.6g"))
    written.append(out / "timeseries.csv")
    if plots:
        for stem, fig in result.figures().items():
            p = out / f"{stem}.png"
            save_png(p, fig)
            written.append(p)
    write_json(out / "summary.json", result.summary())
    written.append(out / "summary.json")
    return written
