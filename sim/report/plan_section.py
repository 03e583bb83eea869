"""The report's part for a plan folder: ``plan.json`` checked against a schema and its files against
the digests it lists, then the answer, the goals and every candidate as the page shows them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from sim.outputs.folders import check_seal
from sim.report.inputs import Checked, Sealed, read_checked

__all__ = ["PlanSummary", "read_plan", "plan_section", "PLAN_CAPTIONS"]

PLAN_CAPTIONS = {
    "plan_probability": "Read each point for the share of replications in which every goal held, and its bar for the "
    "bounds it was judged by: a candidate meets the target only when the whole bar lies above the dashed line.",
    "plan_front": "Read along the line from the left: each step is the cheapest candidate reaching a higher probability; "
    "the choice is the first whose bar clears the dashed target.",
}


class Lever(Checked):
    key: str
    values: list[float]
    cost_per_unit: float


class Candidate(Checked):
    levers: dict[str, float]
    cost: float
    probability: float | None
    probability_low: float
    probability_high: float
    replications: int = Field(ge=0)
    verdict: str
    chosen: bool = False


class PlanSummary(Sealed):
    """``plan.json`` of ``airlift plan``."""

    goal: str
    goals: list[str]
    probability_target: float
    levers: list[Lever]
    choice: dict[str, float] | None
    probability: float | None
    probability_low: float | None
    sentence: str
    candidates: list[Candidate] = Field(min_length=1)
    scenario: dict[str, Any]


def read_plan(out: Path) -> dict[str, Any]:
    """``plan.json`` of the plan folder ``out``, checked, and its files checked against it."""
    data, checked = read_checked(out / "plan.json", PlanSummary)
    check_seal(out, "plan.json", checked.files)
    return data


def _number(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def plan_section(data: dict[str, Any]) -> dict[str, Any]:
    """What the page shows of a checked ``plan.json``: the sentence, the goals, the target, the search
    and one row per candidate."""
    keys = [lever["key"] for lever in data["levers"]]
    rows = [
        {
            "levers": [f"{c['levers'][k]:g}" for k in keys],
            "cost": f"{c['cost']:g}",
            "probability": _number(c["probability"]),
            "bounds": f"{c['probability_low']:.2f} – {c['probability_high']:.2f}",
            "replications": f"{c['replications']:,}",
            "verdict": c["verdict"],
            "chosen": bool(c.get("chosen")),
        }
        for c in data["candidates"]
    ]
    search = data.get("search") or {}
    return {
        "sentence": data["sentence"],
        "goals": data["goals"],
        "target": f"{data['probability_target']:g}",
        "confidence": f"{data.get('confidence', 0.95):.0%}",
        "lever_keys": keys,
        "levers": [
            f"{lv['key']}: {len(lv['values'])} values, {lv['values'][0]:g} to {lv['values'][-1]:g}" for lv in data["levers"]
        ],
        "search": search,
        "rows": rows,
        "met": data["choice"] is not None,
    }
