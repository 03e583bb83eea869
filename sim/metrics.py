"""Records of one replication, and pure functions that turn them into metrics.

Actors append immutable rows to a :class:`Records` while the simulation runs; nothing here
knows SimPy or the model. :func:`summarise` computes every per-replication metric from the
records and the final whereabouts of each family, after the run.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Departure", "Records", "HOURLY_COLUMNS", "summarise", "STATUS_NAMES"]

HOURLY_COLUMNS = (
    "evacuated_cumulative",
    "departures_cumulative",
    "gate_queue_people",
    "screening_people",
    "airfield_people",
    "aircraft_on_ground",
    "aircraft_waiting_for_spot",
    "staging_people",
    "gates_blocked",
    "limit_evacuees_hours",
    "limit_staging_hours",
    "limit_ramp_hours",
    "limit_runway_hours",
    "limit_holding_hours",
)
"""Hourly levels; the ``limit_*`` columns are cumulative waiting hours by cause (see LIMIT_CAUSES)."""

# must match sim.model.population.Status
STATUS_NAMES = ("not_arrived", "in_crowd", "screening", "gave_up", "holding", "boarded", "flown")

LIMIT_CAUSES = {
    "evacuees": "aircraft waiting for passengers they may carry (too few through the gates, or not theirs)",
    "staging": "aircraft waiting for room at a staging base",
    "ramp": "aircraft waiting at their base for a parking spot",
    "runway": "aircraft waiting for a runway slot, or for a closed runway to reopen",
    "holding": "gates stopped because the holding area was full",
}


class Departure(NamedTuple):
    takeoff: float
    aircraft: str
    fleet: str
    operator: str
    base: str
    evacuees: int
    troops: int
    seats: int
    landed: float
    groups: tuple[int, ...]


@dataclass
class Records:
    """Everything one replication leaves behind, appended to as it runs."""

    departures: list[Departure] = field(default_factory=list)
    movements: list[tuple[float, float, str, str]] = field(default_factory=list)
    screened: list[tuple[float, float, int, int, int]] = field(default_factory=list)
    waits: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    hourly: dict[str, list[float]] = field(default_factory=lambda: {c: [] for c in ("hours", *HOURLY_COLUMNS)})


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    if len(values) == 0:
        return 0.0
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order].astype(float)
    cum = np.cumsum(w)
    return float(v[np.searchsorted(cum, q * cum[-1], side="left")])


def summarise(
    rec: Records,
    *,
    start: datetime,
    end_hours: float,
    cohort_names: list[str],
    operators: list[str],
    people_by_status: np.ndarray,
    troops_total: int,
) -> dict[str, Any]:
    """Metrics of one replication: ``{"metrics": {name: float}, "daily": [...]}``.

    ``people_by_status`` is people by (cohort, status) when the airport closed. Every person
    is counted once: evacuated (flown) or stranded (any other status).
    """
    by = people_by_status
    flown = by[:, 6]
    never = by[:, 0]
    crowd = by[:, 1] + by[:, 2]
    gave_up = by[:, 3]
    airfield = by[:, 4] + by[:, 5]
    deps = [d for d in rec.departures if d.takeoff <= end_hours]
    m: dict[str, float] = {
        "population_total": float(by.sum()),
        "evacuated_total": float(flown.sum()),
        "stranded_total": float(by.sum() - flown.sum()),
        "stranded_never_arrived": float(never.sum()),
        "stranded_at_gates": float(crowd.sum() + gave_up.sum()),
        "stranded_at_gates_in_crowd": float(crowd.sum()),
        "stranded_at_gates_gave_up": float(gave_up.sum()),
        "stranded_airfield": float(airfield.sum()),
        "departures_total": float(len(deps)),
        "troops_flown": float(sum(d.troops for d in deps)),
        "troops_stranded": float(troops_total - sum(d.troops for d in deps)),
    }
    loads = [(d.evacuees + d.troops) / d.seats for d in deps]
    m["mean_load_factor"] = float(np.mean(loads)) if loads else 0.0
    m["mean_evacuees_per_departure"] = float(np.mean([d.evacuees for d in deps])) if deps else 0.0
    if rec.screened:
        arr = np.asarray([(w, n) for _, w, n, _, _ in rec.screened], dtype=float)
        m["gate_wait_mean_hours"] = float(np.average(arr[:, 0], weights=arr[:, 1]))
        m["gate_wait_p95_hours"] = _weighted_quantile(arr[:, 0], arr[:, 1], 0.95)
    else:
        m["gate_wait_mean_hours"] = m["gate_wait_p95_hours"] = 0.0
    # daily, by local calendar day
    daily: dict[str, list[int]] = {}
    day0 = start.date()
    last_day = (start + timedelta(hours=max(end_hours - 1e-6, 0.0))).date()
    n_days = last_day.toordinal() - day0.toordinal() + 1
    for k in range(n_days):
        daily[(day0 + timedelta(days=k)).isoformat()] = [0, 0]
    for d in deps:
        key = (start + timedelta(hours=d.takeoff)).date().isoformat()
        daily.setdefault(key, [0, 0])
        daily[key][0] += d.evacuees
        daily[key][1] += 1
    m["peak_day_evacuated"] = float(max((v[0] for v in daily.values()), default=0))
    # by cohort: evacuated per cohort come from the departures' families
    for i, c in enumerate(cohort_names):
        m[f"cohort.{c}.people"] = float(by[i].sum())
        m[f"cohort.{c}.evacuated"] = float(flown[i])
        m[f"cohort.{c}.stranded"] = float(by[i].sum() - flown[i])
        m[f"cohort.{c}.stranded_never_arrived"] = float(never[i])
        m[f"cohort.{c}.stranded_at_gates"] = float(crowd[i] + gave_up[i])
        m[f"cohort.{c}.stranded_airfield"] = float(airfield[i])
    for op in operators:
        od = [d for d in deps if d.operator == op]
        m[f"operator.{op}.evacuated"] = float(sum(d.evacuees for d in od))
        m[f"operator.{op}.departures"] = float(len(od))
    for cause in LIMIT_CAUSES:
        m[f"limit.{cause}_hours"] = float(rec.waits.get(cause, 0.0))
    daily_ops: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for d in deps:
        daily_ops[(start + timedelta(hours=d.takeoff)).date().isoformat()][d.operator] += d.evacuees
    return {
        "metrics": m,
        "daily": [
            {"date": k, "evacuated": v[0], "departures": v[1], "by_operator": dict(daily_ops.get(k, {}))}
            for k, v in sorted(daily.items())
        ],
    }
