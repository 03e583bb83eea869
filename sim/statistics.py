"""Confidence intervals from independent replications (Student t, from SciPy), and their
summaries over the points of a sweep table.

One replication gives no estimate of the spread, so its interval is *unavailable* (NaN here,
``null`` in JSON, ``n/a`` when printed), never a zero-width interval that would claim certainty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["t975", "mean_ci", "sem", "point_summary", "NO_INTERVAL", "interval_available"]


def scipy_stats() -> Any:
    """``scipy.stats``, imported when first needed: it takes about a second to import, and most
    processes that import this package (a sweep's workers, ``airlift --help``) never need it."""
    from scipy import stats

    return stats


NO_INTERVAL = "unavailable: one replication gives no estimate of the spread (run at least two)"
"""Why an interval is missing; written next to the numbers in JSON outputs."""


def t975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom (``inf`` below one)."""
    if df < 1:
        return math.inf
    return float(scipy_stats().t.ppf(0.975, df))


def sem(values: Sequence[float]) -> float:
    """Standard error of the mean (NaN with fewer than two values)."""
    if len(values) < 2:
        return math.nan
    return float(scipy_stats().sem(values, ddof=1))


def mean_ci(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95% confidence interval ``(mean, low, high)``.

    With one value the interval is unavailable: ``(mean, nan, nan)``. With no value, all NaN.
    """
    n = len(values)
    if n == 0:
        return (math.nan, math.nan, math.nan)
    mean = math.fsum(values) / n
    if n == 1:
        return (mean, math.nan, math.nan)
    half = t975(n - 1) * sem(values)
    return (mean, mean - half, mean + half)


def interval_available(low: float | None, high: float | None) -> bool:
    """False for the NaN/None interval of a single replication."""
    return low is not None and high is not None and not (math.isnan(low) or math.isnan(high))


def point_summary(df: pd.DataFrame, keys: list[str], metric: str) -> pd.DataFrame:
    """Mean and 95% interval of a metric at each point (NaN interval for a single replication)."""
    import pandas as pd

    rows = []
    for vals, grp in df.groupby(keys, sort=True):
        vals = vals if isinstance(vals, tuple) else (vals,)
        m, lo, hi = mean_ci(list(grp[metric]))
        rows.append({**dict(zip(keys, vals)), "mean": m, "ci95_low": lo, "ci95_high": hi, "n": len(grp)})
    return pd.DataFrame(rows)
