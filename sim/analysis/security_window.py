"""The security-window curve: people evacuated and stranded, in all and by cohort, against the
day the airport stops being secured, across replications and across plausible settings.

From the table of a sweep of ``security.end`` (one row per point and replication, as
``results.csv``), at each end date and for each cohort (``all``: the totals ``evacuated_total`` and
``stranded_total``; else ``cohort.<name>.evacuated`` and ``cohort.<name>.stranded``):

- ``p5``, ``p50``, ``p95``: percentiles of the single replications. With an ensemble they mix
  the two sources of spread, chance (the replications of one setting) and the settings
  themselves; without one, chance alone. ``p50`` is the curve's line.
- ``settings_p5``, ``settings_p50``, ``settings_p95``: percentiles of the *per-setting means*
  (each setting's mean over the replications that ran it; replication ``r`` runs setting
  ``r mod K``): how far the answer moves between settings that all match the published record.
  NaN without an ensemble. With one replication per setting, each per-setting "mean" is a single
  run and still carries chance: give at least two replications per setting.

Percentiles are numpy's default (linear interpolation between order statistics). This module
computes; it runs no simulation, and its figure is drawn by :mod:`sim.outputs.window_figures`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["window_curve", "with_end_dates", "curve_cohorts", "scenario_end", "PERCENTILES", "BAND_DEFINITIONS"]

PERCENTILES = {"p5": 5.0, "p50": 50.0, "p95": 95.0}
"""The percentiles of single replications, by column."""
SETTINGS_PERCENTILES = {"settings_p5": 5.0, "settings_p50": 50.0, "settings_p95": 95.0}
"""The percentiles of the per-setting means, by column."""
BAND_DEFINITIONS = (
    "line: median of single replications (p50); dark band: 5-95% of the per-setting means across plausible "
    "settings (settings_p5 to settings_p95); light band: 5-95% of single replications (p5 to p95: chance and "
    "settings together; chance alone without an ensemble); percentiles by linear interpolation"
)
"""How the curve's numbers are defined, written next to them."""


def curve_cohorts(table: pd.DataFrame) -> list[str]:
    """The cohorts of a sweep table that have both an evacuated and a stranded column, in column order."""
    names = [c[len("cohort.") : -len(".stranded")] for c in table.columns if c.startswith("cohort.") and c.endswith(".stranded")]
    return [n for n in names if f"cohort.{n}.evacuated" in table.columns]


def _series(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    """``(cohort, metric, column)`` of every curve: the totals first (cohort ``all``), then each cohort."""
    series = [("all", metric, f"{metric}_total") for metric in ("evacuated", "stranded") if f"{metric}_total" in table.columns]
    for cohort in curve_cohorts(table):
        series += [(cohort, metric, f"cohort.{cohort}.{metric}") for metric in ("evacuated", "stranded")]
    return series


def window_curve(table: pd.DataFrame, key: str = "security.end", settings: int | None = None) -> pd.DataFrame:
    """One row per value of ``key``, cohort and metric (``evacuated``/``stranded``): the percentiles of
    the module docstring, ``replications`` and ``settings`` (the number of settings the replications
    ran, 1 without an ensemble). ``settings``: the ensemble's size K (replication ``r`` ran setting
    ``r mod K``), or ``None``. Rows: cohort ``all`` first, then the cohorts in column order; within
    each, evacuated then stranded, along ``key``."""
    import pandas as pd

    if settings is not None and settings < 1:
        raise ValueError(f"an ensemble has at least one setting, not {settings}")
    rows = []
    series = _series(table)
    for value, group in table.groupby(key, sort=True):
        setting = (group["replication"].astype(int) % settings) if settings else None
        for cohort, metric, column in series:
            values = group[column].to_numpy(dtype=float)
            row = {key: value, "cohort": cohort, "metric": metric}
            row |= {name: float(np.percentile(values, q)) for name, q in PERCENTILES.items()}
            if setting is None:
                row |= dict.fromkeys(SETTINGS_PERCENTILES, math.nan)
            else:
                per_setting = group[column].astype(float).groupby(setting).mean().to_numpy()
                row |= {name: float(np.percentile(per_setting, q)) for name, q in SETTINGS_PERCENTILES.items()}
            rows.append(row | {"replications": len(values), "settings": 1 if setting is None else int(setting.nunique())})
    columns = [key, "cohort", "metric", *PERCENTILES, *SETTINGS_PERCENTILES, "replications", "settings"]
    curve = pd.DataFrame(rows, columns=columns)
    order = {cohort: i for i, cohort in enumerate(dict.fromkeys(c for c, _, _ in series))}
    curve = curve.assign(_order=curve["cohort"].map(order), _metric=curve["metric"] != "evacuated")
    return curve.sort_values(["_order", "_metric", key], kind="stable").drop(columns=["_order", "_metric"]).reset_index(drop=True)


def with_end_dates(curve: pd.DataFrame, key: str, start: datetime | None) -> pd.DataFrame:
    """``curve`` with ``end_date`` after ``key`` (days after ``start``): the end as a local date and
    time (ISO 8601, with the scenario's offset); the column is left out without a start."""
    if start is None:
        return curve
    dates = [(start + timedelta(days=float(days))).isoformat(timespec="minutes") for days in curve[key]]
    return curve.assign(end_date=dates)[[key, "end_date", *[c for c in curve.columns if c != key]]]


def scenario_end(scenario: dict[str, Any], start: datetime | None) -> float | None:
    """A scenario's own security end (``scenario``: as a sweep's manifest holds it, the JSON dump) in
    days after ``start``, read as a swept time is (:func:`sim.experiments.sweeps.times_in_days`); ``None``
    if it is missing or cannot be read."""
    import pandas as pd

    from sim.experiments.sweeps import times_in_days

    security = scenario.get("security")
    ends, _ = times_in_days(pd.DataFrame({"end": [security.get("end") if isinstance(security, dict) else None]}), ["end"], start)
    end = ends["end"].iloc[0]
    return float(end) if isinstance(end, int | float) and not isinstance(end, bool) else None
