"""The report's part for an ``airlift explain`` folder: ``explain.json`` checked against a schema and
its files against the digests it lists, then what relief gains most on each day, and the table of
gains by resource and day with their 95% intervals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field

from sim.outputs.folders import check_seal
from sim.report.inputs import Checked, Sealed, read_checked

__all__ = ["COLUMNS", "EXPLAIN_CAPTIONS", "ExplainSummary", "explain_section", "read_explain"]

EXPLAIN_CAPTIONS = {
    "explain_heatmap": "Read down a day's column for the resource whose relief gains most that day (the darkest purple); "
    "a bold number is a gain whose 95% interval excludes zero, a pale cell one the replications cannot tell from nothing.",
}
COLUMNS = ["resource", "day", "gain_mean", "ci95_low", "ci95_high", "replications"]


class Best(Checked):
    resource: str
    day: str
    gain_mean: float
    ci95_low: float | None
    ci95_high: float | None


class ExplainSummary(Sealed):
    """``explain.json`` of ``airlift explain``."""

    kind: str
    fraction: float
    resources: list[str] = Field(min_length=1)
    sentences: list[str]
    best_by_day: list[Best]
    scenario: dict[str, Any]


def read_explain(out: Path) -> dict[str, Any]:
    """``explain.json`` of the explain folder ``out``, checked, and its files checked against it."""
    data, checked = read_checked(out / "explain.json", ExplainSummary)
    check_seal(out, "explain.json", checked.files)
    return data


def _cell(row: Any) -> str:
    if pd.isna(row.ci95_low):
        return f"{row.gain_mean:+,.0f}"
    return f"{row.gain_mean:+,.0f} [{row.ci95_low:+,.0f}, {row.ci95_high:+,.0f}]"


def explain_section(data: dict[str, Any], totals: pd.DataFrame) -> dict[str, Any]:
    """What the page shows: the sentences, the relief and its fraction, and one row per day (the
    whole window first) with each resource's gain and interval."""
    resources = list(data["resources"])
    days = list(dict.fromkeys(totals["day"]))
    cells = {(r.resource, r.day): _cell(r) for r in totals.itertuples()}
    best = {b["day"]: b["resource"] for b in data["best_by_day"]}
    rows = [{"day": d, "gains": [cells.get((res, d), "–") for res in resources], "best": best.get(d, "")} for d in days]
    return {
        "sentences": data["sentences"],
        "fraction": f"{data['fraction']:g}",
        "replications": data["replications"],
        "resources": resources,
        "rows": rows,
    }
