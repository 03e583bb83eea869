"""Per-operator hourly series: ``evacuated_cumulative.<operator>`` and ``departures_cumulative.<operator>``
beside the totals, in every replication's hours, the API frame, ``timeseries.csv`` and ``summary.json``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgba

import sim
from sim.outputs.files import write_run
from sim.outputs.run_figures import cumulative

SERIES = ("evacuated_cumulative", "departures_cumulative")
METRIC = {"evacuated_cumulative": "evacuated", "departures_cumulative": "departures"}


def _check_replication(rep: sim.ReplicationResult, operators: list[str]) -> None:
    for total in SERIES:
        columns = {op: np.asarray(rep.hourly[f"{total}.{op}"]) for op in operators}
        summed = np.sum(list(columns.values()), axis=0)
        assert np.array_equal(summed, rep.hourly[total]), f"{total}: operators do not add up to the total"
        for op, column in columns.items():
            assert column.dtype.kind == "i" and len(column) == len(rep.hourly["hours"])
            assert (np.diff(column) >= 0).all(), f"{total}.{op} decreases"
            assert column[-1] == rep.metrics[f"operator.{op}.{METRIC[total]}"]


@pytest.fixture(scope="module")
def two_runs() -> sim.RunResult:
    return sim.run(sim.load_scenario(Path(__file__).resolve().parent / "data" / "small.toml"), replications=2, seed=5)


def test_operator_columns_add_up_grow_and_end_at_the_metric(two_runs):
    operators = two_runs.scenario.operators
    assert len(operators) >= 2
    for rep in two_runs.replications:
        _check_replication(rep, operators)
    assert any(rep.hourly[f"evacuated_cumulative.{op}"][-1] > 0 for rep in two_runs.replications for op in operators)


def test_reference_scenario_operators_add_up():
    s = sim.load_scenario(None)
    rep = sim.run_replication(s, 3, 0)
    assert len(s.operators) > 2
    _check_replication(rep, s.operators)


def test_an_operator_without_aircraft_gets_zeros(small):
    empty = next(name for name, f in small.fleets.items() if f.operator == "germany")
    s = small.with_overrides({f"fleets.{empty}.count": 0})
    assert s.operators == small.operators  # the fleet, and so its operator, is still there
    rep = sim.run_replication(s, 2, 0)
    _check_replication(rep, s.operators)
    assert not rep.hourly["evacuated_cumulative.germany"].any() and not rep.hourly["departures_cumulative.germany"].any()
    assert rep.hourly["evacuated_cumulative"][-1] > 0


def test_frame_csv_and_summary_agree(two_runs, tmp_path):
    frame = two_runs.timeseries()
    columns = list(frame.columns)
    for total in SERIES:
        expected = [total, *(f"{total}.{op}" for op in two_runs.scenario.operators)]
        start = columns.index(total)
        assert columns[start : start + len(expected)] == expected, "operator columns sit beside their total"
    write_run(two_runs, tmp_path / "out", plots=False)
    written = pd.read_csv(tmp_path / "out" / "timeseries.csv")
    assert list(written.columns) == columns
    for op in two_runs.scenario.operators:
        for total in SERIES:
            assert np.array_equal(written[f"{total}.{op}"].to_numpy(), frame[f"{total}.{op}"].to_numpy())
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    for op in two_runs.scenario.operators:
        by_day = sum(day["by_operator"].get(op, 0.0) for day in summary["daily"])
        assert by_day == pytest.approx(summary["metrics"][f"operator.{op}.evacuated"]["mean"])


def test_cumulative_plot_draws_a_published_operator_figure_against_its_line(two_runs):
    data = two_runs.scenario.model_dump(mode="json", by_alias=True)
    data["reference"] = {"operator.us.evacuated": 1500}
    with_figure = sim.RunResult(sim.Scenario.model_validate(data), two_runs.seed, two_runs.replications)
    ax = cumulative(with_figure).axes[0]
    line = next(line for line in ax.get_lines() if line.get_label() == "model: us (mean)")
    expected = np.mean([rep.hourly["evacuated_cumulative.us"] for rep in two_runs.replications], axis=0)
    assert np.array_equal(np.asarray(line.get_ydata(), dtype=float), expected)
    diamond = next(c for c in ax.collections if isinstance(c, PathCollection) and c.get_label() == "published: us")
    assert np.asarray(diamond.get_offsets())[0][1] == 1500
    assert tuple(diamond.get_facecolor()[0]) == pytest.approx(to_rgba(line.get_color()))
    plain = cumulative(two_runs).axes[0]
    assert not [line for line in plain.get_lines() if "(mean)" in str(line.get_label())]
