"""The headline across the ensemble: the security-window curve's numbers and figure, and the
percentiles across plausible settings that ``compare --ensemble`` prints and writes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.cli.main import main
from sim.experiments.ensemble import Ensemble

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
    assert "across settings 5/50/95%: " + " / ".join(f"{x:,.0f}" for x in want) in line
