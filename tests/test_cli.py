"""The command line, in-process: run, validate, compare, --set, bad input."""

from __future__ import annotations

import json
import subprocess
import sys

from sim.cli.main import main


def test_run_writes_outputs_and_prints_summary(small_path, tmp_path, capsys):
    out = tmp_path / "o"
    code = main(["run", str(small_path), "-n", "2", "--seed", "3", "--out", str(out), "--set", "gates.abbey.lanes=4"])
    assert code == 0
    text = capsys.readouterr().out
    assert "evacuated" in text and "stranded by cohort" in text and "what limited throughput" in text
    assert "binding constraint by day:" in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 3 and summary["replications"] == 2
    assert summary["scenario"]["gates"]["abbey"]["lanes"] == 4
    header = (out / "timeseries.csv").read_text().splitlines()[0].split(",")
    for col in (
        "replication",
        "time",
        "hours",
        "evacuated_cumulative",
        "departures_cumulative",
        "gate_queue_people",
        "airfield_people",
        "aircraft_on_ground",
    ):
        assert col in header
    for png in ("cumulative_evacuated", "daily_by_operator", "crowds_and_airfield", "stranded_by_cohort", "limits_by_day"):
        assert (out / f"{png}.png").stat().st_size > 10_000
    row = (out / "timeseries.csv").read_text().splitlines()[1].split(",")
    assert row[header.index("time")] == "2021-08-14T00:00:00+04:30"


def test_set_security_end_as_days(small_path, tmp_path):
    out = tmp_path / "o"
    assert main(["run", str(small_path), "-n", "1", "--no-plots", "--out", str(out), "--set", "security.end=1"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"]["security"]["end"] == 1
    assert len(summary["daily"]) == 1
    assert not list(out.glob("*.png"))


def test_bad_input_exit_2_names_field_writes_nothing(small_path, tmp_path, capsys):
    out = tmp_path / "o"
    code = main(["run", str(small_path), "--out", str(out), "--set", "gates.abbey.lanez=4"])
    err = capsys.readouterr().err
    assert code == 2
    assert "gates.abbey.lanez" in err and "unknown key" in err and str(small_path) in err
    assert "Traceback" not in err
    assert not out.exists()


def test_bad_toml_and_missing_file(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("start = [\n")
    assert main(["run", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "bad.toml" in capsys.readouterr().err
    assert main(["validate", str(tmp_path / "nope.toml")]) == 2
    assert "file not found" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_bad_arguments_exit_2(capsys):
    assert_exit = []
    for argv in (["run", "-n", "0"], ["run", "--precision", "2"], ["frobnicate"], ["run", "--set", "novalue"]):
        try:
            code = main(argv)
        except SystemExit as e:
            code = e.code
        assert_exit.append(code)
    assert assert_exit == [2, 2, 2, 2]


def test_validate_all_bundled_scenarios(capsys):
    from .conftest import ROOT

    files = sorted(str(p) for p in (ROOT / "scenarios").glob("*.toml"))
    assert main(["validate", *files]) == 0
    assert capsys.readouterr().out.count(": ok") == len(files)


def test_compare_writes_paired_differences(small_path, tmp_path, capsys):
    out = tmp_path / "c"
    code = main(["compare", str(small_path), "-n", "3", "--set-b", "gates.abbey.lanes=6", "--out", str(out)])
    assert code == 0
    data = json.loads((out / "compare.json").read_text())
    assert len(data["differences"]["evacuated_total"]["values"]) == 3
    assert "B - A" in capsys.readouterr().out


def test_keys_command_prints_the_reference(capsys):
    assert main(["keys"]) == 0
    assert "`security.end`" in capsys.readouterr().out


def test_python_dash_m_sim_is_the_same_program(small_path):
    out = subprocess.run([sys.executable, "-m", "sim", "validate", str(small_path)], capture_output=True, text=True)
    assert out.returncode == 0 and ": ok" in out.stdout
    out = subprocess.run([sys.executable, "-m", "sim", "run", "/nonexistent.toml"], capture_output=True, text=True)
    assert out.returncode == 2 and "file not found" in out.stderr and "Traceback" not in out.stderr


def test_run_with_workers_gives_the_same_summary(small_path, tmp_path):
    assert main(["run", str(small_path), "-n", "3", "--no-plots", "--out", str(tmp_path / "a")]) == 0
    assert main(["run", str(small_path), "-n", "3", "--no-plots", "--workers", "2", "--out", str(tmp_path / "b")]) == 0
    a, b = (json.loads((tmp_path / d / "summary.json").read_text(encoding="utf-8")) for d in "ab")
    assert a.pop("command") != b.pop("command")  # the command line differs, nothing else
    assert a == b


def test_compare_rows_stay_aligned_with_long_cohort_names(capsys):
    """A cohort name longer than the metric column widens it for every row, so the numbers line up."""
    import pandas as pd

    from sim.cli.compare import _print_differences
    from sim.experiments.replications import HEADLINE

    row = {"a_mean": 1.0, "b_mean": 2.0, "difference_mean": 1.0, "ci95_low": 0.5, "ci95_high": 1.5}
    row |= {"se_paired": 0.1, "se_unpaired": 0.2, "variance_reduction": 0.5}
    names = [*HEADLINE, "cohort.uk_dependants_and_others_of_all_kinds.stranded"]
    _print_differences(pd.DataFrame([row] * len(names), index=names))
    header, *rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  ") and "(SE" not in line]
    column = header.index("B - A") + len("B - A")  # the differences are right-aligned under the heading
    assert len(rows) == len(names)
    assert all(row[column - 1 : column + 1] == "1 " for row in rows), "B - A column out of line"
