"""Confidence intervals from independent replications (Student t), with no SciPy needed, and
their summaries over the points of a sweep table."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["t975", "mean_ci", "point_summary"]

# two-sided 95% Student t quantiles, df = 1..30
_T975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)


def t975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        return math.inf
    if df <= 30:
        return _T975[df - 1]
    z = 1.959964
    # Cornish-Fisher expansion; error below 1e-4 for df > 30
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def mean_ci(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95% confidence interval ``(mean, low, high)``; a single value has a zero-width one."""
    n = len(values)
    if n == 0:
        return (math.nan, math.nan, math.nan)
    mean = math.fsum(values) / n
    if n == 1:
        return (mean, mean, mean)
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    half = t975(n - 1) * math.sqrt(var / n)
    return (mean, mean - half, mean + half)


def point_summary(df, keys: list[str], metric: str):  # -> pandas.DataFrame
    """Mean and 95% interval of a metric at each point."""
    rows = []
    for vals, grp in df.groupby(keys, sort=True):
        vals = vals if isinstance(vals, tuple) else (vals,)
        m, lo, hi = mean_ci(list(grp[metric]))
        rows.append({**dict(zip(keys, vals)), "mean": m, "ci95_low": lo, "ci95_high": hi, "n": len(grp)})
    import pandas as pd

    return pd.DataFrame(rows)
