"""Reproducibility, common random numbers and the experiment layer."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import sim
from sim.experiment import run_replication
from sim.results import write_run
from sim.stats import mean_ci, t975


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
    here = run_replication(sim.load_scenario(small_path), 5, 2)["metrics"]
    code = (
        "import json, sys, sim\n"
        "from sim.experiment import run_replication\n"
        f"m = run_replication(sim.load_scenario({str(small_path)!r}), 5, 2)['metrics']\n"
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
    alone = run_replication(small, 3, 4)["metrics"]
    batch = sim.run(small, replications=5, seed=3)
    assert batch.replications[4]["metrics"] == alone


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
    d = c.differences(["evacuated_total"])["evacuated_total"]
    va = c.a.metrics["evacuated_total"]["values"]
    vb = c.b.metrics["evacuated_total"]["values"]
    assert d["values"] == [b - a for a, b in zip(va, vb)]
    assert d["ci95_low"] <= d["difference_mean"] <= d["ci95_high"]
    # comparing a scenario with itself gives exactly zero differences (common random numbers)
    same = sim.compare(small, small, replications=3, seed=2).differences(["stranded_total"])["stranded_total"]
    assert same["values"] == [0, 0, 0]


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
    assert t975(1) == pytest.approx(12.706)
    assert t975(1000) == pytest.approx(1.9623, abs=1e-3)
    m, lo, hi = mean_ci([1.0, 2.0, 3.0])
    assert m == 2.0 and hi - m == pytest.approx(4.303 * 1 / 3**0.5, rel=1e-4)
