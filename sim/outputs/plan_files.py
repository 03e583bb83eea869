"""The output folder of ``airlift plan``: ``candidates.csv``, the plan's figures and, last, ``plan.json``,
built beside ``--out`` and swapped in whole like a run's (:mod:`sim.outputs.folders`); ``plan.json``
lists the digest of every other file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.outputs.files import run_id, save_png, write_json, write_table
from sim.outputs.folders import claim_folder, replacing, seal

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["write_plan", "PLAN_FILES"]

PLAN_FILES = ("plan.json", "candidates.csv")
"""The files a plan folder holds besides its figures (``plan_*.png``) and ``report.html``."""


def write_plan(
    summary: Mapping[str, Any],
    table: pd.DataFrame,
    figures: Mapping[str, Figure],
    out: Path,
    extra: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write a plan's folder: its candidates as a table, its figures, and ``plan.json`` (``summary``
    and ``extra``, e.g. the command line, with the plan's identity ``run_id`` and the digests of the
    other files). The files written, ``plan.json`` last."""
    out = Path(out)
    data = dict(summary) | dict(extra or {})
    identity = run_id(data)
    with claim_folder(out, str(data.get("command") or "write_plan (Python)")), replacing(out) as stage:
        names = [write_table(stage / "candidates", table).name]
        for stem, fig in figures.items():
            save_png(stage / f"{stem}.png", fig)
            names.append(f"{stem}.png")
        write_json(stage / "plan.json", data | {"run_id": identity, "files": seal(stage, names)})
    return [out / name for name in [*names, "plan.json"]]
