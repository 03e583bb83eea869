"""Reproducibility, common random numbers and the experiment layer."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import sim
from sim.description.metric_catalog import LIMIT_CAUSES
from sim.experiments.replications import run_replication
from sim.outputs.files import write_run
from sim.statistics import mean_ci, t975


def test_same_seed_gives_identical_summary_json(small, tmp_path):
    a = sim.run(small, replications=3, seed=11)
    b = sim.run(small, replications=3, seed=11)
    write_run(a, tmp_path / "a", plots=False)
    write_run(b, tmp_path / "b", plots=False)
    assert (tmp_path / "a" / "summary.json").read_bytes() == (tmp_path / "b" / "summary.json").read_bytes()
    assert (tmp_path / "a" / "timeseries.csv").read_bytes() == (tmp_path / "b" / "timeseries.csv").read_bytes()
    c = sim.run(small, replications=3, seed=12)
    assert c.metrics["evacuated_total"]["values"] != a.metrics["evacuated_total"]["values"]


def test_same_seed_same_result_in_another_process(small_path):
    here = run_replication(sim.load_scenario(small_path), 5, 2).metrics
    code = (
        "import json, sys, sim\n"
        "from sim.experiments.replications import run_replication\n"
        f"m = run_replication(sim.load_scenario({str(small_path)!r}), 5, 2).metrics\n"
        "json.dump(m, sys.stdout)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
    )
    assert json.loads(out.stdout) == json.loads(json.dumps(here))


def test_replications_use_their_own_streams(small):
    """Replication r is the same whether run alone or after others (no shared state)."""
    alone = run_replication(small, 3, 4).metrics
    batch = sim.run(small, replications=5, seed=3)
    assert batch.replications[4].metrics == alone


def test_summary_carries_scenario_seed_version(small):
    s = sim.run(small, replications=2, seed=9).summary()
    assert s["seed"] == 9 and s["replications"] == 2 and s["version"] == sim.__version__
    assert sim.Scenario.model_validate(s["scenario"]) == small
    for name in (
        "population_total",
        "evacuated_total",
        "stranded_total",
        "stranded_never_arrived",
        "stranded_at_gates",
        "stranded_airfield",
        "departures_total",
        "peak_day_evacuated",
        "mean_load_factor",
        "gate_wait_mean_hours",
        "gate_wait_p95_hours",
    ):
        m = s["metrics"][name]
        assert set(m) == {"mean", "ci95_low", "ci95_high", "values"} and len(m["values"]) == 2
    assert {d["date"] for d in s["daily"]} == {"2021-08-14", "2021-08-15"}
    assert set(s["by_cohort"]) == set(small.cohorts)


@pytest.mark.slow
def test_longer_security_window_never_strands_more(small):
    """With common random numbers, each extra half day of security lowers mean stranded."""
    means = []
    for end in (1.0, 1.5, 2.0, 2.5, 3.0):
        r = sim.run(small.with_overrides({"security.end": end}), replications=8, seed=21)
        means.append(r.mean("stranded_total"))
    assert all(b <= a for a, b in zip(means, means[1:])), means


@pytest.mark.slow
def test_reference_longer_window_never_strands_more():
    s = sim.load_scenario()
    means = [sim.run(s.with_overrides({"security.end": e}), replications=3, seed=5).mean("stranded_total") for e in (15, 17, 19)]
    assert means[0] >= means[1] >= means[2], means


def test_compare_is_paired(small):
    more = small.with_overrides({"gates.abbey.lanes": 6})
    c = sim.compare(small, more, replications=6, seed=2)
    d = c.differences(["evacuated_total"]).loc["evacuated_total"]
    va = c.a.metrics["evacuated_total"]["values"]
    vb = c.b.metrics["evacuated_total"]["values"]
    assert c.paired_values("evacuated_total") == [b - a for a, b in zip(va, vb)]
    assert d["difference_mean"] == pytest.approx(np.mean(vb) - np.mean(va))
    assert d["ci95_low"] <= d["difference_mean"] <= d["ci95_high"]
    # comparing a scenario with itself gives exactly zero differences (common random numbers)
    same = sim.compare(small, small, replications=3, seed=2)
    assert same.paired_values("stranded_total") == [0, 0, 0]
    assert same.differences(["stranded_total"]).loc["stranded_total", "se_paired"] == 0


def test_precision_adds_replications_until_reached(small):
    r = sim.run(small, replications=2, seed=1, precision=0.02, max_replications=40)
    p = r.precision
    assert p["replications_needed"] == len(r.replications) >= 2
    st = r.metrics["stranded_total"]
    half = (st["ci95_high"] - st["ci95_low"]) / 2
    if p["reached"]:
        assert half <= 0.02 * st["mean"]
    else:
        assert len(r.replications) == 40


def test_mean_ci_student_t():
    assert t975(1) == pytest.approx(12.706, abs=1e-3)
    assert t975(1000) == pytest.approx(1.9623, abs=1e-3)
    m, lo, hi = mean_ci([1.0, 2.0, 3.0])
    assert m == 2.0 and hi - m == pytest.approx(4.303 * 1 / 3**0.5, rel=1e-3)


def test_one_value_has_no_interval():
    """One replication says nothing about the spread: the interval is unavailable, not zero-width."""
    m, lo, hi = mean_ci([5.0])
    assert m == 5.0 and math.isnan(lo) and math.isnan(hi)


def test_one_replication_reports_intervals_as_unavailable(small, tmp_path):
    r = sim.run(small, replications=1, seed=3)
    st = r.metrics["stranded_total"]
    assert math.isnan(st["ci95_low"]) and math.isnan(st["ci95_high"])
    write_run(r, tmp_path, plots=False)
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data["metrics"]["stranded_total"]["ci95_low"] is None and data["metrics"]["stranded_total"]["ci95_high"] is None
    assert "one replication" in data["intervals"]
    c = sim.compare(small, small.with_overrides({"gates.abbey.lanes": 6}), replications=1, seed=3).summary()
    assert c["differences"]["evacuated_total"]["ci95_low"] != c["differences"]["evacuated_total"]["ci95_low"]  # NaN
    assert "one replication" in c["intervals"]


# -- tidy, typed results ---------------------------------------------------------------------------


def test_timeseries_time_is_timezone_aware_local_time(small):
    r = sim.run(small, replications=2, seed=4)
    ts = r.timeseries()
    assert isinstance(ts["time"].dtype, pd.DatetimeTZDtype)
    assert ts["time"].iloc[0] == pd.Timestamp(small.start)
    assert ts["time"].iloc[0].utcoffset() == small.start.utcoffset()
    assert (ts["time"] - pd.Timestamp(small.start) == pd.to_timedelta(ts["hours"], unit="h")).all()


def test_daily_and_limits_by_day_have_a_date_index(small):
    r = sim.run(small, replications=3, seed=4)
    for frame in (r.daily(), r.limits_by_day()):
        assert isinstance(frame.index, pd.DatetimeIndex) and frame.index.name == "date"
        assert frame.index.tz is not None and frame.index[0].utcoffset() == small.start.utcoffset()
        assert [d.date().isoformat() for d in frame.index] == ["2021-08-14", "2021-08-15"]
        assert (frame.index == frame.index.normalize()).all()  # local midnights
    daily = r.daily()
    per_rep = [[d.evacuated for d in rep.daily] for rep in r.replications]
    assert daily["evacuated"].tolist() == pytest.approx(np.mean(per_rep, axis=0).tolist())
    lo, hi = daily["evacuated_ci95_low"], daily["evacuated_ci95_high"]
    assert (lo <= daily["evacuated"]).all() and (daily["evacuated"] <= hi).all()
    ops = [c for c in daily.columns if c.startswith("operator.")]
    assert daily[ops].sum(axis=1).tolist() == pytest.approx(daily["evacuated"].tolist())
    assert [d["date"] for d in r.summary()["daily"]] == ["2021-08-14", "2021-08-15"]


def test_metrics_frame_is_long_form(small):
    r = sim.run(small, replications=2, seed=4)
    mf = r.metrics_frame()
    assert list(mf.columns) == ["replication", "metric", "value"]
    assert len(mf) == 2 * len(r.metrics)
    wide = mf.pivot(index="replication", columns="metric", values="value")
    assert wide["evacuated_total"].tolist() == r.metrics["evacuated_total"]["values"]


def test_compare_differences_frame_reports_what_pairing_removed(small):
    c = sim.compare(small, small.with_overrides({"gates.abbey.lanes": 6}), replications=6, seed=2)
    d = c.differences()
    assert d.index.name == "metric" and "evacuated_total" in d.index
    assert {
        "a_mean",
        "b_mean",
        "difference_mean",
        "ci95_low",
        "ci95_high",
        "se_paired",
        "se_unpaired",
        "variance_reduction",
    } <= set(d.columns)
    row = d.loc["evacuated_total"]
    a, b = c.a.metrics["evacuated_total"]["values"], c.b.metrics["evacuated_total"]["values"]
    assert row["se_unpaired"] == pytest.approx(math.sqrt(np.var(a, ddof=1) / 6 + np.var(b, ddof=1) / 6))
    assert row["se_paired"] == pytest.approx(np.std(np.subtract(b, a), ddof=1) / math.sqrt(6))
    assert row["variance_reduction"] == pytest.approx(1 - (row["se_paired"] / row["se_unpaired"]) ** 2)
    # common random numbers make the replications of A and B move together: pairing removes variance
    assert row["se_paired"] < row["se_unpaired"]


def test_binding_constraint_is_the_tallest_bar_of_its_day(small):
    """The label over each day's bars names the cause with the most waiting hours that day."""
    for variant in (small, small.with_overrides({"ramp.spots.heavy": 1})):
        limits = sim.run(variant, replications=2, seed=1).limits_by_day()
        causes = list(LIMIT_CAUSES)
        assert set(causes) <= set(limits.columns)
        for day, row in limits.iterrows():
            hours = row[causes].astype(float)
            expected = hours.idxmax() if hours.max() >= sim.experiments.replications.BINDING_MIN_HOURS else "none"
            assert row["binding"] == expected, (day, row.to_dict())


def test_executor_may_be_a_dask_client(small):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        with distributed.Client(cluster) as client:
            on_dask = sim.run(small, replications=2, seed=6, executor=client)
            cmp = sim.compare(small, small, replications=2, seed=6, executor=client)
            table = sim.sweep(small, {"security.end": [1.5, 2.0]}, replications=2, seed=6, executor=client)
    serial = sim.run(small, replications=2, seed=6)
    assert on_dask.summary() == serial.summary()
    assert cmp.paired_values("evacuated_total") == [0, 0]
    pd.testing.assert_frame_equal(table, sim.sweep(small, {"security.end": [1.5, 2.0]}, replications=2, seed=6))


def test_limits_figure_draws_every_cause_it_may_name(small):
    """The binding label names a cause; the figure under it draws a bar segment for each cause."""
    from sim.outputs.run_figures import limits_by_day

    r = sim.run(small, replications=1, seed=1)
    fig = limits_by_day(r)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(labels) >= len(LIMIT_CAUSES)
    assert any("crew" in label for label in labels)
