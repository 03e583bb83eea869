"""The report's lead for a sweep of ``security.end``: the security-window curve (the figure the
sweep wrote, or drawn from ``security_window_curve.csv`` when it wrote none), what its line and
bands are, one sentence read off it, and the numbers for everyone at each end date."""

from __future__ import annotations

import base64
import io
from datetime import datetime
from pathlib import Path
from typing import Any

from sim.outputs.window_figures import WINDOW_CURVE, security_window_curve

__all__ = ["window_section", "WINDOW_COLUMNS"]

WINDOW_COLUMNS = ["security.end", "cohort", "metric", "p5", "p50", "p95", "settings_p5", "settings_p95"]
WINDOW_COLUMNS += ["replications", "settings"]
"""The columns of ``security_window_curve.csv`` the report reads."""


def _people(x: float) -> str:
    return "–" if x != x else f"{x:,.0f}"


def _end(row: Any) -> str:
    """An end date as the page shows it: the local date and time the CSV gives, else days after start."""
    text = row.get("end_date")
    if isinstance(text, str) and text:
        return f"{datetime.fromisoformat(text):%d %b %Y %H:%M}"
    return f"day {row['security.end']:g}"


def _figure(out: Path, curve: Any, start: datetime | None) -> str:
    """The curve's PNG as base64: the sweep's own file, else drawn here from its numbers."""
    png = out / f"{WINDOW_CURVE}.png"
    if png.is_file():
        return base64.b64encode(png.read_bytes()).decode("ascii")
    buf = io.BytesIO()
    security_window_curve(curve, "security.end", start).savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def window_section(out: Path, curve: Any, start: datetime | None, own_end: float | None = None) -> dict[str, Any]:
    """The lead of a ``security.end`` sweep's report, from its curve table
    (:func:`~sim.analysis.security_window.window_curve`); ``own_end``: the swept scenario's own end
    (days after ``start``), the sentence's starting point when it is one of the ends swept."""
    everyone = curve[curve["cohort"] == "all"]
    evacuated = everyone[everyone["metric"] == "evacuated"].sort_values("security.end")
    stranded = everyone[everyone["metric"] == "stranded"].sort_values("security.end").set_index("security.end")
    rows = []
    for _, ev in evacuated.iterrows():
        st = stranded.loc[ev["security.end"]]
        rows.append(
            {
                "end": _end(ev),
                "evacuated": _people(ev["p50"]),
                "evacuated_settings": f"{_people(ev['settings_p5'])} – {_people(ev['settings_p95'])}",
                "evacuated_replications": f"{_people(ev['p5'])} – {_people(ev['p95'])}",
                "stranded": _people(st["p50"]),
                "stranded_replications": f"{_people(st['p5'])} – {_people(st['p95'])}",
            }
        )
    own = evacuated[evacuated["security.end"] == own_end] if own_end is not None else evacuated.iloc[:0]
    from_own = len(own) > 0 and own.index[0] != evacuated.index[-1]
    first, last = (own.iloc[0] if from_own else evacuated.iloc[0]), evacuated.iloc[-1]
    whose = " (the scenario's own end)" if from_own else ""
    sentence = (
        f"Secured until {_end(last)} rather than {_end(first)}{whose}, the median of the replications goes from "
        f"{_people(first['p50'])} to {_people(last['p50'])} people evacuated ({_people(last['p50'] - first['p50'])} more)"
    )
    return {
        "png": _figure(out, curve, start),
        "sentence": sentence,
        "rows": rows,
        "has_settings": bool(evacuated["settings_p5"].notna().all()),
        "settings": int(evacuated["settings"].max()),
        "replications": int(evacuated["replications"].max()),
    }
