"""One self-contained HTML report of an output folder: ``DIR/report.html``.

It reads only what the folder holds (``summary.json`` of a run, ``compare.json`` of a
comparison, ``manifest.json`` and ``results.csv`` of a sweep, ``sensitivity.csv`` or
``calibration.json`` when those commands wrote them), recognises the kind of folder by those
files, and renders a Jinja2 template with every image inlined as base64 PNG and the CSS in the
page: the file opens with no network and can be forwarded alone. Figures the folder lacks are
drawn from its tables where they can be; a part that cannot be shown says why.
"""

from __future__ import annotations

import base64
import io
import math
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from markupsafe import Markup, escape

from sim.description.errors import ScenarioError
from sim.description.loading import scenarios_dir
from sim.description.scenario import Scenario, validate
from sim.experiments.identity import flat_keys, scenario_hash
from sim.experiments.replications import HEADLINE as RUN_HEADLINE
from sim.report.inputs import Manifest, check_sweep, read_checked, read_compare, read_json, read_run

__all__ = ["write_report", "detect", "Kind", "CAPTIONS"]

Kind = Literal["run", "compare", "sweep", "plan", "explain", "sensitivity", "calibration"]
REPORT = "report.html"

HEADLINE = (*RUN_HEADLINE, "peak_day_evacuated")
"""The headline metrics ``run`` and ``compare`` print, and the peak day."""

CAPTIONS = {
    "cumulative_evacuated": "Read the gap between the curve and the diamonds for how far the model is from the published "
    "counts, and where the curve flattens before the dashed line for the airlift stopping before security did.",
    "daily_by_operator": "Read each bar's height for the people flown out that local day, its colours for who flew "
    "them, and the whisker for how precisely the replications pin the daily total.",
    "crowds_and_airfield": "Read where the holding-area curve meets the dotted capacity line: there the entry points stop "
    "admitting and the numbers waiting outside the perimeter grow.",
    "stranded_by_cohort": "Read each bar's length for the people of that cohort left behind, and its colours for where "
    "they were when the airport closed.",
    "limits_by_day": "Read the word above each day for what bound throughput that day (its tallest bar segment); the "
    "bars give the people-hours held back by cause, the lower panel the people waiting inside for an aircraft.",
    "published": "Read whether each diamond (published) falls inside the model's 95% interval: outside means the model "
    "and the record disagree on that figure.",
    "differences": "Read which intervals exclude zero (blue): only those differences between A and B are more than noise "
    "of the replications.",
}
_PATTERN_CAPTIONS = (
    (
        "stranded_by_cohort_vs_",
        "Read each panel's slope for how many people of that cohort each step of {k} saves; "
        "each panel has its own scale, so compare slopes, not heights.",
    ),
    ("_heatmap", "Read along a row or a column: where the colour stops changing, more of that resource no longer helps."),
    ("_scatter", "Read the direction in which the colour changes fastest: that parameter matters most at these points."),
    ("capacity_curve", "Read where the gains' intervals reach zero: from there an extra step buys no measurable gain."),
    ("_vs_", "Read the slope for what each step of {k} changes, and the band for how precisely the replications know it."),
)


def detect(out: Path) -> Kind:
    """The kind of output folder, from the files it holds."""
    if (out / "sensitivity.csv").is_file():
        return "sensitivity"
    if (out / "calibration.json").is_file():
        return "calibration"
    if (out / "summary.json").is_file():
        return "run"
    if (out / "compare.json").is_file():
        return "compare"
    if (out / "plan.json").is_file():
        return "plan"
    if (out / "explain.json").is_file():
        return "explain"
    if (out / "manifest.json").is_file():
        return "sweep"
    raise ScenarioError(
        str(out), [("", "not an airlift output folder (no summary.json, compare.json, plan.json or manifest.json)")]
    )


