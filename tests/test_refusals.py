"""Every answer right or refused: misspelt names, booleans, metric names and sweep files.

An override may only change what exists; anything else is a ScenarioError (exit 2) that names
the unknown name and lists the known ones, with nothing written.
"""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.cli.main import main
from sim.description.errors import ScenarioError
from sim.description.metric_catalog import check_metrics, metric_names
from sim.experiments import sweeps

from .conftest import ROOT

REFERENCE = sim.load_scenario()


def refused(scenario: sim.Scenario, overrides: dict[str, Any]) -> str:
    with pytest.raises(ScenarioError) as e:
        scenario.with_overrides(overrides)
    return str(e.value)


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ({"gates.abey.lanes": 20}, "unknown gate 'abey' in gates (known: abbey, north)"),
        ({"ramp.spots.haevy": 28}, "unknown ramp size class 'haevy' in ramp.spots (known: heavy, medium)"),
        ({"ramp.spots.jumbo": 5}, "unknown ramp size class 'jumbo'"),
        ({"gates.0.lanes": 1}, "unknown gate '0'"),
        ({"bases.qatr.capacity_people": 1}, "unknown base 'qatr' in bases (known: qatar, tashkent)"),
        ({"fleets.us_c18.count": 1}, "unknown fleet 'us_c18'"),
        ({"cohorts.afghan.people": 1}, "unknown cohort 'afghan' in cohorts (known: afghans, us_citizens)"),
        ({"gates.abbey.lanez": 3}, "unknown key 'lanez' in gates.abbey (known: admits, closed,"),
        ({"securty.end": 3}, "unknown key 'securty' in the scenario"),
        ({"disruptions.5.end": 1}, "no disruption '5' in disruptions (indexes 0 to 0)"),
        ({"gates.north.closed.3.end": 1}, "no element '3' in gates.north.closed (indexes 0 to 0)"),
        ({"security.end.days": 1}, "security.end is a value, not a table"),
        ({"reference.evacuated": 1}, "unknown reference figure 'evacuated'"),
        ({"ramp.spots": {"haevy": 28}}, "unknown ramp size class 'haevy'"),
        ({"gates": {"abey": {"lanes": 20}}}, "unknown gate 'abey'"),
    ],
)
def test_an_override_never_creates_anything(small, override, words):
    assert words in refused(small, override)


def test_overrides_reach_every_existing_entry(small):
    # keys with defaults exist though the file omits them; optional values that are None may be set
    s = small.with_overrides(
        {"runway.separation_day_min": 5, "fleets.de_a400m.surge_seats": 200, "gates.north.closed.0.end": 1.5}
    )
    assert s.runway.separation_day_min == 5 and s.fleets["de_a400m"].surge_seats == 200
    assert s.gates["north"].closed[0].end == 1.5
    # a table given as a value replaces the table: names may be left out, never added
    s = small.with_overrides({"gates": {"abbey": {"lanes": 5}}})
    assert list(s.gates) == ["abbey"] and s.gates["abbey"].lanes == 5 and not s.gates["abbey"].closed
    # loading from a file resolves against the complete scenario too
    assert (
        sim.load_scenario(ROOT / "tests" / "data" / "small.toml", {"departure.max_ground_hours": 2}).departure.max_ground_hours
        == 2
    )


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_is_never_a_number(small, value):
    for key in ("gates.abbey.lanes", "security.end", "bases.qatar.flight_hours", "disruptions.0.start"):
        assert "not a boolean" in refused(small, {key: value}) or "expected an ISO datetime" in refused(small, {key: value})


def test_unknown_names_in_references_list_the_valid_ones(small):
    assert "unknown cohort 'ghosts' (known: afghans, any, us_citizens)" in refused(small, {"gates.north.admits": ["ghosts"]})
    assert "unknown operator 'mars' (known: any, germany, us)" in refused(small, {"cohorts.afghans.carriers": ["mars"]})
    text = refused(small, {"disruptions.0.target": "abbey"})
    assert "'abbey' is not a valid target for runway_closure (valid: runway, *)" in text


def _leaf_paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(node, dict) and node:
        return [p for k, v in node.items() for p in _leaf_paths(v, (*prefix, str(k)))]
    if isinstance(node, list | tuple) and node and prefix[-1] != "profile":
        return [p for i, v in enumerate(node) for p in _leaf_paths(v, (*prefix, str(i)))]
    return [prefix]


def _siblings(path: tuple[str, ...], i: int) -> set[str]:
    """Names that are valid at segment ``i`` of ``path`` (schema fields or existing entries)."""
    node: Any = REFERENCE.model_dump(by_alias=True)
    for part in path[:i]:
        node = node[int(part)] if isinstance(node, list | tuple) else node[part]
    return set(node) if isinstance(node, dict) else set()


# entries of tables keyed by metric names ([targets]) hold dots themselves: no dotted override reaches them
LEAVES = [
    p
    for p in _leaf_paths(REFERENCE.model_dump(by_alias=True))
    if any(not s.isdigit() for s in p) and not any("." in s for s in p)
]


