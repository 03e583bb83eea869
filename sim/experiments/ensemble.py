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
- *5/50/95% across settings* (:func:`settings_quantiles`): the 5th, 50th and 95th percentiles of
  the per-setting means (linear interpolation between order statistics, numpy's default): the
  middle of the plausible answers, less driven by the one most extreme setting than the range.
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
from sim.experiments.identity import plain

__all__ = [
    "Ensemble",
    "load_ensemble",
    "ensemble_stats",
    "aggregate_ensemble",
    "settings_range",
    "settings_quantiles",
    "as_ensemble",
]


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

    def check(self, scenario: Scenario, keep: Iterable[str] = ()) -> None:
        """Every value (but those of the keys in ``keep``) within the ``[uncertain]`` range its key
        declares, and every setting a valid scenario: a :class:`ScenarioError` names the file, the
        row and the column. Called before anything runs."""
        held = set(keep)
        overrides = [{k: v for k, v in setting.items() if k not in held} for setting in self.settings]
        problems = []
        for i, over in enumerate(overrides):
            for key, value in over.items():
                declared = scenario.uncertain.get(key)
                if declared is not None and isinstance(value, int | float) and not declared.low <= value <= declared.high:
                    where, bounds = f"row {i + 1}, {key}", f"{declared.low} to {declared.high}"
                    problems.append((where, f"{value} is outside its [uncertain] range {bounds}"))
        if problems:
            raise ScenarioError(self.source, problems[:MAX_LISTED])
        for i, over in enumerate(overrides):
            if over:
                scenario.with_overrides(over, source=f"{self.source} (row {i + 1})")

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "settings": len(self.settings), "keys": self.keys}
        if self.provenance:
            out["provenance"] = {k: self.provenance[k] for k in ("command", "budget", "seed", "version") if k in self.provenance}
        return out


MAX_LISTED = 20
"""Most problems one error lists (a file with a systematic fault would otherwise flood the screen)."""


def load_ensemble(path: str | Path) -> Ensemble:
    """Read an ensemble CSV strictly, and its provenance (``<same name>.json``) when there is one.

    Every row must have as many fields as the header, every column a distinct name, every cell a
    value, every number be finite; a sidecar JSON must parse. A :class:`ScenarioError` names the
    file, the row (and its line) and the column; the keys themselves are checked against a scenario
    by :meth:`Ensemble.check`, before anything runs.
    """
    p = Path(path)
    text = _read_text(p)
    lines = _data_lines(p, text)
    df = _table(p, text)
    if "weight" in df.columns:
        w = df.pop("weight").to_numpy(dtype=float)
        if len(w) and not np.allclose(w, w[0]):
            raise ScenarioError(str(p), [("weight", "unequal weights are not supported: replications are spread evenly")])
    if df.empty or not len(df.columns):
        raise ScenarioError(str(p), [("", "no settings: expected a header of dotted keys and one row per setting")])
    _raise(p, _bad_cells(df, lines, text))
    settings = tuple({str(c): plain(v) for c, v in row.items()} for row in df.to_dict(orient="records"))
    return Ensemble(settings, str(p), _provenance(p))


def _raise(p: Path, problems: list[tuple[str, str]]) -> None:
    if problems:
        more = len(problems) - MAX_LISTED
        raise ScenarioError(str(p), problems[:MAX_LISTED] + ([("", f"... and {more} more")] if more > 0 else []))


def _read_text(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScenarioError(str(p), [("", "file not found")]) from None
    except IsADirectoryError:
        raise ScenarioError(str(p), [("", "is a folder, not a CSV file")]) from None
    except UnicodeDecodeError as e:
        raise ScenarioError(str(p), [("", f"not UTF-8 text (byte {e.start})")]) from None


def _data_lines(p: Path, text: str) -> list[int]:
    """The line of each data row, after checking that every row has as many fields as the header
    (a longer row would otherwise shift the columns: its first field read as an index)."""
    import csv
    import io

    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise ScenarioError(str(p), [("", "no settings: expected a header of dotted keys and one row per setting")])
    names = [c.strip() for c in header]
    problems = [(f"column {i + 1}", "has no name in the header") for i, c in enumerate(names) if not c]
    problems += [(c, "named twice in the header") for c in sorted({c for c in names if c and names.count(c) > 1})]
    lines: list[int] = []
    for row in reader:
        if not row:
            continue  # a blank line, skipped as pandas skips it
        lines.append(reader.line_num)
        if len(row) != len(header):
            problems.append(
                (
                    _row(len(lines), reader.line_num),
                    f"{len(row)} field{'' if len(row) == 1 else 's'}, but the header names {len(header)} columns",
                )
            )
    _raise(p, problems)
    return lines


def _table(p: Path, text: str) -> Any:  # -> pandas.DataFrame
    import io

    import pandas as pd

    try:
        return pd.read_csv(io.StringIO(text))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise ScenarioError(str(p), [("", f"not a CSV table: {e}")]) from None


def _row(n: int, line: int) -> str:
    return f"row {n} (line {line})"


def _bad_cells(df: Any, lines: list[int], text: str) -> list[tuple[str, str]]:
    """Empty cells and numbers that are not finite (``nan``, ``inf``), by row and column."""
    import io

    import pandas as pd

    written = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)  # each cell as written
    problems = []
    for i, row in enumerate(df.itertuples(index=False)):
        for column, value in zip(df.columns, row):
            where = f"{_row(i + 1, lines[i])}, {column}"
            if isinstance(value, str):
                continue  # a text value: the scenario's own check says whether the key takes it
            if (value is None or value != value) and not str(written[column].iloc[i]).strip():
                problems.append((where, "empty: every setting needs a value for every key"))
            elif value is None or value != value:
                problems.append((where, f"{written[column].iloc[i].strip()} is not a finite number"))
            elif isinstance(value, float | np.floating) and not math.isfinite(value):
                problems.append((where, f"{value} is not a finite number"))
    return problems


def _provenance(p: Path) -> dict[str, Any] | None:
    """The sidecar ``<same name>.json`` (how the ensemble was made), if there is one."""
    from sim.outputs.files import read_json

    side = p.with_suffix(".json")
    if not side.exists():
        return None
    try:
        return dict(read_json(side))
    except ScenarioError as e:
        raise ScenarioError(e.source, [(field, f"the provenance of {p.name}: {why}") for field, why in e.problems]) from None


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


SETTINGS_QUANTILES = {"settings_p5": 5.0, "settings_p50": 50.0, "settings_p95": 95.0}
"""The percentiles across settings reported next to the range, by the name of their field."""


def settings_quantiles(per_setting: Sequence[float]) -> dict[str, float]:
    """The 5th, 50th and 95th percentiles of the per-setting means (``settings_p5``, ``settings_p50``,
    ``settings_p95``; linear interpolation, numpy's default); NaN without a setting."""
    means = np.asarray(per_setting, dtype=float)
    if not len(means):
        return dict.fromkeys(SETTINGS_QUANTILES, math.nan)
    return {name: float(np.percentile(means, q)) for name, q in SETTINGS_QUANTILES.items()}


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


def as_ensemble(ensemble: Ensemble | str | Path | None, scenario: Scenario, keep: Iterable[str] = ()) -> Ensemble | None:
    """An :class:`Ensemble` (loaded from a path if need be), checked against ``scenario`` (but the keys in ``keep``)."""
    if ensemble is None:
        return None
    ens = ensemble if isinstance(ensemble, Ensemble) else load_ensemble(ensemble)
    ens.check(scenario, keep)
    return ens
