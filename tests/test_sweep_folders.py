"""Sweep folders hold one sweep: what is derived from ``results.csv`` (points, capacity curves,
figures) is written anew from the whole table, nothing an earlier run derived survives a resume,
the manifest lists the digest of every file, and ``airlift report`` refuses a folder that mixes
runs. Times swept as datetimes work like ``--set`` times."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from sim.analysis.capacity import capacity_curve
from sim.cli.main import main
from sim.experiments import sweeps
from sim.outputs.folders import seal

SWEEP = ["--vary", "security.end=1,1.5", "-n", "2"]


def _sweep(small_path: Path, out: Path, *more: str) -> int:
    return main(["sweep", str(small_path), *SWEEP, "--out", str(out), *more])


def _files(out: Path) -> dict[str, str]:
    files: dict[str, str] = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]
    return files


def _refused(out: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["report", str(out)]) == 2
    assert not (out / "report.html").exists()
    return capsys.readouterr().err


@pytest.fixture
def swept(small_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A whole sweep folder plotting stranded_total, with a user's own files beside its outputs."""
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n", encoding="utf-8")
    assert _sweep(small_path, out, "--metric", "stranded_total", "--report") == 0
    capsys.readouterr()
    return out


def test_a_resume_with_other_metrics_keeps_no_plot_of_the_earlier_run(
    swept: Path, small_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (swept / "stranded_total_vs_security.end.png").is_file() and (swept / "report.html").is_file()
    assert _sweep(small_path, swept, "--resume", "--metric", "evacuated_total") == 0
    names = {p.name for p in swept.iterdir()}
    assert "stranded_total_vs_security.end.png" not in names and "report.html" not in names
    assert {"evacuated_total_vs_security.end.png", "notes.txt"} <= names
    assert set(_files(swept)) == names - {"manifest.json", "notes.txt"}
    assert _files(swept) == seal(swept, _files(swept))  # every digest is the file's
    points = pd.read_csv(swept / "points.csv")
    assert set(points["metric"]) == {"evacuated_total"}
    assert main(["report", str(swept)]) == 0, capsys.readouterr().err


def test_a_resume_without_plots_or_in_parquet_removes_what_it_does_not_write(swept: Path, small_path: Path) -> None:
    pytest.importorskip("pyarrow")
    (swept / "my_heatmap.png").write_bytes(b"a user's figure, not airlift's")
    assert _sweep(small_path, swept, "--resume", "--no-plots", "--format", "parquet") == 0
    names = {p.name for p in swept.iterdir()}
    derived = {"points.parquet", "capacity_curve.json", "security_window_curve.csv"}  # the curve's numbers: CSV in any format
    assert names == {"results.csv", "manifest.json", "notes.txt", "my_heatmap.png", *derived}
    assert set(_files(swept)) == {"results.csv", *derived}


def test_a_sweep_through_the_python_api_clears_what_the_command_derived(swept: Path, small_path: Path) -> None:
    spec = sweeps.SweepSpec(str(small_path), {"security.end": [1, 1.5]}, replications=2)
    sweeps.run_sweep(spec, swept, resume=True)
    assert {p.name for p in swept.iterdir()} == {"results.csv", "manifest.json", "notes.txt"}
    assert set(_files(swept)) == {"results.csv"}


def _copy(folder: Path, tmp_path: Path, name: str) -> Path:
    copy = tmp_path / name
    shutil.copytree(folder, copy)
    (copy / "report.html").unlink(missing_ok=True)
    return copy


def test_report_refuses_a_sweep_folder_whose_files_are_not_its_results(
    swept: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _copy(swept, tmp_path, "stale")
    shutil.copy(folder / "stranded_total_vs_security.end.png", folder / "evacuated_total_vs_security.end.png")
    assert "evacuated_total_vs_security.end.png: not written by the run of manifest.json" in _refused(folder, capsys)
    folder = _copy(swept, tmp_path, "changed")
    (folder / "points.csv").write_text("metric,mean\nstranded_total,1\n", encoding="utf-8")
    assert "points.csv: not the file the run of manifest.json wrote" in _refused(folder, capsys)
    folder = _copy(swept, tmp_path, "more rows")
    with open(folder / "results.csv", "a", encoding="utf-8") as fh:
        fh.write((folder / "results.csv").read_text(encoding="utf-8").splitlines()[-1] + "\n")
    assert "results.csv: not the file the run of manifest.json wrote" in _refused(folder, capsys)
    folder = _copy(swept, tmp_path, "unlisted table")
    shutil.copy(folder / "points.csv", folder / "points.parquet")
    assert "points.parquet: not written by the sweep of manifest.json" in _refused(folder, capsys)
    folder = _copy(swept, tmp_path, "unfinished")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    del manifest["files"]
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert "manifest.json: files: lists no files: the sweep did not end" in _refused(folder, capsys)
    assert main(["report", str(_copy(swept, tmp_path, "untouched"))]) == 0


# -- times in sweeps ---------------------------------------------------------------------------------


def test_a_sweep_file_with_toml_datetimes_runs_and_keeps_iso_text(
    small_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep_file = tmp_path / "times.toml"
    sweep_file.write_text(
        f'scenario = "{small_path.as_posix()}"\nreplications = 2\n'
        '[vary]\n"security.end" = [2021-08-16T00:00:00+04:30, 2021-08-15, 1.5]\n'
        '[set]\n"retrograde.start" = 2021-08-15T18:00:00\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["sweep", str(sweep_file), "--out", str(out)]) == 0, capsys.readouterr().err
    sweep = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["sweep"]
    assert sweep["vary"] == {"security.end": ["2021-08-16T00:00:00+04:30", "2021-08-15", 1.5]}
    assert sweep["set"] == {"retrograde.start": "2021-08-15T18:00:00"}
    curve = json.loads((out / "capacity_curve.json").read_text(encoding="utf-8"))["security.end"]
    assert curve["points"] == [1.0, 1.5, 2.0]  # days after the start, 14 Aug 2021 00:00 +04:30
    assert main(["sweep", str(sweep_file), "--out", str(out), "--resume"]) == 0  # the same sweep, read back alike
    assert "6 already done" in capsys.readouterr().out


def test_vary_with_iso_times_gives_a_curve_and_plots_in_days(
    small_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["sweep", str(small_path), "--vary", "security.end=2021-08-16T00:00:00+04:30,2021-08-15", "-n", "2"]
    assert main([*argv, "--out", str(out)]) == 0, capsys.readouterr().err
    assert "capacity curve of evacuated_total against security.end" in capsys.readouterr().out
    assert json.loads((out / "capacity_curve.json").read_text(encoding="utf-8"))["security.end"]["points"] == [1.0, 2.0]
    assert (out / "capacity_curve_security.end.png").is_file() and (out / "evacuated_total_vs_security.end.png").is_file()
    assert set(pd.read_csv(out / "results.csv")["security.end"]) == {"2021-08-16T00:00:00+04:30", "2021-08-15"}


def test_times_in_days_reads_times_as_the_scenario_does_and_leaves_names() -> None:
    from datetime import datetime, timedelta, timezone

    start = datetime(2021, 8, 14, tzinfo=timezone(timedelta(hours=4, minutes=30)))
    table = pd.DataFrame(
        {
            "security.end": ["2021-08-16T00:00:00+04:30", "2021-08-15", "1.5", "2021-08-15T12:00:00+00:00"],
            "fleet": ["a", "b", "a", "b"],
            "replication": [0, 0, 0, 0],
            "evacuated_total": [1.0, 2.0, 3.0, 4.0],
        }
    )
    days, time_keys = sweeps.times_in_days(table, ["security.end", "fleet"], start)
    assert time_keys == ["security.end"]
    assert days["security.end"].tolist() == pytest.approx([2.0, 1.0, 1.5, 1.0 + 16.5 / 24])
    assert days["fleet"].tolist() == ["a", "b", "a", "b"]
    assert sweeps.times_in_days(table, ["security.end"], None)[1] == []  # no start: no days
    assert capacity_curve(table, "fleet") is None and capacity_curve(table, "security.end") is None


def test_a_key_of_names_gets_a_note_instead_of_a_curve(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sim.cli.sweep import _capacity_curves

    table = pd.DataFrame({"fleet": ["a", "b"] * 2, "replication": [0, 0, 1, 1], "evacuated_total": [1.0, 2.0, 3.0, 5.0]})
    assert _capacity_curves(table, ["fleet"], [], tmp_path) == []
    assert capsys.readouterr().out == "no capacity curve along fleet: its values are neither numbers nor times\n"
    assert not (tmp_path / "capacity_curve.json").exists()


def test_a_sweep_whose_every_task_failed_ends_with_its_failures_not_a_crash(
    small_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(sweeps, "_point_task", boom)
    assert _sweep(small_path, tmp_path / "out") == 1
    captured = capsys.readouterr()
    assert captured.err.count("task failed: point") == 4 and "airlift: error" not in captured.err
    assert "4 failed" in captured.out and f"written to {tmp_path / 'out'}/ (results.csv, manifest.json)" in captured.out
    assert set(_files(tmp_path / "out")) == {"results.csv"}


def test_one_iso_time_is_a_value_not_a_range() -> None:
    assert sweeps.parse_values("security.end", "2021-08-16T00:00:00+04:30") == ["2021-08-16T00:00:00+04:30"]
    assert sweeps.parse_values("security.end", "2021-08-15") == ["2021-08-15"]
    assert sweeps.parse_values("security.end", "14:30:2") == list(range(14, 31, 2))
    assert sweeps.parse_values("security.end", "1:3") == [1, 3]  # a range for --samples
