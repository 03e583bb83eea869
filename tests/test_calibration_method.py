"""The pieces of the calibration method against known answers: emulator validation (leave-one-out
in closed form, a wrong emulator flagged), the cut on the k-th largest implausibility, Morris
screening of active inputs, the budget's shares, ``--until``, and warnings of an ensemble piled at
a prior limit; then, by simulation, that the ensemble covers the truth as often as it says."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.analysis import history_matching as hm
from sim.analysis.calibration import _observations, calibrate, next_round, plan_budget, targets_until
from sim.analysis.calibration_screening import screen, screening_design
from sim.analysis.calibration_summary import prior_limit_warnings
from sim.cli.main import main
from sim.description.errors import ScenarioError
from sim.description.targets import Target
from sim.description.uncertainty import Parameter, parameters, parse_ranges, to_points

ROOT = Path(__file__).resolve().parent.parent
SMALL = str(ROOT / "tests" / "data" / "small.toml")


def _smooth(u: np.ndarray) -> np.ndarray:
    return np.sin(3 * u[:, 0]) + u[:, 1] ** 2


def _fitted(n: int = 40, seed: int = 1) -> tuple[hm.Emulator, np.ndarray]:
    u = np.random.default_rng(seed).random((n, 2))
    return hm.fit_emulators(u, _smooth(u)[:, None], np.array([1e-6]), ["f"], seed, [(0, 1)])[0], u


def test_leave_one_out_errors_are_those_of_a_refit_without_the_point() -> None:
    em, u = _fitted(25)
    z = hm.loo_errors(em)
    gp = em.gp
    y = gp.y_train_  # type: ignore[attr-defined]
    for i in (0, 7, 24):  # the same kernel (hyperparameters fixed), conditioned on the other 24 points
        from sklearn.gaussian_process import GaussianProcessRegressor

        keep = np.arange(len(u)) != i
        refit = GaussianProcessRegressor(gp.kernel_, alpha=gp.alpha, optimizer=None).fit(u[keep], y[keep])  # type: ignore[attr-defined]
        mean, sd = refit.predict(u[i : i + 1], return_std=True)
        sd_noisy = np.sqrt(sd[0] ** 2 + gp.alpha)  # type: ignore[attr-defined]
        assert z[i] == pytest.approx((y[i] - mean[0]) / sd_noisy, rel=1e-4, abs=1e-6)


def test_a_sound_emulator_passes_and_a_wrong_one_is_flagged() -> None:
    em, _ = _fitted(40)
    assert hm.validation(hm.loo_errors(em))["passed"]
    test = np.random.default_rng(9).random((60, 2))
    right = hm.validation(hm.heldout_errors(em, test, _smooth(test), 1e-6))
    wrong = hm.validation(hm.heldout_errors(em, test, _smooth(test) + 0.5 * test[:, 0], 1e-6))  # another function
    assert right["passed"] and right["share_beyond_3"] <= 0.1
    assert not wrong["passed"] and wrong["share_beyond_3"] > 0.1
    assert hm.validation(np.array([0.0, 4.0, 0.0, 0.0, 0.0]))["share_beyond_3"] == pytest.approx(0.2)
    assert not hm.validation(np.array([0.0, 4.0, 0.0, 0.0, 0.0]))["passed"]
    assert hm.validation(np.array([4.0, 4.0]))["passed"]  # too few points to judge


class _Fixed(hm.Emulator):
    """An emulator that predicts given values with no variance (for the cut's known answers)."""

    def __init__(self, values: list[float]) -> None:
        super().__init__("fixed", None, 0.0, 1.0)
        self.values = np.array(values)

    def predict(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = u[:, 0].astype(int)
        return self.values[rows], np.zeros(len(rows))


def test_early_waves_cut_on_the_second_largest_implausibility_the_last_on_the_largest() -> None:
    imp = np.array([[5.0, 1.0, 0.5, 0.2], [5.0, 4.0, 0.1, 0.1], [1.0, 2.0, 2.9, 0.0]])
    assert hm.kth_largest(imp, 1).tolist() == [5.0, 5.0, 2.9]
    assert hm.kth_largest(imp, 2).tolist() == [1.0, 4.0, 2.0]
    assert hm.cut_rank(2, 4) == 2 and hm.cut_rank(2, 3) == 1 and hm.cut_rank(3, 6) == 3
    obs = [hm.Observation(f"t{j}", 0.0, 1.0) for j in range(4)]
    ems = [_Fixed(list(imp[:, j])) for j in range(4)]  # implausibility = the prediction (observed 0, variance 1)
    u = np.arange(3, dtype=float)[:, None]
    zero = np.zeros(4)
    assert hm.not_implausible(u, ems, obs, zero, 2).tolist() == [True, False, True]  # row 1 misses two targets
    assert hm.not_implausible(u, ems, obs, zero, 1).tolist() == [False, False, True]
    failed: list[hm.Emulator | None] = [None, *ems[1:]]  # a failed emulator does not cut
    assert hm.not_implausible(u, failed, obs, zero, 1).tolist() == [True, False, True]


def test_screening_finds_the_inputs_a_target_depends_on() -> None:
    params = [Parameter(f"x{i}", 0.0, 1.0) for i in range(6)]
    d = screening_design(params, 6, seed=0)
    u = d.unit
    y = np.column_stack([100 * u[:, 0] + 30 * u[:, 3] + 0.01 * u[:, 1], 50 * u[:, 4] ** 2])
    obs = [hm.Observation("a", 50.0, 10.0**2), hm.Observation("b", 10.0, 5.0**2)]
    s = screen(d, y, obs, np.array([1.0, 1.0]), 2, most_active=10)
    assert s.active_by_target == [(0, 3), (4,)] and s.active == (0, 3, 4)
    capped = screen(d, y, obs, np.array([1.0, 1.0]), 2, most_active=2)  # the budget affords two: the largest effects
    assert capped.active == (0, 4) and capped.capped == (3,)
    noisy = screen(d, y, obs, np.array([40.0**2, 1.0]), 2, most_active=10)  # x3's effect is within the noise of "a"
    assert 3 not in noisy.active_by_target[0] and 0 in noisy.active_by_target[0]


def test_the_budget_is_shared_between_screening_waves_and_the_final_sample() -> None:
    b = plan_budget(6000, 2, 93, 4, 200)
    assert (b.trajectories, b.screening_points, b.ensemble_size, b.points) == (4, 376, 200, 3000)
    final = (3000 - 376) // 4  # a quarter of what the screening leaves, for the final sample's rounds
    assert b.wave_points == 3000 - 376 - final
    assert b.describe(2)["final_sample_runs"] == 2 * final and b.describe(2)["final_sample_first_round_runs"] == 400
    waves = 3000 - 376 - final
    assert b.first_wave(80) == 800 and b.later_wave(800) == (waves - 800) // 3  # 10 points per active input
    assert b.first_wave(2) == waves // 4  # else an equal share
    assert b.first_wave(500) == waves - 3 * 4  # at most what leaves 4 points for each later wave
    small = plan_budget(96, 2, 93, 3, 200)
    assert small.trajectories == 0 and small.ensemble_size == 16  # too few runs to screen 93 inputs
    assert small.wave_points == 48 - 16  # the first round is more than a quarter of the rest: no more is kept


def test_the_final_sample_runs_more_rounds_only_while_settings_are_wanted_and_points_left() -> None:
    assert next_round(200, 200, 50, 200, 5000) == 0  # enough passed
    assert next_round(200, 6, 6, 200, 49) == 0  # fewer points left than a quarter round
    # 194 wanted at the last round's share (7/202): 1.2 * 194 / (7/202) = 6718, capped at 4 rounds' worth
    assert next_round(200, 6, 6, 200, 10_000) == 800
    assert next_round(200, 6, 6, 200, 300) == 300  # within the points left
    assert next_round(200, 150, 100, 200, 5000) == math.ceil(1.2 * 50 / (101 / 202))  # 120
    assert next_round(200, 199, 199, 200, 5000) == 50  # at least a quarter round
    with pytest.raises(ScenarioError, match="--budget"):
        plan_budget(20, 2, 3, 3, 200)


def test_until_keeps_the_targets_dated_at_or_before_it() -> None:
    small = sim.load_scenario(SMALL)
    targets = {
        "evacuated_total": Target(value=1, sd=1, source="x"),  # dated at security.end (2 days)
        "noon": Target(series="airfield_people", at=0.5, value=1, sd=1, source="x"),
        "window": Target.model_validate(
            {"series": "departures_cumulative", "from": 0.25, "to": 1.5, "value": 1, "sd": 1, "source": "x"}
        ),
    }
    assert set(targets_until(targets, small, None)) == set(targets)
    assert set(targets_until(targets, small, 1.0)) == {"noon"}
    assert set(targets_until(targets, small, 1.5)) == {"noon", "window"}  # a window is dated at its end
    assert set(targets_until(targets, small, "2021-08-15T12:00:00+04:30")) == {"noon", "window"}
    assert set(targets_until(targets, small, 2.0)) == set(targets)
    with pytest.raises(ScenarioError, match="--until"):
        targets_until(targets, small, 0.25)


def test_until_is_recorded_and_the_default_discrepancy_applies(tmp_path: Path) -> None:
    targets = tmp_path / "t.toml"
    targets.write_text(
        "[targets]\n"
        'evacuated_total = { value = 1900, sd = 100, source = "x" }\n'
        'noon = { series = "evacuated_cumulative", at = 1.0, value = 900, sd = 90, discrepancy = 40, source = "x" }\n',
        encoding="utf-8",
    )
    out = tmp_path / "cal"
    argv = ["calibrate", SMALL, "--targets", str(targets), "--vary", "fleets.us_c17.count=1:8", "--until", "1.5"]
    assert main([*argv, "--budget", "40", "--waves", "2", "--out", str(out)]) in (0, 1)
    report = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    assert report["until"] == "1.5" and list(report["targets"]) == ["noon"]
    assert "--until 1.5" in report["command"]
    assert report["diagnostics"]["targets"]["noon"]["sd"] == pytest.approx(np.hypot(90, 40))  # its own discrepancy
    obs = _observations({"a": Target(value=200, sd=3, source="x")})
    assert obs[0].variance == pytest.approx(9 + (0.05 * 200) ** 2)  # none given: 5% of the figure


def test_an_ensemble_piled_at_a_prior_limit_is_warned_about() -> None:
    p = [Parameter("a", 0.0, 10.0), Parameter("n", 1, 8, integer=True)]
    spread = [{"a": float(v), "n": 1 + i % 8} for i, v in enumerate(np.linspace(0.2, 9.8, 40))]
    assert prior_limit_warnings(p, spread) == []
    piled = [{"a": 9.9 if i % 2 else 5.0, "n": 1 if i % 3 else 5} for i in range(40)]
    warnings = prior_limit_warnings(p, piled)
    assert len(warnings) == 2 and warnings[0].startswith("a: 50% of the ensemble at its high prior limit (10")
    assert warnings[1].startswith("n: 65% of the ensemble at its low prior limit (1")


COVERAGE_VARY = ["fleets.us_c17.count=1:8", "gates.abbey.lanes=1:8", "bases.tashkent.initial_people=0:200"]
COVERAGE_METRICS = ["evacuated_total", "operator.us.departures", "operator.germany.evacuated"]


@pytest.mark.slow
def test_the_ensemble_covers_truths_drawn_from_the_prior(tmp_path: Path) -> None:
    """20 truths from the prior; targets: one run at the truth (sd 1%, and the default discrepancy).
    The truth lies inside the ensemble's central 90% range (5th to 95th percentile) in about 90%
    of the cases or more (history matching keeps what cannot be ruled out). Measured: see docs."""
    small = sim.load_scenario(SMALL)
    params = parameters(small, parse_ranges(COVERAGE_VARY))
    truths = to_points(params, np.random.default_rng(2024).random((20, len(params))))
    inside = np.zeros((len(truths), len(params)), dtype=bool)
    for i, truth in enumerate(truths):
        one = sim.run_replication(small.with_overrides(truth), 1000 + i, 0).metrics
        targets = {
            m: Target(value=float(one[m]), sd=max(0.01 * abs(float(one[m])), 1.0), source="planted") for m in COVERAGE_METRICS
        }
        c = calibrate(small, targets, params, tmp_path / f"t{i}", budget=200, replications=2, seed=i, waves=2, ensemble_size=60)
        assert c.consistent, truth
        for j, p in enumerate(params):
            lo, hi = np.quantile([e[p.name] for e in c.ensemble], [0.05, 0.95])
            inside[i, j] = lo <= truth[p.name] <= hi
    coverage = float(inside.mean())
    print(f"coverage of the central 90% range: {coverage:.1%} ({inside.sum()} of {inside.size})")
    assert coverage >= 0.8  # 90% less two binomial sds of 60 cases (with integer ties, often more)


def test_emulators_fitted_on_a_process_pool_are_those_fitted_serially() -> None:
    from sim.experiments.executors import make_executor

    rng = np.random.default_rng(0)
    u = rng.random((60, 4))
    y = np.column_stack([np.sin(3 * u[:, 0]), u[:, 1] ** 2, u[:, 2] + u[:, 3]])
    active = [(0, 1), (1, 2), (2, 3)]
    serial = hm.fit_emulators(u, y, np.full(3, 1e-4), ["a", "b", "c"], 3, active)
    with make_executor(2) as pool:
        pooled = hm.fit_emulators(u, y, np.full(3, 1e-4), ["a", "b", "c"], 3, active, pool)
    test = rng.random((20, 4))
    for one, other in zip(serial, pooled, strict=True):
        assert one.active == other.active and np.array_equal(one.predict(test)[0], other.predict(test)[0]), one.name


def test_random_walks_draw_uniformly_from_a_small_region() -> None:
    """A disc of radius 0.1 (3% of the square, a hundredth of a cube with a third free input):
    2,000 walks from its centre end inside it, spread as a uniform draw (mean squared distance
    r^2 / 2), with the input no emulator reads uniform over 0..1."""
    centre, r = np.array([0.3, 0.7]), 0.1

    def inside(u: np.ndarray) -> np.ndarray:
        return np.asarray(np.linalg.norm(u[:, :2] - centre, axis=1) < r)

    draws = hm.walk(np.array([[0.3, 0.7, 0.5]]), inside, [0, 1], 2000, np.random.default_rng(4))
    assert inside(draws).all() and draws.shape == (2000, 3)
    assert np.abs(draws[:, :2].mean(axis=0) - centre).max() < 0.01
    squared = np.sum((draws[:, :2] - centre) ** 2, axis=1) / r**2  # uniform on the disc: uniform on 0..1
    assert squared.mean() == pytest.approx(0.5, abs=0.04)
    assert draws[:, 2].mean() == pytest.approx(0.5, abs=0.03) and draws[:, 2].min() < 0.05 and draws[:, 2].max() > 0.95
