"""Ensembles of plausible settings (``--ensemble FILE``): replications spread over them, and the two
intervals every headline metric then reports.

An ensemble is a CSV with one row per plausible setting and a column per dotted key (what
``airlift calibrate`` writes as ``ensemble.csv``). Replication ``r`` runs setting ``r mod K`` with
the random streams of replication ``r``, so both sides of a comparison and every point of a sweep
are paired setting by setting. With the per-replication values ``x_r`` and their settings:

- *stochastic 95% interval*: the Student-t interval of the mean over replications, from the
  variation *within* settings only: ``mean ± t(0.975, N - K) * s_w / sqrt(N)`` with ``s_w^2`` the
  pooled within-setting variance (``N`` replications, ``K`` settings used). It says how precisely
  the replications pin the ensemble mean down; it needs a setting run at least twice (``N > K``).
- *range across settings*: the lowest and highest of the per-setting means: how far the answer
  moves between settings that all match the published record.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.description.errors import ScenarioError
from sim.description.scenario import Scenario

__all__ = ["Ensemble", "load_ensemble", "ensemble_stats", "aggregate_ensemble", "settings_range", "as_ensemble"]


@dataclass(frozen=True)
class Ensemble:
    """Plausible settings (dicts of dotted key -> value) and where they came from."""

    settings: tuple[dict[str, Any], ...]
    source: str = "ensemble"
    provenance: dict[str, Any] | None = field(default=None, compare=False)

    def __len__(self) -> int:
        return len(self.settings)

    @property
    def keys(self) -> list[str]:
        return list(self.settings[0]) if self.settings else []

    def setting_of(self, replication: int) -> int:
        """The setting replication ``replication`` runs: ``replication mod K``."""
        return replication % len(self.settings)

    def apply(self, scenario: Scenario, replication: int, keep: Iterable[str] = ()) -> Scenario:
        """``scenario`` with the setting of ``replication``, except the keys in ``keep``."""
        i = self.setting_of(replication)
        held = set(keep)
        over = {k: v for k, v in self.settings[i].items() if k not in held}
        return scenario.with_overrides(over, source=f"{self.source} (setting {i})") if over else scenario

    def check(self, scenario: Scenario) -> None:
        """Every setting must make a valid scenario (a ScenarioError names the file and the row)."""
        for r in range(len(self.settings)):
            self.apply(scenario, r)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "settings": len(self.settings), "keys": self.keys}
        if self.provenance:
            out["provenance"] = {k: self.provenance[k] for k in ("command", "budget", "seed", "version") if k in self.provenance}
        return out


def load_ensemble(path: str | Path) -> Ensemble:
    """Read an ensemble CSV (and its provenance, ``<same name>.json``, when there is one)."""
    import json

    import pandas as pd

    p = Path(path)
    try:
        df = pd.read_csv(p)
    except FileNotFoundError:
        raise ScenarioError(str(p), [("", "file not found")]) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise ScenarioError(str(p), [("", f"not a CSV table: {e}")]) from None
    if "weight" in df.columns:
        w = df.pop("weight").to_numpy(dtype=float)
        if len(w) and not np.allclose(w, w[0]):
            raise ScenarioError(str(p), [("weight", "unequal weights are not supported: replications are spread evenly")])
    if df.empty or not len(df.columns):
        raise ScenarioError(str(p), [("", "no settings: expected a header of dotted keys and one row per setting")])
    bad = [c for c in df.columns if df[c].isna().any()]
    if bad:
        raise ScenarioError(str(p), [(c, "empty cells: every setting needs a value for every key") for c in bad])
    settings = tuple({c: _py(v) for c, v in row.items()} for row in df.to_dict(orient="records"))
    side = p.with_suffix(".json")
    provenance = json.loads(side.read_text(encoding="utf-8")) if side.exists() else None
    return Ensemble(settings, str(p), provenance)


def _py(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def ensemble_stats(values: Sequence[float], settings: Sequence[int]) -> dict[str, Any]:
    """Mean, stochastic 95% interval (within settings) and range across settings (module docstring)."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    s = np.asarray(settings)
    used = sorted(set(s.tolist()))
    per = {k: float(x[s == k].mean()) for k in used}
    mean = float(x.mean())
    df_w = len(x) - len(used)
    if df_w > 0:
        resid = x - np.array([per[k] for k in s.tolist()])
        sw = math.sqrt(float((resid**2).sum()) / df_w)
        half = float(stats.t.ppf(0.975, df_w)) * sw / math.sqrt(len(x))
        lo, hi = mean - half, mean + half
    else:
        lo = hi = math.nan  # every setting ran once: stochastic and setting variation cannot be told apart
    return {
        "mean": mean,
        "ci95_low": lo,
        "ci95_high": hi,
        "settings_low": min(per.values()),
        "settings_high": max(per.values()),
        "settings_used": len(used),
        "per_setting": [per[k] for k in used],
        "values": [float(v) for v in x],
    }


def aggregate_ensemble(values_by_metric: Mapping[str, list[float]], ensemble: Ensemble) -> dict[str, dict[str, Any]]:
    """:func:`ensemble_stats` of every metric; replication ``r`` ran setting ``r mod K``."""
    out = {}
    for name, values in values_by_metric.items():
        out[name] = ensemble_stats(values, [ensemble.setting_of(r) for r in range(len(values))])
    return out


def settings_range(df: Any, keys: list[str], metric: str, ensemble: Ensemble) -> Any:
    """Per sweep point (rows of a sweep table grouped by ``keys``): the stochastic 95% interval
    and the range across settings of ``metric`` (:func:`ensemble_stats`), as a DataFrame."""
    import pandas as pd

    rows = []
    for vals, grp in df.groupby(keys, sort=True):
        vals = vals if isinstance(vals, tuple) else (vals,)
        st = ensemble_stats(list(grp[metric]), [ensemble.setting_of(int(r)) for r in grp["replication"]])
        rows.append({**dict(zip(keys, vals)), **{k: st[k] for k in ("ci95_low", "ci95_high", "settings_low", "settings_high")}})
    return pd.DataFrame(rows)


def as_ensemble(ensemble: Ensemble | str | Path | None, scenario: Scenario) -> Ensemble | None:
    """An :class:`Ensemble` (loaded from a path if need be), checked against ``scenario``."""
    if ensemble is None:
        return None
    ens = ensemble if isinstance(ensemble, Ensemble) else load_ensemble(ensemble)
    ens.check(scenario)
    return ens
