"""``airlift explain``: known answers on the small scenario (a relief of a resource that never binds
gains exactly nothing with common random numbers; the binding one gains with an interval above 0),
local days, the folder it writes, and bad input refused with exit 2 before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.analysis.relief import RESOURCES, Explanation, explain, local_days
from sim.cli.main import main
from sim.outputs.explain_figures import WHOLE


@pytest.fixture(scope="module")
def explained() -> Explanation:
    small = sim.load_scenario(Path(__file__).parent / "data" / "small.toml")
    # one lane a gate: screening binds, while the staging bases never fill
    return explain(small.with_overrides({"gates.abbey.lanes": 1, "gates.north.lanes": 1}), replications=4, fraction=0.5)


def test_every_resource_on_the_whole_window_and_each_day(explained: Explanation) -> None:
    totals = explained.totals()
    assert list(totals.columns) == ["resource", "day", "gain_mean", "ci95_low", "ci95_high", "replications"]
    days = [WHOLE, "2021-08-14", "2021-08-15"]
    assert list(zip(totals["resource"], totals["day"], strict=True)) == [(r, d) for r in RESOURCES for d in days]
    assert (totals["replications"] == 4).all()


def test_a_resource_that_never_binds_gains_exactly_nothing(explained: Explanation) -> None:
    staging = explained.table[explained.table["resource"] == "staging"]
    assert (staging[["gain_mean", "ci95_low", "ci95_high"]] == 0).all().all()


def test_the_binding_resource_gains_with_an_interval_above_zero(explained: Explanation) -> None:
    totals = explained.totals().set_index(["resource", "day"])
    lanes = totals.loc[("lanes", WHOLE)]
    assert lanes["ci95_low"] > 0
    best = explained.best_by_day().set_index("day")
    assert best.loc[WHOLE, "resource"] == "lanes"
    assert "screening lanes" in explained.sentences()[0]


def test_cohort_gains_add_up_to_the_total(explained: Explanation) -> None:
    cohorts = explained.by_cohort().groupby(["resource", "day"], sort=False)["gain_mean"].sum()
    totals = explained.totals().set_index(["resource", "day"])["gain_mean"]
    pd.testing.assert_series_equal(cohorts.sort_index(), totals.sort_index(), check_names=False)


def test_local_days_follow_the_scenario_clock(small: sim.Scenario) -> None:
    late = small.with_overrides({"start": "2021-08-14T18:00:00+04:30", "security.end": 1.5})
    days = local_days(late)
    assert [d.date for d in days] == ["2021-08-14", "2021-08-15", "2021-08-16"]
    assert [(d.start, d.end) for d in days] == [(0.0, 6.0), (6.0, 30.0), (30.0, 36.0)]


def test_the_command_writes_its_folder(small_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "explained"
    assert main(["explain", str(small_path), "-n", "2", "--relief", "0.25", "--out", str(out), "--report"]) == 0
    printed = capsys.readouterr().out
    assert "gains most" in printed and "whole window" in printed
    names = {p.name for p in out.iterdir()}
    assert {"explain.csv", "explain_cohorts.csv", "explain_heatmap.png", "explain.json"} <= names
    summary = json.loads((out / "explain.json").read_text())
    assert summary["fraction"] == 0.25 and summary["replications"] == 2
    assert set(summary["files"]) == names - {"explain.json", "report.html", ".lock"}
    table = pd.read_csv(out / "explain.csv")
    assert len(table) == len(RESOURCES) * 3
    page = (out / "report.html").read_text()
    assert "What limited the airlift, by relief" in page and "gains most" in page
    # a table changed after the run is refused by the report
    (out / "explain.csv").write_text(table.assign(gain_mean=0).to_csv(index=False))
    assert main(["report", str(out)]) == 2


def test_an_ensemble_spreads_the_replications_over_its_settings(small_path: Path, tmp_path: Path) -> None:
    ensemble = tmp_path / "ensemble.csv"
    ensemble.write_text("airfield.holding_capacity_people,gates.abbey.lanes\n700,1\n900,2\n")
    out = tmp_path / "explained"
    assert main(["explain", str(small_path), "-n", "2", "--ensemble", str(ensemble), "--out", str(out), "--no-plots"]) == 0
    summary = json.loads((out / "explain.json").read_text())
    assert summary["ensemble"] == str(ensemble)
    assert (pd.read_csv(out / "explain.csv")["replications"] == 2).all()


@pytest.mark.parametrize(
    "args",
    [
        ["--relief", "0"],
        ["--relief", "-0.5"],
        ["--relief", "many"],
        ["-n", "0"],
        ["--set", "gates.abbey.lanes=-1"],
        ["--ensemble", "no-such-file.csv"],
    ],
)
def test_bad_input_exits_2_before_anything_runs(small_path: Path, tmp_path: Path, args: list[str]) -> None:
    out = tmp_path / "never"
    assert main(["explain", str(small_path), "--out", str(out), *args]) == 2
    assert not out.exists()


def test_a_missing_scenario_exits_2(tmp_path: Path) -> None:
    assert main(["explain", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "never")]) == 2


def test_a_relief_keeps_the_disruption_values_of_each_plausible_setting(small: sim.Scenario) -> None:
    """A relief adds one disruption to the whole list; a setting that varies a disruption
    (``disruptions.0.end``) must still hold in the relieved runs, so that a relief outside the window
    gains exactly nobody in every replication (it gained hundreds when the list replaced the setting's value)."""
    from sim.analysis.relief import relief_overrides
    from sim.experiments.ensemble import Ensemble
    from sim.experiments.replications import merge_setting, run_batch

    ensemble = Ensemble(({"disruptions.0.end": 1.5}, {"disruptions.0.end": 1.9}), "two settings")
    after_the_end = relief_overrides(small, "lanes", 0.5, small.end_hours + 1, small.end_hours + 2)
    merged = merge_setting(ensemble.settings[0], after_the_end)
    assert list(merged) == ["disruptions", "disruptions.0.end"]
    base, relieved = run_batch(small, [({}, range(4)), (after_the_end, range(4))], 0, ensemble=ensemble)
    assert [r["evacuated_total"] - b["evacuated_total"] for b, r in zip(base, relieved, strict=True)] == [0.0] * 4
    assert merge_setting({"security.end": 2.0}, {"security.end": 1.5}) == {"security.end": 1.5}  # the request wins
