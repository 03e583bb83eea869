"""The ``[uncertain]`` table: validation against each key's own bounds, inheritance, and sampling."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sim.description.errors import ScenarioError
from sim.description.loading import load_scenario
from sim.description.lookup import value_at
from sim.description.uncertainty import Parameter, parameters, parse_ranges, to_points, to_values, unit_sample

from .conftest import DATA, ROOT


def child(tmp_path: Path, table: str, name: str = "c.toml") -> Path:
    p = tmp_path / name
    p.write_text(f'extends = "{(DATA / "small.toml").as_posix()}"\n[uncertain]\n{table}\n', encoding="utf-8")
    return p


def problems(path: Path) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    return e.value.problems


def test_a_valid_table_gives_typed_parameters(tmp_path):
    p = child(
        tmp_path,
        '"gates.abbey.lanes" = { low = 1, high = 6, note = "not published" }\n'
        '"cohorts.afghans.patience.mean_hours" = { low = 6.0, high = 48.0, distribution = "loguniform" }\n'
        '"airfield.chalk_interval_min" = { low = 10, high = 30, distribution = "triangular", mode = 15 }\n'
        '"bases.qatar.outflow_per_day" = { low = 1000.0, high = 2000.0 }\n',
    )
    params = {q.name: q for q in parameters(load_scenario(p))}
    assert params["gates.abbey.lanes"] == Parameter("gates.abbey.lanes", 1, 6, "uniform", None, True, "not published")
    assert params["cohorts.afghans.patience.mean_hours"].distribution == "loguniform"
    assert not params["cohorts.afghans.patience.mean_hours"].integer
    assert params["airfield.chalk_interval_min"].mode == 15
    # a whole-number float key with integer ends is sampled as integers; written as floats it is continuous
    assert params["airfield.chalk_interval_min"].integer
    assert not params["bases.qatar.outflow_per_day"].integer


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        ('"gates.abbey.lanez" = { low = 1, high = 6 }', 'uncertain."gates.abbey.lanez"', "unknown key"),
        ('"gates.nowhere.lanes" = { low = 1, high = 6 }', 'uncertain."gates.nowhere.lanes"', "unknown gate 'nowhere'"),
        ('"ramp.spots.heavy" = { low = -1, high = 6 }', 'uncertain."ramp.spots.heavy".low', "greater than or equal to 0"),
        (
            '"airfield.surge_when_holding_over" = { low = 0.5, high = 1.5 }',
            'uncertain."airfield.surge_when_holding_over".high',
            "",
        ),
        ('"gates.north.lanes" = { low = 1.5, high = 4 }', 'uncertain."gates.north.lanes".low', "integer"),
        ('"gates.north.lanes" = { low = 4, high = 4 }', 'uncertain."gates.north.lanes"', "below high"),
        (
            '"cohorts.afghans.people" = { low = 0, high = 9, distribution = "loguniform" }',
            'uncertain."cohorts.afghans.people"',
            "> 0",
        ),
        ('"gates.north.lanes" = { low = 1, high = 4, distribution = "triangular" }', 'uncertain."gates.north.lanes"', "mode"),
        (
            '"gates.north.lanes" = { low = 1, high = 4, distribution = "triangular", mode = 5 }',
            'uncertain."gates.north.lanes"',
            "",
        ),
        ('"gates.north.lanes" = { low = 1, high = 4, mode = 2 }', 'uncertain."gates.north.lanes"', "only for the triangular"),
        ('"gates.north.lanes" = { low = 1, high = 4, spread = 2 }', 'uncertain."gates.north.lanes".spread', "unknown key"),
        ('"gates.north.admits" = { low = 1, high = 4 }', 'uncertain."gates.north.admits"', "not a number"),
        ('"departure.wait_for_base_room" = { low = 0, high = 1 }', 'uncertain."departure.wait_for_base_room"', "not a number"),
        ('"ramp.spots.medium" = { low = 0, high = 4 }', 'uncertain."ramp.spots.medium".low', "at least one spot"),
    ],
)
def test_bad_entries_name_the_key(tmp_path, entry, field, message):
    found = problems(child(tmp_path, entry))
    assert any(f == field and message in m for f, m in found), found


def test_extends_merges_the_table(tmp_path):
    parent = child(tmp_path, '"gates.abbey.lanes" = { low = 1, high = 6 }\n"gates.north.lanes" = { low = 1, high = 3 }', "p.toml")
    c = tmp_path / "c2.toml"
    c.write_text(
        'extends = "p.toml"\n[uncertain]\n"gates.north.lanes" = { high = 5 }\n"ramp.spots.heavy" = { low = 2, high = 6 }\n',
        encoding="utf-8",
    )
    s = load_scenario(c)
    assert set(s.uncertain) == {"gates.abbey.lanes", "gates.north.lanes", "ramp.spots.heavy"}
    assert (s.uncertain["gates.north.lanes"].low, s.uncertain["gates.north.lanes"].high) == (1, 5)
    assert load_scenario(parent).uncertain["gates.north.lanes"].high == 3


def test_extra_vary_adds_and_replaces(small):
    ranges = parse_ranges(["gates.abbey.lanes=2:5", "airfield.chalk_interval_min=5.5:20"])
    params = parameters(small, ranges)
    assert [(q.name, q.low, q.high, q.integer) for q in params] == [
        ("gates.abbey.lanes", 2, 5, True),
        ("airfield.chalk_interval_min", 5.5, 20, False),
    ]
    with pytest.raises(ScenarioError, match='uncertain."gates.abbey.lanes".low'):
        parameters(small, parse_ranges(["gates.abbey.lanes=-2:5"]))
    with pytest.raises(ScenarioError, match="KEY=LO:HI"):
        parse_ranges(["gates.abbey.lanes=2,5"])
    with pytest.raises(ScenarioError, match="no uncertain parameters"):
        parameters(small)


def test_quantiles_map_to_the_declared_distributions():
    uni = Parameter("u", 2.0, 6.0)
    logu = Parameter("l", 1.0, 100.0, "loguniform")
    tri = Parameter("t", 0.0, 10.0, "triangular", mode=8.0)
    assert to_values([uni, logu, tri], np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])).tolist() == [[2, 1, 0], [6, 100, 10]]
    assert to_values([logu], np.array([[0.5]]))[0, 0] == pytest.approx(10.0)
    u = unit_sample(1, 2000, seed=3, method="random")
    x = to_values([tri], u)[:, 0]
    assert stats.kstest(x, stats.triang(0.8, loc=0, scale=10).cdf).pvalue > 0.01


def test_integers_are_equally_likely_and_stay_in_range():
    lanes = Parameter("gates.abbey.lanes", 3, 8, integer=True)
    points = to_points([lanes], unit_sample(1, 3000, seed=1))
    values = np.array([p["gates.abbey.lanes"] for p in points])
    assert all(isinstance(p["gates.abbey.lanes"], int) for p in points)
    assert values.min() == 3 and values.max() == 8
    counts = np.bincount(values - 3, minlength=6)
    assert stats.chisquare(counts).pvalue > 0.01


def test_unit_samples_are_reproducible_and_fill_the_cube():
    a = unit_sample(4, 64, seed=7, method="sobol")
    assert np.array_equal(a, unit_sample(4, 64, seed=7, method="sobol"))
    assert not np.array_equal(a, unit_sample(4, 64, seed=8, method="sobol"))
    lhs = unit_sample(3, 10, seed=7)
    for j in range(3):  # one point in each tenth of every axis
        assert sorted(np.floor(lhs[:, j] * 10).astype(int)) == list(range(10))


def test_kabul_declares_its_assumptions_in_one_place():
    kabul = load_scenario()
    params = parameters(kabul)
    assert len(params) >= 12 and all(q.note for q in params)
    text = (ROOT / "scenarios" / "kabul_2021.toml").read_text(encoding="utf-8")
    head = text[: text.index("\n[uncertain]")]
    # the comments no longer repeat the ranges: the table holds them
    assert not re.search(r"[Rr]ange \d", head), re.findall(r".*[Rr]ange \d.*", head)
    # every key the sensitivity analysis varies sits within its range in the reference
    for q in params:
        node = value_at(kabul, q.name)  # a time is ranged in days after start
        days = kabul.hours(node) / 24 if isinstance(node, datetime) else float(node)
        assert q.low <= days <= q.high, q.name
