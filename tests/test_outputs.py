"""What ``run`` and ``compare`` write: file modes, Parquet with metadata, compare folders and
tables, and the same commands on Dask."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.cli.compare import compare_folder
from sim.cli.main import build_parser, main
from sim.outputs.files import atomic_write, read_metadata, write_json, write_run


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_files_respect_the_umask(small, tmp_path, umask_022):
    """Written through a temporary file, outputs still get the mode of any new file (0644)."""
    write_run(sim.run(small, replications=1, seed=0), tmp_path / "run", plots=False)
    for name in ("summary.json", "timeseries.csv"):
        assert _mode(tmp_path / "run" / name) == 0o644, name
    os.umask(0o027)
    write_json(tmp_path / "x.json", {"a": 1})
    assert _mode(tmp_path / "x.json") == 0o640
    atomic_write(tmp_path / "b.bin", lambda fh: fh.write(b"1"), binary=True)
    assert _mode(tmp_path / "b.bin") == 0o640


def test_sweep_outputs_respect_the_umask(small_path, tmp_path, umask_022, capsys):
    out = tmp_path / "sw"
    assert main(["sweep", str(small_path), "--vary", "security.end=1.5,2", "-n", "2", "--no-plots", "--out", str(out)]) == 0
    for name in ("manifest.json", "points.csv", "results.csv", "capacity_curve.json"):
        assert _mode(out / name) == 0o644, name


def test_timeseries_as_parquet_carries_scenario_seed_and_version(small, small_path, tmp_path):
    pytest.importorskip("pyarrow")
    out = tmp_path / "pq"
    assert main(["run", str(small_path), "-n", "2", "--seed", "7", "--no-plots", "--format", "parquet", "--out", str(out)]) == 0
    assert not (out / "timeseries.csv").exists()
    ts = pd.read_parquet(out / "timeseries.parquet")
    expected = sim.run(small, replications=2, seed=7).timeseries()
    pd.testing.assert_frame_equal(ts, expected)
    assert isinstance(ts["time"].dtype, pd.DatetimeTZDtype)
    meta = read_metadata(out / "timeseries.parquet")
    assert meta["scenario_name"] == "small" and meta["seed"] == 7 and meta["version"] == sim.__version__
    assert sim.Scenario.model_validate(meta["scenario"]) == small


def test_csv_timeseries_keeps_iso_times_with_the_offset(small_path, tmp_path):
    assert main(["run", str(small_path), "-n", "1", "--no-plots", "--out", str(tmp_path)]) == 0
    first = (tmp_path / "timeseries.csv").read_text().splitlines()[1].split(",")
    assert first[1] == "2021-08-14T00:00:00+04:30"


def _compare(small_path: Path, *extra: str) -> int:
    return main(["compare", str(small_path), "-n", "3", *extra])


def test_compare_folder_is_unique_to_the_comparison(small, small_path):
    """Each --set-b variant gets its own default folder; the same comparison gets the same one."""

    def folder(*argv: str) -> Path:
        args = build_parser().parse_args(["compare", str(small_path), *argv])
        return compare_folder(args, small, small)

    six, eight = folder("--set-b", "gates.abbey.lanes=6"), folder("--set-b", "gates.abbey.lanes=8")
    assert six != eight and six.parent == eight.parent == Path("out")
    assert six.name.startswith("compare-small-small-") and eight.name.startswith("compare-small-small-")
    assert folder("--set-b", "gates.abbey.lanes=6") == six
    assert folder("--set-a", "gates.abbey.lanes=6") not in (six, eight)
    assert folder() not in (six, eight)


def test_compare_says_what_differs_and_writes_tables_and_a_plot(small_path, tmp_path, capsys):
    out = tmp_path / "c"
    assert _compare(small_path, "--set-a", "security.end=1.5", "--set-b", "gates.abbey.lanes=6", "--out", str(out)) == 0
    text = capsys.readouterr().out
    assert "--set-a security.end=1.5" in text and "--set-b gates.abbey.lanes=6" in text
    assert "security.end: 1.5 -> 2.0" in text and "gates.abbey.lanes:" in text
    assert str(small_path) in text
    assert "variance removed by pairing" in text
    table = pd.read_csv(out / "differences.csv", index_col="metric")
    data = json.loads((out / "compare.json").read_text())
    for metric in ("evacuated_total", "stranded_total"):
        for col in ("difference_mean", "ci95_low", "ci95_high", "se_paired", "se_unpaired"):
            assert table.loc[metric, col] == pytest.approx(data["differences"][metric][col], rel=1e-5)
    assert (out / "differences.png").stat().st_size > 0


def test_compare_with_one_replication_prints_na(small_path, tmp_path, capsys):
    assert (
        main(["compare", str(small_path), "-n", "1", "--set-b", "gates.abbey.lanes=6", "--no-plots", "--out", str(tmp_path)]) == 0
    )
    line = next(x for x in capsys.readouterr().out.splitlines() if x.strip().startswith("evacuated_total"))
    assert "n/a" in line
    data = json.loads((tmp_path / "compare.json").read_text())
    assert data["differences"]["evacuated_total"]["ci95_low"] is None


def test_run_with_one_replication_prints_na(small_path, tmp_path, capsys):
    assert main(["run", str(small_path), "-n", "1", "--no-plots", "--out", str(tmp_path)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.strip().startswith("evacuated "))
    assert "n/a" in line and "CI 0" not in line


def test_run_and_compare_on_dask_local(small_path, tmp_path):
    pytest.importorskip("distributed")
    assert main(["run", str(small_path), "-n", "2", "--no-plots", "--out", str(tmp_path / "a")]) == 0
    assert (
        main(["run", str(small_path), "-n", "2", "--no-plots", "--dask", "local", "--workers", "1", "--out", str(tmp_path / "b")])
        == 0
    )
    a, b = (json.loads((tmp_path / d / "summary.json").read_text(encoding="utf-8")) for d in "ab")
    assert a.pop("command") != b.pop("command")  # the recorded command line differs, nothing else
    assert a == b
    code = main(
        ["compare", str(small_path), "-n", "2", "--no-plots", "--dask", "local", "--workers", "1", "--out", str(tmp_path / "c")]
    )
    assert code == 0 and (tmp_path / "c" / "compare.json").exists()


def test_sweep_points_as_parquet(small_path, tmp_path, capsys):
    pytest.importorskip("pyarrow")
    out = tmp_path / "sw"
    argv = [
        "sweep",
        str(small_path),
        "--vary",
        "security.end=1.5,2",
        "-n",
        "2",
        "--no-plots",
        "--format",
        "parquet",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    points = pd.read_parquet(out / "points.parquet")
    assert set(points["metric"]) == {"evacuated_total", "stranded_total"} and len(points) == 4
    meta = read_metadata(out / "points.parquet")
    assert meta["seed"] == 0 and meta["version"] == sim.__version__ and meta["scenario"]["name"] == "small"
