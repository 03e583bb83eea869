"""The output folder of ``airlift explain``: ``explain.csv`` (the gains in total),
``explain_cohorts.csv`` (per cohort), the heat map and, last, ``explain.json``, built beside
``--out`` and swapped in whole like a run's (:mod:`sim.outputs.folders`); ``explain.json`` lists
the digest of every other file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.outputs.files import run_id, save_png, write_json, write_table
from sim.outputs.folders import claim_folder, replacing, seal

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["write_explain"]


def write_explain(
    summary: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    figures: Mapping[str, Figure],
    out: Path,
    extra: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write an explanation's folder: its tables (by stem), its figures, and ``explain.json``
    (``summary`` and ``extra``, e.g. the command line, with its identity ``run_id`` and the digests
    of the other files). The files written, ``explain.json`` last."""
    out = Path(out)
    data = dict(summary) | dict(extra or {})
    identity = run_id(data)
    with claim_folder(out, str(data.get("command") or "write_explain (Python)")), replacing(out) as stage:
        names = [write_table(stage / stem, table).name for stem, table in tables.items()]
        for stem, fig in figures.items():
            save_png(stage / f"{stem}.png", fig)
            names.append(f"{stem}.png")
        write_json(stage / "explain.json", data | {"run_id": identity, "files": seal(stage, names)})
    return [out / name for name in [*names, "explain.json"]]
