"""The second real evacuation, Wadi Saeedna (Sudan, April 2023): found by its short name as the installed
package lays it out, runs, and lands its national totals near the published ones; the dated running
totals it carries are drawn and printed beside the model (they check the path; they are not targets)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.description.loading import resolve_path, scenarios_dir

from .conftest import ROOT

UK_PUBLISHED = 1888
"""About 1,888 people on 21 UK flights from Wadi Saeedna (FCDO)."""


def test_found_by_its_short_name_from_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_path("wadi_saeedna_2023") == scenarios_dir() / "wadi_saeedna_2023.toml"
    assert resolve_path("wadi_saeedna_2023.toml") == scenarios_dir() / "wadi_saeedna_2023.toml"
    assert resolve_path("kabul_2021") == scenarios_dir() / "kabul_2021.toml"
    (tmp_path / "kabul_2021.toml").write_text("")  # a file here wins over the bundled one
    assert resolve_path("kabul_2021.toml") == Path("kabul_2021.toml")


def test_the_dated_counts_name_operators_and_are_not_targets() -> None:
    s = sim.load_scenario("wadi_saeedna_2023")
    by_operator = {p.operator for p in s.reference_cumulative}
    assert {"germany", "france", "uk", None} <= by_operator
    assert not any(t.dated for t in s.targets.values()), "dated figures check the path; they are not calibrated to"
    assert {"operator.uk.evacuated", "operator.germany.evacuated", "operator.france.evacuated"} <= set(s.targets)
    assert s.targets["operator.germany.evacuated"].min == 600  # "more than 600": one-sided


def test_an_unknown_operator_in_a_dated_count_is_refused() -> None:
    with pytest.raises(sim.ScenarioError, match=r"reference_cumulative\.0\.operator: unknown operator 'spain'"):
        count = {"at": 1.0, "evacuated": 5, "operator": "spain"}
        sim.load_scenario(ROOT / "tests" / "data" / "small.toml", {"reference_cumulative": [count]})


def _installed_copy(tmp_path: Path) -> Path:
    """The package laid out as the wheel installs it: ``sim/`` with the scenarios inside it
    (``[tool.hatch.build.targets.wheel.force-include]`` maps ``scenarios`` to ``sim/scenarios``)."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "sim", site / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "scenarios", site / "sim" / "scenarios")
    return site


@pytest.mark.slow
def test_runs_from_the_installed_package_with_the_uk_total_near_the_published_one(tmp_path: Path) -> None:
    """From a folder with no scenarios, the installed layout finds the file by its short name, and
    the UK total over 8 replications lies within 15% of the published 1,888."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"scenarios" = "sim/scenarios"' in pyproject, "the wheel no longer bundles the scenarios"
    site = _installed_copy(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import sim; from sim.description.loading import resolve_path; "
        "p = resolve_path('wadi_saeedna_2023'); "
        "r = sim.run(sim.load_scenario('wadi_saeedna_2023'), 8, 0); "
        "print(p); print(r.mean('operator.uk.evacuated'))"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    path, uk = done.stdout.split()
    assert Path(path) == site / "sim" / "scenarios" / "wadi_saeedna_2023.toml"
    assert abs(float(uk) - UK_PUBLISHED) <= 0.15 * UK_PUBLISHED, uk


@pytest.mark.slow
def test_the_path_follows_the_dated_counts_it_was_not_fitted_to() -> None:
    """Each national running total the model reaches by the time a count was published lies within
    half of that count or 150 people (the counts are rough: "more than", given at an hour not always
    published); the national totals land near theirs."""
    from sim.analysis.target_values import sample_at

    s = sim.load_scenario("wadi_saeedna_2023")
    r = sim.run(s, 8, 0)
    for p in s.reference_cumulative:
        column = "evacuated_cumulative" + (f".{p.operator}" if p.operator else "")
        model = sum(sample_at(rep.hourly["hours"], rep.hourly[column], s.hours(p.at)) for rep in r.replications) / 8
        assert abs(model - p.evacuated) <= max(0.5 * p.evacuated, 150), (p.source, model)
    assert r.mean("operator.germany.evacuated") >= 0.9 * 600
    assert r.mean("operator.france.evacuated") >= 0.9 * 500
    assert r.mean("troops_stranded") == 0


def test_a_dated_count_of_one_operator_is_drawn_beside_its_curve_and_printed(capsys: pytest.CaptureFixture[str]) -> None:
    """A ``[[reference_cumulative]]`` entry naming an operator is drawn in that operator's colour at its
    date (with the operator's own mean curve) and printed by ``airlift run`` beside the model's count
    of that operator at that hour."""
    from matplotlib.collections import PathCollection
    from matplotlib.colors import to_rgb

    from sim.cli.run import print_run
    from sim.outputs import run_figures as plots

    counts = [{"at": 1.0, "evacuated": 500, "operator": "germany", "source": "test"}, {"at": 1.5, "evacuated": 900}]
    s = sim.load_scenario(ROOT / "tests" / "data" / "small.toml", {"reference_cumulative": counts})
    r = sim.run(s, 2, 0)
    ax = plots.cumulative(r).axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert "model: germany (mean)" in labels and "model: us (mean)" not in labels
    germany = ax.get_lines()[labels.index("model: germany (mean)")].get_color()
    points = {c.get_label(): c for c in ax.collections if isinstance(c, PathCollection)}
    face = np.asarray(points["published: germany"].get_facecolor(), dtype=float)
    assert tuple(face[0, :3]) == pytest.approx(to_rgb(germany))
    assert np.asarray(points["published: germany"].get_offsets(), dtype=float)[:, 1].tolist() == [500.0]
    assert np.asarray(points["published figures"].get_offsets(), dtype=float)[:, 1].tolist() == [900.0]
    print_run(r, None)
    out = capsys.readouterr().out
    model = sum(float(rep.hourly["evacuated_cumulative.germany"][24]) for rep in r.replications) / 2
    assert f"15 Aug 00:00 germany{model:>25,.0f}{500:>13,}" in out
    assert "15 Aug 12:00 all" in out


@pytest.mark.slow
def test_the_shipped_ensemble_fits_the_scenario_and_the_uk_total() -> None:
    """The calibrated ensemble shipped beside the scenario: its settings lie in the declared ranges,
    it carries its provenance, and across its settings the UK total is within 15% of 1,888."""
    from sim.experiments.ensemble import load_ensemble

    scenario = sim.load_scenario("wadi_saeedna_2023")
    ens = load_ensemble(ROOT / "scenarios" / "wadi_saeedna_2023_ensemble.csv")
    ens.check(scenario)
    assert ens.provenance and {"command", "budget", "seed", "version"} <= set(ens.provenance)
    assert ens.provenance["plausible_settings"] == len(ens) >= 2
    for setting in ens.settings:
        for key, value in setting.items():
            assert scenario.uncertain[key].low <= value <= scenario.uncertain[key].high, key
    result = sim.run(scenario, replications=len(ens), seed=0, ensemble=ens)
    assert abs(result.mean("operator.uk.evacuated") - 1888) <= 0.15 * 1888
