"""The capacity curve: marginal gains with paired intervals, where it flattens, and a single
slope only where a straight line fits. Synthetic sweep tables with known shapes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.capacity import capacity_curve


def table(xs: list[float], f, replications: int = 8, noise: float = 50.0, seed: int = 0) -> pd.DataFrame:
    """A sweep table: replication r shares its noise across points (common random numbers)."""
    gen = np.random.Generator(np.random.PCG64(seed))
    rows = []
    for r in range(replications):
        shift = gen.normal(0, 1000)  # a replication effect, cancelled by pairing
        for i, x in enumerate(xs):
            rows.append({"point": i, "k": x, "replication": r, "evacuated_total": f(x) + shift + gen.normal(0, noise)})
    return pd.DataFrame(rows)


def test_a_bending_curve_reports_gains_and_where_it_flattens_not_one_slope():
    """Gains 14,500 a day early and nothing late: the curve flattens, no single slope."""
    xs = [14, 16, 18, 20, 22, 24]
    curve = capacity_curve(table(xs, lambda x: 14_500 * min(x, 20)), "k")
    assert curve is not None
    g = curve.gains
    assert list(g["from"]) == xs[:-1] and list(g["to"]) == xs[1:]
    assert g["per_unit"].iloc[0] == pytest.approx(14_500, rel=0.02)
    assert (g["per_unit_ci95_low"] <= 14_500).iloc[:3].all() and (g["per_unit_ci95_high"] >= 14_500).iloc[:3].all()
    assert list(g["distinguishable"]) == [True, True, True, False, False]
    assert curve.flattens_at == 20
    assert curve.linear is False and curve.slope is None
    text = "\n".join(curve.describe())
    assert "flattens at 20" in text and "no single slope" in text


def test_a_straight_curve_keeps_its_slope():
    curve = capacity_curve(table([1, 2, 3, 4, 5], lambda x: 400 * x, noise=30), "k")
    assert curve is not None and curve.linear is True and curve.flattens_at is None
    assert curve.slope_ci95_low <= 400 <= curve.slope_ci95_high
    assert all(curve.gains["fits_line"])
    assert "a straight line fits" in "\n".join(curve.describe())


def test_identical_results_are_flat_throughout():
    """14, 21 and 28 spots giving identical results: every gain is exactly zero."""
    df = table([14, 21, 28], lambda x: 1000.0, noise=0.0)
    curve = capacity_curve(df, "k")
    assert curve is not None
    assert list(curve.gains["gain"]) == [0.0, 0.0] and curve.flattens_at == 14
    assert not curve.gains["distinguishable"].any()


def test_one_replication_has_no_intervals_and_no_verdict():
    curve = capacity_curve(table([1, 2, 3], lambda x: 100 * x, replications=1), "k")
    assert curve is not None and curve.replications == 1
    assert math.isnan(curve.gains["gain_ci95_low"].iloc[0])
    assert curve.flattens_at is None and curve.linear is None
    assert "no intervals" in "\n".join(curve.describe())


def test_fewer_than_two_points_is_no_curve():
    assert capacity_curve(table([3], lambda x: x), "k") is None
    assert capacity_curve(table([1, 2], lambda x: x), "missing") is None


def test_the_curve_is_public_api_and_draws():
    curve = sim.capacity_curve(table([1, 2, 3], lambda x: 100 * x), "k")
    assert isinstance(curve, sim.CapacityCurve)
    fig = curve.figure()
    assert len(fig.axes) == 2
    assert curve.summary()["gains"][0]["from"] == 1


def test_sweep_prints_the_marginal_gains(small_path, tmp_path, capsys):
    from sim.cli.main import main

    out = tmp_path / "sw"
    assert main(["sweep", str(small_path), "--vary", "security.end=1,1.5,2", "-n", "3", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "1 -> 1.5:" in text and "1.5 -> 2:" in text and "95% CI" in text
    assert (out / "capacity_curve_security.end.png").exists()
    saved = sim.capacity_curve(pd.read_csv(out / "results.csv"), "security.end")
    assert saved is not None and saved.replications == 3
