"""Pure functions that turn the records of one replication into metrics.

Nothing here knows SimPy or the model: :func:`summarise` computes every per-replication metric
from the records (:mod:`sim.model.records`) and the final whereabouts of each family, after the run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from sim.description.metric_catalog import LIMIT_CAUSES
from sim.model.records import HOURLY_COLUMNS, STATUS_NAMES, Departure, Records, ScreenedRows, Status

# the record types are re-exported for callers that import them from here
__all__ = ["Departure", "Records", "HOURLY_COLUMNS", "LIMIT_CAUSES", "STATUS_NAMES", "summarise"]


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` weighted by whole-number ``weights`` (people). The order
    of equal values does not change it (their weights' sums are exact), so any sort will do."""
    if len(values) == 0:
        return 0.0
    order = np.argsort(values)
    v, w = values[order], weights[order].astype(float)
    cum = np.cumsum(w)
    return float(v[np.searchsorted(cum, q * cum[-1], side="left")])


def _where_people_are(by: np.ndarray) -> dict[str, np.ndarray]:
    """People per cohort in each end-of-run category, from people by (cohort, Status)."""
    return {
        "flown": by[:, Status.FLOWN],
        "never": by[:, Status.NOT_ARRIVED],
        "crowd": by[:, Status.IN_CROWD] + by[:, Status.SCREENING],
        "gave_up": by[:, Status.GAVE_UP],
        "airfield": by[:, Status.HOLDING] + by[:, Status.BOARDED],
        "turned_back": by[:, Status.TURNED_BACK],
        "did_not_travel": by[:, Status.DID_NOT_TRAVEL],
    }


def _headline(by: np.ndarray, deps: list[Departure], troops_total: int) -> dict[str, float]:
    w = _where_people_are(by)
    flown = w["flown"].sum()
    m = {
        "population_total": float(by.sum()),
        "evacuated_total": float(flown),
        "stranded_total": float(by.sum() - flown - w["did_not_travel"].sum()),
        "did_not_travel_total": float(w["did_not_travel"].sum()),
        "stranded_never_arrived": float(w["never"].sum()),
        "stranded_turned_back": float(w["turned_back"].sum()),
        "stranded_at_gates": float(w["crowd"].sum() + w["gave_up"].sum()),
        "stranded_at_gates_in_crowd": float(w["crowd"].sum()),
        "stranded_at_gates_gave_up": float(w["gave_up"].sum()),
        "stranded_airfield": float(w["airfield"].sum()),
        "departures_total": float(len(deps)),
        "troops_flown": float(sum(d.troops for d in deps)),
        "troops_stranded": float(troops_total - sum(d.troops for d in deps)),
    }
    loads = [(d.evacuees + d.troops) / d.seats for d in deps]
    m["mean_load_factor"] = float(np.mean(loads)) if loads else 0.0
    m["mean_evacuees_per_departure"] = float(np.mean([d.evacuees for d in deps])) if deps else 0.0
    return m


def _gate_waits(screened: ScreenedRows) -> dict[str, float]:
    if not len(screened):
        return {"gate_wait_mean_hours": 0.0, "gate_wait_p95_hours": 0.0}
    wait = screened.column("wait_hours")
    people = screened.column("people").astype(float)
    return {
        "gate_wait_mean_hours": float(np.average(wait, weights=people)),
        "gate_wait_p95_hours": _weighted_quantile(wait, people, 0.95),
    }


def _by_cohort(by: np.ndarray, cohort_names: list[str]) -> dict[str, float]:
    w = _where_people_are(by)
    m: dict[str, float] = {}
    for i, c in enumerate(cohort_names):
        m[f"cohort.{c}.people"] = float(by[i].sum())
        m[f"cohort.{c}.evacuated"] = float(w["flown"][i])
        m[f"cohort.{c}.stranded"] = float(by[i].sum() - w["flown"][i] - w["did_not_travel"][i])
        m[f"cohort.{c}.stranded_never_arrived"] = float(w["never"][i])
        m[f"cohort.{c}.stranded_turned_back"] = float(w["turned_back"][i])
        m[f"cohort.{c}.stranded_at_gates"] = float(w["crowd"][i] + w["gave_up"][i])
        m[f"cohort.{c}.stranded_airfield"] = float(w["airfield"][i])
        m[f"cohort.{c}.did_not_travel"] = float(w["did_not_travel"][i])
    return m


def _daily(deps: list[Departure], start: datetime, end_hours: float) -> list[dict[str, Any]]:
    """Evacuated and departures per local calendar day, every day of the window present."""
    daily: dict[str, list[int]] = {}
    day0 = start.date()
    last_day = (start + timedelta(hours=max(end_hours - 1e-6, 0.0))).date()
    for k in range(last_day.toordinal() - day0.toordinal() + 1):
        daily[(day0 + timedelta(days=k)).isoformat()] = [0, 0]
    by_operator: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for d in deps:
        key = (start + timedelta(hours=d.takeoff)).date().isoformat()
        daily.setdefault(key, [0, 0])
        daily[key][0] += d.evacuees
        daily[key][1] += 1
        by_operator[key][d.operator] += d.evacuees
    return [
        {"date": k, "evacuated": v[0], "departures": v[1], "by_operator": dict(by_operator.get(k, {}))}
        for k, v in sorted(daily.items())
    ]


def summarise(
    rec: Records,
    *,
    start: datetime,
    end_hours: float,
    cohort_names: list[str],
    operators: list[str],
    people_by_status: np.ndarray,
    troops_total: int,
    withdrawals: Mapping[str, tuple[int, int]] | None = None,
) -> dict[str, Any]:
    """Metrics of one replication: ``{"metrics": {name: float}, "daily": [...]}``.

    ``people_by_status`` is people by (cohort, :class:`~sim.model.records.Status`) when the airport
    closed. Every person is counted once: evacuated (flown), did not travel (a registered
    family's choice, not stranded) or stranded (any other status, turned back on the way included).
    ``withdrawals``: for a list of withdrawals, each one's index and troops by its name (their
    ``withdrawal.<name>.*`` metrics); none for a single ``[retrograde]``.
    """
    by = people_by_status
    deps = [d for d in rec.departures if d.takeoff <= end_hours]
    m = _headline(by, deps, troops_total)
    m.update(_gate_waits(rec.screened))
    daily = _daily(deps, start, end_hours)
    m["peak_day_evacuated"] = float(max((d["evacuated"] for d in daily), default=0))
    m.update(_by_cohort(by, cohort_names))
    for op in operators:
        od = [d for d in deps if d.operator == op]
        m[f"operator.{op}.evacuated"] = float(sum(d.evacuees for d in od))
        m[f"operator.{op}.departures"] = float(len(od))
    for name, (w, troops) in (withdrawals or {}).items():
        flown = sum(x.troops for x in rec.troops_flown if x.withdrawal == w and x.takeoff <= end_hours)
        m[f"withdrawal.{name}.troops_flown"] = float(flown)
        m[f"withdrawal.{name}.troops_stranded"] = float(troops - flown)
    for cause, hours in rec.held_back_hours().items():
        m[f"limit.{cause}_hours"] = hours
    return {"metrics": m, "daily": daily}
