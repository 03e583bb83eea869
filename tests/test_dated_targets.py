"""Dated calibration targets: the kinds and their checks, the model output each reads from a
replication's hourly samples, one-sided implausibility, and the values a calibration wave's tasks
write beside the metrics."""

from __future__ import annotations

import math
from datetime import timedelta
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

import sim
from sim.analysis import history_matching as hm
from sim.analysis.calibration import _observations, check_targets
from sim.analysis.target_values import dated_values, sample_at, target_value
from sim.description.errors import ScenarioError
from sim.description.targets import Target
from sim.experiments.replications import ReplicationResult, run_replication
from sim.experiments.sweeps import SweepSpec, read_results, run_sweep

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "data" / "small.toml"

HOURLY = {
    "hours": np.array([0.0, 1.0, 2.0, 3.0]),
    "evacuated_cumulative": np.array([0, 10, 30, 60]),
    "evacuated_cumulative.us": np.array([0, 4, 4, 20]),
    "airfield_people": np.array([5, 7, 9, 2]),
}


def _target(**kw: object) -> Target:
    return Target.model_validate({"source": "constructed", **kw})


def test_a_dated_target_reads_the_sample_at_or_before_its_time() -> None:
    small = sim.load_scenario(str(SMALL))
    assert sample_at(HOURLY["hours"], HOURLY["airfield_people"], 2.99) == 9  # between samples: the one before
    assert sample_at(HOURLY["hours"], HOURLY["airfield_people"], 3.0) == 2  # on a sample: that one
    at_days = _target(series="airfield_people", at=1.5 / 24, value=7, sd=1)
    assert target_value(at_days, small, HOURLY) == 7
    at_datetime = _target(series="evacuated_cumulative.us", at=small.start + timedelta(hours=3), value=1, sd=1)
    assert target_value(at_datetime, small, HOURLY) == 20
    window = _target(series="evacuated_cumulative", **{"from": 0.5 / 24, "to": 2.5 / 24}, value=1, sd=1)
    assert target_value(window, small, HOURLY) == 30 - 0  # 30 at hour 2, 0 at hour 0
    result = ReplicationResult({"evacuated_total": 60.0}, (), HOURLY)
    targets = {"end": _target(value=60, sd=1), "people": at_days, "window": window}
    assert dated_values(targets, small, result) == {"people": 7.0, "window": 30.0}  # the end-of-run one is a metric


def test_one_sided_implausibility_is_zero_inside_and_standardized_outside() -> None:
    floor = _target(series="airfield_people", at=0.5, min=100, sd=3, discrepancy=4)
    ceiling = _target(value=None, max=50, source="y")
    point = _target(value=10, sd=2, discrepancy=1)
    assert floor.variance == 9 + 16 and ceiling.variance == 0 and point.variance == 4 + 1
    obs = _observations({"floor": floor, "ceiling": ceiling, "point": point}, discrepancy=0.0)  # no default discrepancy
    mean = np.array([[120.0, 40.0, 10.0], [90.0, 56.0, 13.0]])
    v_em = np.array([[0.0, 0.0, 0.0], [11.0, 0.0, 3.0]])
    v_stoch = np.array([0.0, 4.0, 1.0])
    imp = hm.implausibility(mean, v_em, obs, v_stoch)
    assert imp[0].tolist() == [0.0, 0.0, 0.0]  # inside both bounds, on the point
    assert imp[1, 0] == pytest.approx(10 / math.sqrt(25 + 0 + 11))  # 10 below the floor
    assert imp[1, 1] == pytest.approx(6 / math.sqrt(0 + 4 + 0))  # 6 above the ceiling
    assert imp[1, 2] == pytest.approx(3 / math.sqrt(5 + 1 + 3))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"min": 5, "max": 5}, "min must be below max"),
        ({"value": 5, "sd": 0}, "greater than or equal"),
        ({"value": 5, "sd": 1, "min": 2}, "give one of"),
        ({"value": 5, "sd": 1, "discrepancy": -1}, "greater than or equal"),
        ({"value": math.inf, "sd": 1}, "finite"),
        ({"series": "airfield_people", "from": 0.1, "to": 0.2, "min": 1}, "cumulative series"),
        ({"series": "airfield_people", "at": 0.1, "from": 0.1, "to": 0.2, "min": 1}, "either at, or from and to"),
        ({"series": "evacuated_cumulative", "from": 0.1, "min": 1}, "both from and to"),
        ({"at": 0.1, "min": 1}, "name it"),
    ],
)
def test_a_target_that_is_not_one_kind_is_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _target(**fields)