def caption(stem: str, key: str = "") -> str:
    from sim.report.explain_section import EXPLAIN_CAPTIONS
    from sim.report.plan_section import PLAN_CAPTIONS

    if stem in CAPTIONS or stem in PLAN_CAPTIONS or stem in EXPLAIN_CAPTIONS:
        return {**CAPTIONS, **PLAN_CAPTIONS, **EXPLAIN_CAPTIONS}[stem]
    for part, text in _PATTERN_CAPTIONS:
        if part in stem:
            return text.format(k=key or "the swept key")
    return "A figure written by the command that made this folder; its title and axes say what it shows."


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figures(out: Path, drawn: Mapping[str, Any], order: list[str], key: str = "") -> list[dict[str, str]]:
    """Every PNG of the folder (in ``order`` first), and the figures drawn here, inlined."""
    figs: dict[str, str] = {p.stem: base64.b64encode(p.read_bytes()).decode("ascii") for p in sorted(out.glob("*.png"))}
    figs.update({stem: _png(fig) for stem, fig in drawn.items()})
    stems = [s for s in order if s in figs] + [s for s in figs if s not in order]
    return [{"stem": s, "png": figs[s], "caption": caption(s, key)} for s in stems]


def fmt(x: Any, digits: int = 0) -> str:
    """A number for a reader: thousands separators; small fractions keep two decimals."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    if isinstance(x, int | float) and not isinstance(x, bool):
        if abs(x) < 10 and not float(x).is_integer():
            return f"{x:,.2f}"
        return f"{x:,.{digits}f}"
    return str(x)


def breakable(name: Any) -> Markup:
    """A dotted name that may wrap after its dots and underscores (on a phone), escaped."""
    return Markup("".join(f"{escape(ch)}<wbr>" if ch in "._" else str(escape(ch)) for ch in str(name)))


def interval(stats: Mapping[str, Any], n: int) -> str:
    lo, hi = stats.get("ci95_low"), stats.get("ci95_high")
    if n < 2 or lo is None or hi is None or not (math.isfinite(float(lo)) and math.isfinite(float(hi))):
        return "unavailable (one replication)" if n < 2 else "unavailable"
    return f"{fmt(lo)} – {fmt(hi)}"


def _scenario(raw: Mapping[str, Any], source: str) -> Scenario:
    return validate(raw, source)


def _what(s: Scenario, raw: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """What was run, for the page's first table."""
    from sim.outputs.run_figures import utc_offset

    end = s.at(s.end_hours)
    return {
        "name": s.name,
        "description": s.description,
        "window": f"{s.at(s.secured_from_hours):%d %b %Y %H:%M} to {end:%d %b %Y %H:%M} local time ({utc_offset(s.start)})"
        + (f", the scenario from {s.start:%d %b %Y %H:%M}" if s.secured_from_hours > 0 else ""),
        "hash": scenario_hash(raw),
        "version": data.get("version", "unknown"),
        "seed": data.get("seed", "unknown"),
        "replications": data.get("replications", "unknown"),
        "command": data.get("command") or "not recorded (written by the Python API, or by an older version)",
        "overrides": data.get("overrides") or {},
        "file": Path(data["scenario_file"]).name if data.get("scenario_file") else None,  # no private paths in a forwarded page
    }


def _assumptions(s: Scenario, raw: Mapping[str, Any], file: str | None) -> dict[str, Any]:
    """The ``[uncertain]`` table when the scenario has one, else the file's ASSUMPTION notes."""
    from sim.description.assumption_notes import assumption_notes

    uncertain = raw.get("uncertain") or {}
    if uncertain:
        rows = [
            {"key": k, **{f: v.get(f) for f in ("low", "high", "distribution", "mode", "note")}} for k, v in uncertain.items()
        ]
        return {"kind": "uncertain", "rows": rows}
    candidates = [Path(file)] if file else []
    candidates.append(scenarios_dir() / f"{s.name}.toml")
    for path in candidates:
        if path.is_file():
            notes = assumption_notes(path)
            if notes:
                return {"kind": "notes", "file": path.name, "rows": [n.__dict__ for n in notes]}
    return {"kind": "none"}


