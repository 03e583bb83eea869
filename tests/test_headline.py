"""The headline across the ensemble: the security-window curve's numbers and figure, and the
percentiles across plausible settings that ``compare --ensemble`` prints and writes."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import sim
import sim.experiments.sweeps
from sim.analysis.security_window import scenario_end, window_curve
from sim.cli.main import main
from sim.experiments.ensemble import Ensemble
from sim.outputs.window_figures import security_window_curve
from sim.report.window_section import window_section

ROOT = Path(__file__).resolve().parents[1]
SMALL = str(ROOT / "tests" / "data" / "small.toml")
THREE_SETTINGS = (
    {"fleets.us_c17.count": 2, "gates.abbey.lanes": 3},
    {"fleets.us_c17.count": 5, "gates.abbey.lanes": 6},
    {"fleets.us_c17.count": 3, "gates.abbey.lanes": 2},
)


def _ensemble_file(tmp_path: Path) -> Path:
    path = tmp_path / "ens.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(THREE_SETTINGS[0]))
        writer.writeheader()
        writer.writerows(THREE_SETTINGS)
    return path


def _percentiles_by_hand(paired: list[float], settings: int) -> list[float]:
    """5/50/95% (numpy's linear interpolation) of the per-setting means of paired differences,
    replication r having run setting r mod ``settings``."""
    per_setting = [float(np.mean(paired[k::settings])) for k in range(settings)]
    return [float(np.percentile(per_setting, q)) for q in (5, 50, 95)]


def test_compare_percentiles_across_settings_are_those_of_the_per_setting_mean_differences() -> None:
    small = sim.load_scenario(SMALL)
    b = small.with_overrides({"security.end": 1.5})
    c = sim.compare(small, b, 6, seed=2, ensemble=Ensemble(THREE_SETTINGS, "three settings"))
    diffs = c.differences(["evacuated_total", "stranded_total"])
    for metric in ("evacuated_total", "stranded_total"):
        want = _percentiles_by_hand(c.paired_values(metric), 3)
        got = [diffs.loc[metric, k] for k in ("settings_p5", "settings_p50", "settings_p95")]
        assert got == pytest.approx(want, rel=1e-12, abs=1e-9)
        assert diffs.loc[metric, "settings_low"] <= got[0] <= got[1] <= got[2] <= diffs.loc[metric, "settings_high"]
    assert len(set(np.round(_percentiles_by_hand(c.paired_values("evacuated_total"), 3), 6))) == 3, "a test that can fail"


def test_compare_without_an_ensemble_has_no_percentiles_across_settings() -> None:
    small = sim.load_scenario(SMALL)
    c = sim.compare(small, small.with_overrides({"security.end": 1.5}), 2, seed=0)
    assert "settings_p50" not in c.differences(["evacuated_total"]).columns


def test_compare_command_prints_and_writes_the_percentiles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp"
    argv = ["compare", SMALL, "--set-b", "security.end=1.5", "-n", "6", "--no-plots", "--out", str(out)]
    assert main([*argv, "--ensemble", str(_ensemble_file(tmp_path))]) == 0
    printed = capsys.readouterr().out
    written = json.loads((out / "compare.json").read_text(encoding="utf-8"))["differences"]["evacuated_total"]
    want = _percentiles_by_hand(written["values"], 3)
    assert [written[k] for k in ("settings_p5", "settings_p50", "settings_p95")] == pytest.approx(want)
    line = next(ln for ln in printed.splitlines() if ln.strip().startswith("evacuated_total"))
    assert " (5/50/95%: " + " / ".join(f"{x:,.0f}" for x in want) + ")" in line


def _window_sweep(settings: int = 4, replications: int = 20) -> pd.DataFrame:
    """A constructed sweep of ``security.end``: at end ``e``, replication ``r`` evacuates ``10 r + e``
    in all and strands ``1,000 - 10 r``; a cohort ``siv`` carries a tenth of both."""
    rows = []
    for point, end in enumerate((14.0, 16.0, 18.0)):
        for r in range(replications):
            evacuated, stranded = 10.0 * r + end, 1000.0 - 10.0 * r
            rows.append(
                {
                    "point": point,
                    "security.end": end,
                    "replication": r,
                    "seed": 0,
                    "evacuated_total": evacuated,
                    "stranded_total": stranded,
                    "cohort.siv.evacuated": evacuated / 10,
                    "cohort.siv.stranded": stranded / 10,
                    "cohort.siv.people": 110.0,
                }
            )
    return pd.DataFrame(rows)


def test_window_curve_percentiles_are_known_answers() -> None:
    curve = window_curve(_window_sweep(), "security.end", settings=4)
    assert list(curve[["cohort", "metric"]].drop_duplicates().itertuples(index=False, name=None)) == [
        ("all", "evacuated"),
        ("all", "stranded"),
        ("siv", "evacuated"),
        ("siv", "stranded"),
    ]
    row = curve[(curve["cohort"] == "all") & (curve["metric"] == "evacuated") & (curve["security.end"] == 16.0)].iloc[0]
    # 20 replications 0, 10, ..., 190 (+16): p5 = 0.05 * 19 steps of 10 = 9.5, p50 = 95, p95 = 180.5
    assert (row["p5"], row["p50"], row["p95"]) == pytest.approx((25.5, 111.0, 196.5))
    # setting k ran replications k, k+4, ..., k+16: mean 10 k + 80 (+16); 80, 90, 100, 110 -> 81.5, 95, 108.5
    assert (row["settings_p5"], row["settings_p50"], row["settings_p95"]) == pytest.approx((97.5, 111.0, 124.5))
    assert (row["replications"], row["settings"]) == (20, 4)
    siv = curve[(curve["cohort"] == "siv") & (curve["metric"] == "stranded") & (curve["security.end"] == 14.0)].iloc[0]
    assert (siv["p5"], siv["p95"], siv["settings_p5"]) == pytest.approx((100 - 18.05, 100 - 0.95, 100 - 10.85))


def test_window_curve_without_an_ensemble_has_no_settings_band() -> None:
    curve = window_curve(_window_sweep(), "security.end")
    assert curve["settings_p50"].isna().all() and (curve["settings"] == 1).all()
    assert curve["p50"].iloc[0] == pytest.approx(float(np.median(10.0 * np.arange(20) + 14)))


def _draw(fig: Figure) -> Any:
    FigureCanvasAgg(fig).draw()
    return fig.canvas.get_renderer()  # type: ignore[attr-defined]


@pytest.mark.parametrize("cohorts", [1, 7])
def test_window_figure_draws_the_table_and_its_legend_hides_no_panel(cohorts: int) -> None:
    sweep = _window_sweep()
    for i in range(2, cohorts + 1):  # more cohorts: Kabul has six, and the totals make seven panels
        sweep[f"cohort.c{i}.evacuated"] = sweep["cohort.siv.evacuated"] * i
        sweep[f"cohort.c{i}.stranded"] = sweep["cohort.siv.stranded"] * i
    curve = window_curve(sweep, "security.end", settings=4)
    start = datetime(2021, 8, 14, tzinfo=timezone(timedelta(hours=4.5)))
    fig = security_window_curve(curve, "security.end", start, scenario_end=19.0 if cohorts == 1 else 16.0)
    renderer = _draw(fig)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels][:2] == ["everyone", "siv"] and len(panels) == cohorts + 1
    everyone = panels[0]
    lines = {line.get_label(): line for line in everyone.get_lines()}
    for metric in ("evacuated", "stranded"):
        rows = curve[(curve["cohort"] == "all") & (curve["metric"] == metric)]
        assert np.asarray(lines[metric].get_ydata(), dtype=float) == pytest.approx(rows["p50"].to_numpy())
    bands = [np.asarray(c.get_paths()[0].vertices)[:, 1] for c in everyone.collections]
    evacuated = curve[(curve["cohort"] == "all") & (curve["metric"] == "evacuated")]
    assert any(min(b) == pytest.approx(evacuated["p5"].min()) and max(b) == pytest.approx(evacuated["p95"].max()) for b in bands)
    assert any(
        min(b) == pytest.approx(evacuated["settings_p5"].min()) and max(b) == pytest.approx(evacuated["settings_p95"].max())
        for b in bands
    )
    (legend,) = fig.legends
    box = legend.get_window_extent(renderer)
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y0 >= 0, "legend clipped"
    for ax in panels:  # the legend is outside every panel: it hides no line, band or tick label
        panel = ax.get_tightbbox(renderer)
        assert panel is not None and not box.overlaps(panel), ax.get_title()
    texts = [t.get_text() for t in legend.get_texts()]
    assert any("4 plausible settings" in t for t in texts)
    marked = [t for t in texts if t.startswith("the scenario's own security end")]
    assert marked == ([] if cohorts == 1 else ["the scenario's own security end (30 Aug)"]), "drawn only within the sweep"
    assert [t.get_text() for t in panels[-1].get_xticklabels()][0] == "28 Aug"


def test_a_sweep_of_the_security_end_writes_the_curve_and_its_numbers(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    ens = _ensemble_file(tmp_path)
    argv = ["sweep", SMALL, "--vary", "security.end=1.5,2", "-n", "6", "--ensemble", str(ens), "--out", str(out)]
    assert main(argv) == 0
    table = pd.read_csv(out / "security_window_curve.csv")
    assert list(table.columns[:5]) == ["security.end", "end_date", "cohort", "metric", "p5"]
    results = sim.experiments.sweeps.read_results(out)
    at_two = results[results["security.end"] == 2]
    want = np.percentile(at_two["evacuated_total"], [5, 50, 95])
    row = table[(table["security.end"] == 2) & (table["cohort"] == "all") & (table["metric"] == "evacuated")].iloc[0]
    assert [row["p5"], row["p50"], row["p95"]] == pytest.approx(list(want), rel=1e-5)
    assert row["end_date"] == "2021-08-16T00:00+04:30" and (out / "security_window_curve.png").is_file()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {"security_window_curve.csv", "security_window_curve.png"} <= set(manifest["files"])
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.index('id="window"') < page.index('id="what"'), "the report leads with the curve"
    assert page.count('id="fig-security_window_curve"') == 1 and "5–95% across settings" in page
    other = tmp_path / "lanes"
    assert main(["sweep", SMALL, "--vary", "gates.abbey.lanes=2,3", "-n", "1", "--no-plots", "--out", str(other)]) == 0
    assert not (other / "security_window_curve.csv").exists()


@pytest.mark.parametrize("panels", [1, 2, 3])
def test_window_figure_legend_fits_a_narrow_figure_with_the_scenario_end(panels: int) -> None:
    sweep = _window_sweep()
    if panels == 1:
        sweep = sweep.drop(columns=["cohort.siv.evacuated", "cohort.siv.stranded"])
    for i in range(2, panels):
        sweep[f"cohort.c{i}.evacuated"] = sweep["cohort.siv.evacuated"] * i
        sweep[f"cohort.c{i}.stranded"] = sweep["cohort.siv.stranded"] * i
    fig = security_window_curve(window_curve(sweep, "security.end", settings=4), "security.end", None, scenario_end=15.0)
    renderer = _draw(fig)
    box = fig.legends[0].get_window_extent(renderer)
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y0 >= 0, "legend clipped"
    assert "the scenario's own security end (day 15)" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_report_lead_reads_from_the_scenarios_own_end_and_draws_a_missing_figure(tmp_path: Path) -> None:
    curve = window_curve(_window_sweep(), "security.end", settings=4)
    lead = window_section(tmp_path, curve, None, own_end=16.0)
    assert lead["sentence"] == (
        "Secured until day 18 rather than day 16 (the scenario's own end), the median of the replications goes "
        "from 111 to 113 people evacuated (2 more)"
    )
    assert window_section(tmp_path, curve, None, own_end=18.0)["sentence"].startswith("Secured until day 18 rather than day 14,")
    assert lead["png"] and [r["evacuated_settings"] for r in lead["rows"]][1] == "98 – 124"  # 97.5 – 124.5, rounded half to even
    kabul = datetime(2021, 8, 14, tzinfo=timezone(timedelta(hours=4.5)))
    assert scenario_end({"security": {"end": "2021-08-31T00:00:00+04:30"}}, kabul) == 17.0
    assert scenario_end({"security": {"end": 2.5}}, kabul) == 2.5 and scenario_end({}, kabul) is None