def test_a_dated_target_must_name_a_series_and_times_of_the_scenario(tmp_path: Path) -> None:
    text = SMALL.read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    targets = (
        "[targets]\n"
        'a = { series = "evacuated_cumulative.nobody", at = 0.5, min = 1, source = "x" }\n'
        'b = { series = "evacuated_cumulative", at = 2021-08-20T00:00:00+04:30, min = 1, source = "x" }\n'
        'c = { series = "departures_cumulative.us", from = 1.0, to = 0.5, min = 1, source = "x" }\n'
    )
    bad.write_text(text + "\n" + targets, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(str(bad))
    said = str(err.value)
    assert "targets.a.series: unknown series" in said and "evacuated_cumulative.us" in said
    assert "targets.b.at" not in said and "targets.c.to: must be after from" in said  # after the end: the last sample
    small = sim.load_scenario(str(SMALL))
    check_targets({"x": _target(series="departures_cumulative.us", **{"from": 0.5, "to": 1.5}, min=1)}, small, "t")
    with pytest.raises(ScenarioError, match=r"targets.y.at: before the start"):
        check_targets({"y": _target(series="airfield_people", at=-0.5, min=1)}, small, "t")
    with pytest.raises(ScenarioError, match=r"targets.z.to: after security.end"):  # a calibration reads inside the window
        check_targets({"z": _target(series="evacuated_cumulative", **{"from": 0.5, "to": 2.5}, min=1)}, small, "t")


def test_a_wave_task_writes_the_dated_values_beside_the_metrics(tmp_path: Path) -> None:
    small = sim.load_scenario(str(SMALL))
    targets = {
        "by_noon": _target(series="evacuated_cumulative.us", at=0.5, min=1),
        "day_two": _target(series="departures_cumulative", **{"from": 1.0, "to": 2.0}, value=10, sd=1),
    }
    spec = SweepSpec(None, {"gates.abbey.lanes": [3]}, 2, 7, base=small, outputs=partial(dated_values, targets))
    run_sweep(spec, tmp_path / "wave").raise_failures()
    table = read_results(tmp_path / "wave")
    for r in (0, 1):
        alone = run_replication(small.with_overrides({"gates.abbey.lanes": 3}), 7, r)
        row = table[table["replication"] == r].iloc[0]
        assert row["evacuated_total"] == alone.metrics["evacuated_total"]  # the metrics as before
        for name, value in dated_values(targets, small, alone).items():
            assert row[name] == value
    assert table["by_noon"].max() > 0


def test_a_calibration_matches_dated_and_one_sided_targets(tmp_path: Path) -> None:
    from sim.cli.main import main
    from sim.outputs.files import read_json

    targets = tmp_path / "t.toml"
    targets.write_text(
        "[targets]\n"
        'evacuated_total = { value = 1900, sd = 100, source = "x" }\n'
        'noon = { series = "evacuated_cumulative.us", at = 2021-08-15T12:00:00+04:30, min = 300, sd = 30, source = "x" }\n'
        'window = { series = "departures_cumulative", from = 0.5, to = 1.5, max = 40, source = "x" }\n',
        encoding="utf-8",
    )
    out = tmp_path / "cal"
    args = ["calibrate", str(SMALL), "--targets", str(targets), "--vary", "fleets.us_c17.count=1:8"]
    assert main([*args, "--budget", "32", "--waves", "2", "--out", str(out)]) in (0, 1)
    plan = read_json(out / "calibration_plan.json")
    assert plan["targets"]["window"] == {"max": 40.0, "series": "departures_cumulative", "from": 0.5, "to": 1.5, "source": "x"}
    runs = read_results(out / "wave_0")
    assert {"noon", "window", "evacuated_total"} <= set(runs.columns)
    diagnostics = read_json(out / "calibration.json")["diagnostics"]["targets"]
    assert diagnostics["noon"]["min"] == 300 and diagnostics["window"]["max"] == 40
    assert diagnostics["window"]["sd"] == pytest.approx(0.05 * 40)  # no sd: the default discrepancy, 5% of the bound
    assert (out / "targets.png").exists()