def _run(out: Path) -> dict[str, Any]:
    from sim.outputs import run_figures as plots

    data = read_run(out)
    raw = data["scenario"]
    s = _scenario(raw, str(out / "summary.json"))
    n = int(data.get("replications", 1))
    m = data["metrics"]
    registered = any(c.registration is not None for c in s.cohorts.values())
    names = list(HEADLINE)
    if registered:  # beside the other places of the stranded
        at = names.index("stranded_airfield") + 1 if "stranded_airfield" in names else len(names)
        names[at:at] = _REGISTERED_HEADLINE
    headline = [
        {"name": k, "label": _words(k), "mean": _value(k, m[k]["mean"]), "interval": interval(m[k], n)} for k in names if k in m
    ]
    fields = (*_COHORT_FIELDS, *(_REGISTERED_FIELDS if registered else ()))
    cohorts = [{"name": c, **{f: people(m.get(f"cohort.{c}.{f}", {}).get("mean")) for f in fields}} for c in s.cohorts]
    published = [
        {"name": k, "published": fmt(v), "model": fmt(m[k]["mean"]), "interval": interval(m[k], n)}
        for k, v in s.reference.items()
        if k in m
    ]
    drawn = {}
    if published:
        drawn["published"] = plots.published(m, s.reference, s.name)
    return {
        "what": _what(s, raw, data),
        "headline": headline,
        "cohorts": cohorts,
        "registered": registered,
        "published": published,
        "binding": _binding(out, s),
        "assumptions": _assumptions(s, raw, data.get("scenario_file")),
        "figures": _figures(out, drawn, ["published", *plots.RUN_FIGURES]),
    }


_COHORT_FIELDS = ("people", "evacuated", "stranded", "stranded_never_arrived", "stranded_at_gates", "stranded_airfield")
_REGISTERED_FIELDS = ("stranded_turned_back", "did_not_travel")
"""Cohort columns shown when a cohort is registered (``cohorts.<c>.registration``)."""
_REGISTERED_HEADLINE = ("stranded_turned_back", "did_not_travel_total")
"""Headline rows added when a cohort is registered: without them the rows do not add up to the people."""


def people(x: Any) -> str:
    """A mean number of people: whole from 10 up, one decimal below (a mean of 1.2 people, not 1.20)."""
    if isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) and abs(x) < 10:
        return f"{x:.1f}".removesuffix(".0")
    return fmt(x)


def _value(metric: str, x: Any) -> str:
    """A headline value: people as :func:`people`, anything else as :func:`fmt`."""
    counts_people = metric.startswith(("evacuated", "stranded", "did_not_travel", "peak_day"))
    return people(x) if counts_people else fmt(x)


def _words(metric: str) -> str:
    from sim.outputs.sweep_figures import metric_label

    return metric_label(metric)


def _binding(out: Path, s: Scenario) -> list[dict[str, str]]:
    """The binding constraint of each local day, from ``timeseries.csv`` (the run's own rule)."""
    path = out / "timeseries.csv"
    if not path.is_file():
        return []
    import pandas as pd

    from sim.experiments.replications import ReplicationResult, RunResult

    ts = pd.read_csv(path)
    cols = [c for c in ts.columns if c not in ("replication", "time")]
    reps = [ReplicationResult({}, (), {c: g[c].to_numpy() for c in cols}) for _, g in ts.groupby("replication", sort=True)]
    table = RunResult(s, 0, reps).limits_by_day()
    causes = [c for c in table.columns if c not in ("binding", "holding_people")]
    rows = []
    for day, row in table.iterrows():
        waits = ", ".join(f"{c} {row[c]:,.0f}" for c in causes if row[c] >= 0.5) or "none"
        rows.append({"date": f"{datetime.fromisoformat(str(day)[:10]):%a %d %b}", "binding": str(row["binding"]), "waits": waits})
    return rows


def _compare(out: Path) -> dict[str, Any]:
    from sim.outputs.compare_figures import compare_differences

    data = read_compare(out)
    ra, rb = data["a"]["scenario"], data["b"]["scenario"]
    a, b = _scenario(ra, "compare.json: a"), _scenario(rb, "compare.json: b")
    n = int(data.get("replications", 1))
    fa, fb = flat_keys(ra), flat_keys(rb)
    differs = [{"key": k, "a": fa.get(k, "–"), "b": fb.get(k, "–")} for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)]
    diffs = data["differences"]
    names = [k for k in HEADLINE if k in diffs] + [k for k in diffs if k.startswith("cohort.") and k.endswith(".stranded")]
    rows = [
        {
            "label": _words(k),
            "a": fmt(diffs[k]["a_mean"]),
            "b": fmt(diffs[k]["b_mean"]),
            "diff": fmt(diffs[k]["difference_mean"]),
            "interval": interval(diffs[k], n),
        }
        for k in names
    ]
    what = _what(a, ra, data)
    what["name"] = f"A = {a.name}, B = {b.name}"
    return {
        "what": what,
        "differs": differs,
        "differences": rows,
        "assumptions": _assumptions(a, ra, data.get("scenario_file")),
        "figures": _figures(
            out, {} if (out / "differences.png").is_file() else {"differences": compare_differences(diffs)}, ["differences"]
        ),
    }


