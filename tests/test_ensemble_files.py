"""Ensemble files are read strictly: every fault is exit 2 naming the file, the row and the column,
found before any simulation runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sim
from sim.cli.main import main
from sim.description.errors import ScenarioError
from sim.experiments import replications
from sim.experiments.ensemble import load_ensemble

from .conftest import DATA, ROOT

SMALL = str(DATA / "small.toml")
KABUL = str(ROOT / "scenarios" / "kabul_2021.toml")
HEADER = "gates.abbey.lanes,airfield.holding_capacity_people\n"


@pytest.fixture
def no_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object) -> None:
        raise AssertionError("a simulation ran")

    monkeypatch.setattr(replications, "_task", never)
    monkeypatch.setattr(replications, "run_replication", never)


def _refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], csv_text: str, scenario: str = SMALL) -> str:
    path = tmp_path / "e.csv"
    path.write_text(csv_text, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", scenario, "-n", "2", "--ensemble", str(path), "--no-plots", "--out", str(out)]) == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert str(path.with_suffix("")) in err and "Traceback" not in err  # the CSV or its sidecar JSON
    return err


@pytest.mark.parametrize(
    ("rows", "named"),
    [
        ("3,800,5\n4,900,6\n", ["row 1 (line 2): 3 fields, but the header names 2 columns", "row 2 (line 3)"]),
        ("3,800\n4\n", ["row 2 (line 3): 1 field, but the header names 2 columns"]),
        ("3,800\n\n4,900,1\n", ["row 2 (line 4): 3 fields"]),  # a blank line is skipped, the line still counted
        ("3,inf\n4,900\n", ["row 1 (line 2), airfield.holding_capacity_people: inf is not a finite number"]),
        ("3,800\n,900\n", ["row 2 (line 3), gates.abbey.lanes: empty"]),
        ("3,800\nnan,900\n", ["row 2 (line 3), gates.abbey.lanes: nan is not a finite number"]),
    ],
)
def test_a_malformed_row_is_named_before_anything_runs(tmp_path, capsys, no_simulation, rows, named):
    err = _refused(tmp_path, capsys, HEADER + rows)
    for text in named:
        assert text in err


def test_the_issue_example_no_longer_reads_the_first_column_as_an_index(tmp_path, capsys, no_simulation):
    """Rows one field longer than the header once ran with lanes = 800 (the first column an index)."""
    err = _refused(tmp_path, capsys, HEADER + "3,800,5\n4,900,6\n")
    assert "e.csv: row 1 (line 2): 3 fields" in err


def test_column_names_must_be_distinct_scenario_keys(tmp_path, capsys, no_simulation):
    err = _refused(tmp_path, capsys, "gates.abbey.lanez,airfield.holding_capacity_people\n3,800\n")
    assert "(row 1): gates.abbey.lanez: unknown key 'lanez' in gates.abbey" in err
    err = _refused(tmp_path, capsys, "gates.abbey.lanes,gates.abbey.lanes,\n3,4,5\n")
    assert "gates.abbey.lanes: named twice in the header" in err and "column 3: has no name in the header" in err


def test_values_outside_the_declared_uncertain_range_are_refused(tmp_path, capsys, no_simulation):
    kabul = sim.load_scenario(KABUL)
    cap, chalk = kabul.uncertain["airfield.holding_capacity_people"], kabul.uncertain["airfield.chalk_interval_min"]
    text = f"airfield.holding_capacity_people,airfield.chalk_interval_min\n{cap.low},{chalk.low}\n{cap.high + 1},{chalk.high}\n"
    err = _refused(tmp_path, capsys, text, KABUL)
    assert f"row 2, airfield.holding_capacity_people: {cap.high + 1} is outside its [uncertain] range" in err
    assert "chalk_interval_min" not in err  # its values are at the ends of the range: inside


def test_a_corrupt_or_odd_provenance_file_is_named(tmp_path, capsys, no_simulation):
    (tmp_path / "e.json").write_text("{not json", encoding="utf-8")
    err = _refused(tmp_path, capsys, HEADER + "3,800\n")
    assert f"{tmp_path / 'e.json'}: the provenance of e.csv: not JSON" in err
    (tmp_path / "e.json").write_text("[1, 2]", encoding="utf-8")
    assert "the provenance of e.csv: an array, not a JSON object" in _refused(tmp_path, capsys, HEADER + "3,800\n")
    (tmp_path / "e.json").write_text("null", encoding="utf-8")
    assert "the provenance of e.csv: null, not a JSON object" in _refused(tmp_path, capsys, HEADER + "3,800\n")


def test_sweep_and_compare_check_the_ensemble_before_running(tmp_path, capsys, no_simulation):
    path = tmp_path / "e.csv"
    path.write_text(HEADER + "3,800,5\n", encoding="utf-8")
    sweep_out, compare_out = tmp_path / "s", tmp_path / "c"
    assert main(["sweep", SMALL, "--vary", "security.end=1.5,2", "--ensemble", str(path), "--out", str(sweep_out)]) == 2
    assert "row 1 (line 2): 3 fields" in capsys.readouterr().err and not (sweep_out / "results.csv").exists()
    path.write_text(HEADER + "3,800\n4,99999999\n", encoding="utf-8")  # row 2 makes no valid scenario
    assert main(["compare", SMALL, "--set-b", "gates.abbey.lanes=6", "--ensemble", str(path), "--out", str(compare_out)]) == 2
    assert "e.csv (row 2): airfield.holding_capacity_people" in capsys.readouterr().err and not compare_out.exists()


def test_a_well_formed_ensemble_loads_with_its_types_and_provenance(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("\ufeff" + HEADER + "3,800\n4,900.5\n", encoding="utf-8")  # a byte order mark is fine
    (tmp_path / "e.json").write_text(json.dumps({"command": "airlift calibrate", "seed": 1}), encoding="utf-8")
    ens = load_ensemble(path)
    assert ens.settings == ({"gates.abbey.lanes": 3, "airfield.holding_capacity_people": 800.0},
                            {"gates.abbey.lanes": 4, "airfield.holding_capacity_people": 900.5})  # fmt: skip
    assert type(ens.settings[0]["gates.abbey.lanes"]) is int and ens.provenance == {"command": "airlift calibrate", "seed": 1}
    with pytest.raises(ScenarioError, match="file not found"):
        load_ensemble(tmp_path / "missing.csv")
