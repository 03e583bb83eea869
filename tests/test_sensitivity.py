"""Global sensitivity analysis: scenario -> design -> sweep -> indices, on cases with known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis.sensitivity import SENSITIVITY, design, indices, run_sensitivity
from sim.cli.main import main
from sim.description.errors import ScenarioError
from sim.description.uncertainty import Parameter, parse_ranges, to_values

from .conftest import DATA

SMALL = str(DATA / "small.toml")
# In the small scenario two A400Ms never need more than two medium spots, so more spots cannot
# matter; the C-17s' count decides how many people the airlift carries in two days.
RANGES = ["ramp.spots.medium=2:6", "fleets.us_c17.count=1:6", "airfield.chalk_interval_min=10.0:20.0"]


@pytest.fixture(scope="module")
def morris_small(tmp_path_factory):
    out = tmp_path_factory.mktemp("morris")
    res = run_sensitivity(SMALL, "morris", out, vary=parse_ranges(RANGES), trajectories=6, replications=1, seed=3)
    return out, res


def test_morris_ranks_the_binding_parameter_first_and_the_idle_one_at_zero(morris_small):
    out, res = morris_small
    table = pd.read_csv(out / SENSITIVITY)
    assert list(table.columns) == ["metric", "parameter", "method", "mu_star", "mu_star_conf", "sigma", "mu"]
    assert set(table["metric"]) == {"evacuated_total", "stranded_total", "cohort.us_citizens.stranded", "cohort.afghans.stranded"}
    ev = res.ranked("evacuated_total").set_index("parameter")
    assert ev.index[0] == "fleets.us_c17.count"
    # its effect is clearly away from zero; the idle spots' is indistinguishable from zero
    assert ev.loc["fleets.us_c17.count", "mu_star"] > 3 * ev.loc["fleets.us_c17.count", "mu_star_conf"]
    idle = ev.loc["ramp.spots.medium"]
    assert idle["mu_star"] <= idle["mu_star_conf"] + 1e-9
    # one row per (point, replication) in the sweep table, the design's values in its columns
    runs = pd.read_csv(out / "results.csv")
    assert len(runs) == (3 + 1) * 6
    assert sorted(runs["ramp.spots.medium"].unique()) == [2, 3, 5, 6]  # four Morris levels, as integers


def test_sobol_indices_of_the_ishigami_function_fall_within_their_intervals():
    params = [Parameter(f"x{i}", -math.pi, math.pi) for i in (1, 2, 3)]
    d = design(params, "sobol", samples=2048, seed=11)
    x = to_values(params, d.unit)
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    table = pd.DataFrame({"point": np.arange(len(y)), "replication": 0, "y": y})
    got = indices(d, table, ["y"]).set_index("parameter")
    # analytic indices for a = 7, b = 0.1 (Ishigami and Homma 1990)
    v = 0.5 + 7**2 / 8 + 0.1 * math.pi**4 / 5 + 0.1**2 * math.pi**8 / 18
    v1 = 0.5 * (1 + 0.1 * math.pi**4 / 5) ** 2
    v2 = 7**2 / 8
    v13 = 0.1**2 * math.pi**8 * (1 / 18 - 1 / 50)
    truth = {"x1": (v1 / v, (v1 + v13) / v), "x2": (v2 / v, v2 / v), "x3": (0.0, v13 / v)}
    for name, (s1, st) in truth.items():
        row = got.loc[name]
        assert abs(row["S1"] - s1) <= row["S1_conf"], (name, row["S1"], s1)
        assert abs(row["ST"] - st) <= row["ST_conf"], (name, row["ST"], st)
        assert row["S1_conf"] < 0.1 and row["ST_conf"] < 0.1


def test_resume_after_an_interruption_gives_the_same_indices(tmp_path):
    args = dict(vary=parse_ranges(RANGES[:2]), trajectories=3, replications=2, seed=5, metrics=["evacuated_total"])
    whole = run_sensitivity(SMALL, "morris", tmp_path / "whole", **args)
    seen = []

    def stop_after_four(k: int) -> None:
        seen.append(k)
        if len(seen) == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sensitivity(SMALL, "morris", tmp_path / "cut", progress=stop_after_four, **args)
    assert not (tmp_path / "cut" / SENSITIVITY).exists()
    again = run_sensitivity(SMALL, "morris", tmp_path / "cut", resume=True, **args)
    assert again.sweep.skipped == 4 and again.sweep.ran == len(whole.design.unit) * 2 - 4
    assert (tmp_path / "cut" / SENSITIVITY).read_bytes() == (tmp_path / "whole" / SENSITIVITY).read_bytes()


def test_cli_prints_the_ranking_and_writes_plots(tmp_path, capsys):
    out = tmp_path / "s"
    code = main(["sensitivity", SMALL, "--vary", RANGES[0], "--vary", RANGES[1], "--trajectories", "2", "--out", str(out),
                 "--metric", "evacuated_total", "--seed", "1"])  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0
    assert "morris on 2 uncertain parameters: 6 points x 1 replications" in text
    assert text.index("fleets.us_c17.count") < text.index("ramp.spots.medium")
    assert (out / "morris_evacuated_total.png").stat().st_size > 10_000
    assert (out / "manifest.json").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--vary", "ramp.spots.mediun=2:6"], 'uncertain."ramp.spots.mediun"'),
        (["--vary", "ramp.spots.medium=2-6"], "KEY=LO:HI"),
        (["--metric", "evacuated_totl"], "evacuated_totl"),
        (["--method", "sobol", "--samples", "48"], "power of 2"),
        ([], "no uncertain parameters"),
    ],
)
def test_bad_input_is_one_message_and_nothing_written(tmp_path, capsys, extra, message):
    vary = ["--vary", RANGES[0], "--vary", RANGES[1]] if extra and extra[0] != "--vary" else []
    code = main(["sensitivity", SMALL, *vary, *extra, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_a_design_is_reproducible_and_needs_two_parameters():
    params = [Parameter("a", 0.0, 1.0), Parameter("b", 1, 4, integer=True)]
    a, b = design(params, "morris", trajectories=4, seed=2), design(params, "morris", trajectories=4, seed=2)
    assert np.array_equal(a.unit, b.unit) and a.points() == b.points()
    assert not np.array_equal(a.unit, design(params, "morris", trajectories=4, seed=3).unit)
    with pytest.raises(ScenarioError, match="at least two"):
        design(params[:1], "morris")


def test_a_sweep_of_explicit_points_pairs_replications_and_resumes(tmp_path, small):
    from sim.experiments.sweeps import SweepSpec, read_results, run_sweep

    points = [{"gates.abbey.lanes": 2}, {"gates.abbey.lanes": 2, "ramp.spots.medium": 4}, {"ramp.spots.medium": 3}]
    spec = SweepSpec(None, {}, replications=2, seed=4, base=small, explicit=points)
    run_sweep(spec, tmp_path)
    df = read_results(tmp_path)
    assert list(df.columns[:3]) == ["point", "gates.abbey.lanes", "ramp.spots.medium"]
    assert len(df) == 6 and df["ramp.spots.medium"].isna().sum() == 2  # a key a point leaves alone is empty
    # the same replication of points that differ only in an idle parameter gives the same run
    a, b = df[df["point"] == 0].reset_index(), df[df["point"] == 1].reset_index()
    assert a["evacuated_total"].tolist() == b["evacuated_total"].tolist()
    again = run_sweep(spec, tmp_path, resume=True)
    assert (again.ran, again.skipped) == (0, 6)


def test_morris_plot_numbers_the_leaders_without_overlap_and_names_them_in_rank_order():
    from matplotlib.text import Annotation, Text

    from sim.outputs.sensitivity_figures import LABELLED, sensitivity_figures

    # a crowd: ten leaders within a few percent of each other, as the gates are for Kabul
    rng = np.random.default_rng(7)
    mu = np.r_[[30_000.0, 20_000.0], 10_000 + rng.uniform(-300, 300, 10), rng.uniform(0, 2_000, 30)]
    table = pd.DataFrame({"metric": "evacuated_total", "parameter": [f"p{i:02d}" for i in range(len(mu))], "method": "morris",
                          "mu_star": mu, "mu_star_conf": 0.2 * mu, "sigma": 0.3 * mu + rng.uniform(0, 200, len(mu))})  # fmt: skip
    table["mu"] = mu
    fig = sensitivity_figures(table)["morris_evacuated_total"]
    fig.canvas.draw()
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    numbers = [t for t in ax.texts if isinstance(t, Annotation)]
    assert sorted(int(t.get_text()) for t in numbers) == list(range(1, LABELLED + 1))
    boxes = [Text.get_window_extent(t, renderer) for t in numbers]  # the number, not its leader line
    frame = ax.get_window_extent(renderer)
    for i, a in enumerate(boxes):
        assert frame.contains(a.x0, a.y0) and frame.contains(a.x1, a.y1)
        assert not any(a.overlaps(b) for b in boxes[i + 1 :]), numbers[i].get_text()
    (key,) = fig.legends
    order = np.argsort(-mu, kind="stable")[:LABELLED]
    assert [t.get_text().split()[-1] for t in key.get_texts()] == [f"p{i:02d}" for i in order]