def _sweep(out: Path) -> dict[str, Any]:
    import pandas as pd

    from sim.experiments import sweeps

    manifest, checked = read_checked(out / "manifest.json", Manifest)
    if checked.scenario is None:
        raise ScenarioError(str(out / "manifest.json"), [("scenario", "missing")])
    raw = manifest["scenario"]
    s = _scenario(raw, str(out / "manifest.json"))
    spec = manifest.get("sweep", {})
    data = {
        **spec,
        "version": manifest.get("version"),
        "command": manifest.get("command"),
        "overrides": spec.get("set"),
        "scenario_file": spec.get("scenario"),
    }
    what = _what(s, raw, data)
    what["hash"] = manifest.get("scenario_hash", what["hash"])
    keys = list(spec.get("vary", {}))
    what["swept"] = ", ".join(f"{k} ({len(v)} values)" for k, v in spec.get("vary", {}).items())
    what["points"] = len(spec.get("points", []))
    if "security.end" in keys:
        what["window"] += " in the base scenario; the sweep moves its end"
    df = (
        _table(out / "results.csv", lambda path: sweeps.read_results(path.parent))
        if (out / "results.csv").is_file()
        else pd.DataFrame()
    )
    points = []
    if (out / "points.csv").is_file():
        table = _table(out / "points.csv", pd.read_csv, ["metric", "mean"])
        for _, r in table.iterrows():
            points.append(
                {
                    "at": ", ".join(f"{k} = {r[k]:g}" if isinstance(r[k], float) else f"{k} = {r[k]}" for k in keys if k in r),
                    "metric": _words(str(r["metric"])),
                    "mean": fmt(r["mean"]),
                    "interval": interval(r, int(r.get("n", 2))),
                }
            )
    check_sweep(out, checked)  # the tables and figures are those of these results
    curves = []
    if len(df) and "evacuated_total" in df.columns:
        from sim.analysis.capacity import capacity_curve

        for key in keys:
            curve = capacity_curve(df, key, "evacuated_total") if key in df.columns else None
            if curve is not None:
                curves.append(_curve_rows(curve))
    window = _window(out)  # a sweep of security.end leads with its curve, shown once
    return {
        "what": what,
        "window": window,
        "points": points,
        "curves": curves,
        "assumptions": _assumptions(s, raw, spec.get("scenario")),
        "figures": [f for f in _figures(out, {}, [], keys[0] if keys else "") if not (window and f["stem"] == WINDOW_STEM)],
    }


WINDOW_STEM = "security_window_curve"
"""The files of the security-window curve (``.csv`` and ``.png``), which a sweep of ``security.end`` writes."""


def _window(out: Path) -> dict[str, Any] | None:
    """The security-window lead (:mod:`sim.report.window_section`) when the sweep wrote its curve's numbers."""
    import pandas as pd

    from sim.analysis.security_window import scenario_end
    from sim.experiments import sweeps
    from sim.report.window_section import WINDOW_COLUMNS, window_section

    path = out / f"{WINDOW_STEM}.csv"
    if not path.is_file():
        return None
    curve = _table(path, pd.read_csv, WINDOW_COLUMNS)
    start = sweeps.read_manifest_start(out)
    own_end = scenario_end(read_json(out / "manifest.json").get("scenario", {}), start)
    return window_section(out, curve, start, own_end) if len(curve) else None


def _plan(out: Path) -> dict[str, Any]:
    from sim.report.plan_section import plan_section, read_plan

    data = read_plan(out)
    raw = data["scenario"]
    s = _scenario(raw, str(out / "plan.json"))
    what = _what(s, raw, data)
    if any(lever["key"] == "security.end" for lever in data["levers"]):
        what["window"] += " in the base scenario; the plan moves its end"
    return {
        "what": what,
        "plan": plan_section(data),
        "assumptions": _assumptions(s, raw, data.get("scenario_file")),
        "figures": _figures(out, {}, ["plan_probability", "plan_front"]),
    }