@st.composite
def misspelt_override(draw: st.DrawFn) -> tuple[str, str]:
    path = draw(st.sampled_from(LEAVES))
    i = draw(st.sampled_from([k for k, s in enumerate(path) if not s.isdigit()]))
    seg = path[i]
    pos = draw(st.integers(0, len(seg)))
    char = draw(st.sampled_from(string.ascii_lowercase + "_"))
    edit = draw(st.sampled_from(["insert", "replace", "delete"]))
    if edit == "insert" or len(seg) < 2:
        bad = seg[:pos] + char + seg[pos:]
    elif edit == "replace":
        pos = min(pos, len(seg) - 1)
        bad = seg[:pos] + char + seg[pos + 1 :]
    else:
        pos = min(pos, len(seg) - 1)
        bad = seg[:pos] + seg[pos + 1 :]
    if bad in _siblings(path, i) or bad.isdigit():
        bad = seg + "x"
    return ".".join((*path[:i], bad, *path[i + 1 :])), bad


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(misspelt_override())
def test_a_misspelt_segment_of_any_real_key_is_refused_by_name(case):
    key, bad = case
    with pytest.raises(ScenarioError) as e:
        REFERENCE.with_overrides({key: 1})
    assert f"'{bad}'" in str(e.value), (key, str(e.value))


# -- the command line -------------------------------------------------------------------------


def test_run_with_a_misspelt_gate_exits_2_and_writes_nothing(small_path, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", str(small_path), "--out", str(out), "--set", "gates.abey.lanes=20"]) == 2
    err = capsys.readouterr().err
    assert "unknown gate 'abey'" in err and "(known: abbey, north)" in err and str(small_path) in err
    assert not out.exists()


def test_compare_and_sweep_refuse_misspelt_names(small_path, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["compare", str(small_path), "-n", "2", "--set-b", "gates.abey.lanes=20", "--out", str(out)]) == 2
    assert "unknown gate 'abey'" in capsys.readouterr().err
    assert main(["sweep", str(small_path), "--vary", "gates.abey.lanes=5,10", "--out", str(out)]) == 2
    assert "unknown gate 'abey'" in capsys.readouterr().err
    assert (
        main(["sweep", str(small_path), "--vary", "gates.abbey.lanes=5", "--set", "ramp.spots.haevy=2", "--out", str(out)]) == 2
    )
    assert "unknown ramp size class 'haevy'" in capsys.readouterr().err
    assert not out.exists()


def test_sweep_files_refuse_misspelt_names(small_path, tmp_path, capsys):
    for table in (
        '[vary]\n"gates.abey.lanes" = [1, 2]\n',
        '[vary]\n"gates.abbey.lanes" = [1]\n[set]\n"bases.qatr.capacity_people" = 9\n',
    ):
        f = tmp_path / "sweep.toml"
        f.write_text(f'scenario = "{small_path}"\n{table}', encoding="utf-8")
        assert main(["sweep", str(f), "--out", str(tmp_path / "o")]) == 2
        assert "unknown" in capsys.readouterr().err
        assert main(["validate", str(f)]) == 2
        assert "unknown" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_an_unknown_metric_is_exit_2_with_the_valid_names(small_path, tmp_path, capsys):
    out = tmp_path / "o"
    argv = ["sweep", str(small_path), "--vary", "gates.abbey.lanes=2,3", "-n", "1", "--metric", "stranded", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "unknown metric 'stranded'" in err and "stranded_total" in err and "cohort.afghans.stranded" in err
    assert not out.exists()
    f = tmp_path / "sweep.toml"
    f.write_text(f'scenario = "{small_path}"\nmetrics = ["evacuated"]\n[vary]\n"gates.abbey.lanes" = [1]\n', encoding="utf-8")
    assert main(["validate", str(f)]) == 2
    assert "unknown metric 'evacuated'" in capsys.readouterr().err


def test_a_sweep_says_only_what_it_wrote(small_path, tmp_path, capsys):
    out = tmp_path / "o"
    argv = ["sweep", str(small_path), "--vary", "gates.abbey.lanes=2,3", "-n", "1", "--no-plots", "--out", str(out)]
    assert main(argv) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == f"written to {out}/ (results.csv, manifest.json, points.csv, capacity_curve.json)"
    assert sorted(p.name for p in out.iterdir()) == ["capacity_curve.json", "manifest.json", "points.csv", "results.csv"]


def test_validate_accepts_sweep_files(capsys):
    files = sorted(str(p) for p in (ROOT / "scenarios" / "sweeps").glob("*.toml"))
    assert main(["validate", *files]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok (sweep of") == len(files)


# -- the metric catalogue ---------------------------------------------------------------------


def test_the_catalogue_names_exactly_the_metrics_a_run_reports(small):
    reported = sim.run_replication(small, 0, 0).metrics
    assert sorted(reported) == sorted(metric_names(small))
    check_metrics(["evacuated_total", "cohort.afghans.stranded", "limit.ramp_hours"], small, "x")
    with pytest.raises(ScenarioError, match="unknown metric 'cohort.ghosts.stranded'"):
        check_metrics(["cohort.ghosts.stranded"], small, "x")


def test_sweep_points_are_checked_against_the_schema(small_path):
    spec = sweeps.SweepSpec(str(small_path), {"gates.abbey.lane": [1]})
    with pytest.raises(ScenarioError, match="unknown key 'lane'"):
        sweeps.validate_sweep(spec)


def test_names_and_catalogue_live_in_the_description_layer():
    import ast

    for name in ("description/metric_catalog.py", "description/overrides.py", "experiments/workers.py"):
        tree = ast.parse((ROOT / "sim" / name).read_text(encoding="utf-8"))
        mods = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        mods |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not any(m == "simpy" or m.startswith(("sim.model", "sim.experiments.replications")) for m in mods), (name, mods)