def _explain(out: Path) -> dict[str, Any]:
    import pandas as pd

    from sim.report.explain_section import COLUMNS, explain_section, read_explain

    data = read_explain(out)
    raw = data["scenario"]
    s = _scenario(raw, str(out / "explain.json"))
    return {
        "what": _what(s, raw, data),
        "explain": explain_section(data, _table(out / "explain.csv", pd.read_csv, COLUMNS)),
        "assumptions": _assumptions(s, raw, data.get("scenario_file")),
        "figures": _figures(out, {}, ["explain_heatmap"]),
    }


def _curve_rows(curve: Any) -> dict[str, Any]:
    """A capacity curve for the page: its description in words (what ``sweep`` prints) and the
    marginal gains between consecutive points with their paired intervals, as a table."""
    lines = curve.describe("extra day of security" if curve.key == "security.end" else None)
    gains = curve.gains
    rows = [
        {str(c).replace("_", " "): fmt(v) if not isinstance(v, bool | np.bool_) else ("yes" if v else "no") for c, v in r.items()}
        for r in gains.to_dict("records")
    ]
    return {"title": lines[0], "lines": [x.strip() for x in lines[1:]], "rows": rows}


def _other(out: Path, kind: Kind) -> dict[str, Any]:
    """A sensitivity or calibration folder: its tables as they are, its plots, its manifest."""
    import pandas as pd

    tables = []
    for path in sorted(out.glob("*.csv")):
        if path.name in ("results.csv", "timeseries.csv"):
            continue
        df = _table(path, pd.read_csv)
        tables.append(
            {"name": path.name, "columns": list(df.columns), "rows": [[fmt(v) for v in r] for r in df.head(60).to_numpy()]}
        )
    facts = {}
    for name in ("calibration.json", "manifest.json"):
        if (out / name).is_file():
            data = read_json(out / name)
            if not isinstance(data, dict):
                raise ScenarioError(
                    str(out / name), [("", f"a JSON {type(data).__name__}, not an object: run the command again")]
                )
            facts.update({f"{name}: {k}": v for k, v in data.items() if isinstance(v, str | int | float)})
    what = None
    if (out / "manifest.json").is_file():
        manifest, checked = read_checked(out / "manifest.json", Manifest)
        if checked.scenario is not None:
            raw = manifest["scenario"]
            s = _scenario(raw, str(out / "manifest.json"))
            what = _what(s, raw, {**manifest.get("sweep", {}), **manifest})
    return {"what": what, "tables": tables, "facts": facts, "figures": _figures(out, {}, [])}


def write_report(out: str | Path) -> Path:
    """Write ``out/report.html`` for the output folder ``out``; returns its path.

    The folder is held while the page is built (a folder another airlift process writes is
    refused), its summary is checked against a schema and its files against the digests the
    summary lists (:mod:`sim.report.inputs`); a read-only folder is refused."""
    from sim.outputs.folders import claim_folder

    out = Path(out)
    if not out.is_dir():
        raise ScenarioError(str(out), [("", "no such folder")])
    if not os.access(out, os.W_OK | os.X_OK):
        raise ScenarioError(str(out), [("", f"read-only: {REPORT} cannot be written here (copy the folder somewhere writable)")])
    with claim_folder(out, "airlift report", option=str(out), required=False):
        return _render(out)


def _render(out: Path) -> Path:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from sim._version import __version__
    from sim.outputs.files import atomic_write

    kind = detect(out)
    builders = {"run": _run, "compare": _compare, "sweep": _sweep, "plan": _plan, "explain": _explain}
    context = builders[kind](out) if kind in builders else _other(out, kind)
    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html", "j2"]))
    env.filters["fmt"] = fmt
    env.filters["breakable"] = breakable
    html = env.get_template("report.html.j2").render(kind=kind, folder=out.name, generator=__version__, **context)
    path = out / REPORT
    atomic_write(path, lambda fh: None if fh.write(html) else None)
    return path


def _table(path: Path, read: Any, columns: list[str] | None = None) -> Any:
    """A table of the folder read by ``read``; one that is not as airlift writes it is a ``ScenarioError``."""
    import pandas as pd

    try:
        table = read(path)
    except (ValueError, KeyError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise ScenarioError(str(path), [("", f"not a table airlift wrote ({type(e).__name__}: {e})")]) from None
    missing = [c for c in columns or [] if c not in table.columns]
    if missing:
        raise ScenarioError(str(path), [(c, "missing column") for c in missing])
    return table
