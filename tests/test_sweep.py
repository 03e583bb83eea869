"""Sweeps: value parsing, Latin hypercubes, executors, resume after a kill, failing tasks, CI sweep."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.cli.main import main
from sim.description.errors import ScenarioError
from sim.experiments import sweeps
from sim.experiments import tasks as sim_tasks
from sim.experiments.replications import ReplicationResult

from .conftest import ROOT


def test_parse_values():
    assert sweeps.parse_values("security.end", "14:30:2") == list(range(14, 31, 2))
    assert sweeps.parse_values("x", "0.5:1.5:0.5") == [0.5, 1.0, 1.5]
    assert sweeps.parse_values("x", "1,2.5,3") == [1, 2.5, 3]
    assert sweeps.parse_values("name", "a,b") == ["a", "b"]
    assert sweeps.parse_values("x", "2:8") == [2, 8]
    with pytest.raises(ScenarioError):
        sweeps.parse_values("x", "5:1:1")
    assert sweeps.parse_vary(["a.b=1,2", "c=3:5:1"]) == {"a.b": [1, 2], "c": [3, 4, 5]}


def test_latin_hypercube_covers_every_stratum_once():
    pts = sweeps.latin_hypercube({"a": [0.0, 10.0], "b": [100.0, 200.0]}, samples=8, seed=3)
    assert len(pts) == 8
    for key, (lo, hi) in (("a", (0, 10)), ("b", (100, 200))):
        strata = sorted(int((p[key] - lo) / (hi - lo) * 8) for p in pts)
        assert strata == list(range(8))
    assert pts == sweeps.latin_hypercube({"a": [0.0, 10.0], "b": [100.0, 200.0]}, samples=8, seed=3)
    assert pts != sweeps.latin_hypercube({"a": [0.0, 10.0], "b": [100.0, 200.0]}, samples=8, seed=4)
    ints = sweeps.latin_hypercube({"n": [1, 9]}, samples=4, seed=0)
    assert all(type(p["n"]) is int and 1 <= p["n"] <= 9 for p in ints)


def test_a_latin_hypercube_sweep_draws_its_points_from_the_sweep_seed(small_path):
    def points(seed):
        return sweeps.SweepSpec(str(small_path), {"security.end": [1.0, 3.0]}, samples=6, seed=seed).points()

    assert points(1) == points(1) and points(1) != points(2)


def spec(small_path, **kw):
    return sweeps.SweepSpec(
        str(small_path), {"security.end": [1.0, 1.5, 2.0], "gates.abbey.lanes": [2, 4]}, replications=2, seed=4, **kw
    )


def sorted_table(path):
    return pd.read_csv(path / "results.csv").sort_values(["point", "replication"]).reset_index(drop=True)


@pytest.mark.slow
def test_serial_pool_and_dask_give_identical_tables(small_path, tmp_path):
    sweeps.run_sweep(spec(small_path), tmp_path / "serial")
    with sweeps.make_executor(workers=2) as ex:
        sweeps.run_sweep(spec(small_path), tmp_path / "pool", executor=ex)
    with sweeps.make_executor(workers=2, dask="local") as ex:
        sweeps.run_sweep(spec(small_path), tmp_path / "dask", executor=ex)
    serial = sorted_table(tmp_path / "serial")
    assert len(serial) == 6 * 2
    pd.testing.assert_frame_equal(serial, sorted_table(tmp_path / "pool"))
    pd.testing.assert_frame_equal(serial, sorted_table(tmp_path / "dask"))
    # every row carries its point's values, its replication and the seed
    assert set(serial["security.end"]) == {1.0, 1.5, 2.0} and set(serial["seed"]) == {4}


def test_replication_r_is_paired_across_points(small_path, tmp_path):
    sweeps.run_sweep(spec(small_path), tmp_path)
    df = sorted_table(tmp_path)
    alone = sim.run_replication(sim.load_scenario(small_path, {"security.end": 1.5, "gates.abbey.lanes": 4}), 4, 1)
    row = df[(df["security.end"] == 1.5) & (df["gates.abbey.lanes"] == 4) & (df["replication"] == 1)].iloc[0]
    assert row["evacuated_total"] == alone.metrics["evacuated_total"]


@pytest.mark.slow
def test_resume_after_kill_gives_complete_duplicate_free_table(small_path, tmp_path):
    args = [
        "sweep",
        str(small_path),
        "--vary",
        "security.end=0.5:2.5:0.25",
        "--vary",
        "gates.abbey.lanes=1,2,3",
        "-n",
        "6",
        "--seed",
        "1",
        "--no-plots",
    ]
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *args, "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        results = out / "results.csv"
        if results.exists() and results.read_text().count("\n") > 30:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = (out / "results.csv").read_text().count("\n") - 1
    assert 0 < partial < 9 * 3 * 6
    assert main([*args, "--out", str(out), "--resume"]) == 0
    assert main([*args, "--out", str(tmp_path / "whole")]) == 0
    resumed, whole = sorted_table(out), sorted_table(tmp_path / "whole")
    assert not resumed.duplicated(["point", "replication"]).any()
    pd.testing.assert_frame_equal(resumed, whole)


def test_resume_refuses_a_different_sweep(small_path, tmp_path):
    sweeps.run_sweep(spec(small_path), tmp_path)
    other = sweeps.SweepSpec(str(small_path), {"security.end": [1.0]}, replications=2, seed=4)
    with pytest.raises(ScenarioError, match="different sweep"):
        sweeps.run_sweep(other, tmp_path, resume=True)
    with pytest.raises(ScenarioError, match="--resume"):
        sweeps.run_sweep(spec(small_path), tmp_path)


def test_resume_knows_the_same_sweep_by_a_relative_or_an_absolute_path(small_path, tmp_path):
    sweeps.run_sweep(spec(small_path.resolve()), tmp_path / "s")
    relative = spec(Path(os.path.relpath(small_path.resolve())))
    assert not Path(relative.scenario_path).is_absolute()
    sweeps.run_sweep(relative, tmp_path / "s", resume=True)  # the same sweep: nothing to refuse
    with pytest.raises(ScenarioError, match="different sweep"):
        sweeps.run_sweep(sweeps.SweepSpec(str(small_path), relative.vary, replications=2, seed=5), tmp_path / "s", resume=True)


def test_a_failing_task_is_reported_and_the_rest_goes_on(small_path, tmp_path, monkeypatch, capsys):
    real = sweeps._point_task

    def flaky(args):
        base, point, seed, replication = args
        if point["gates.abbey.lanes"] == 4 and replication == 1:
            raise RuntimeError("boom")
        return real(args)

    monkeypatch.setattr(sweeps, "_point_task", flaky)
    argv = ["sweep", str(small_path), "--vary", "gates.abbey.lanes=2,4", "-n", "2", "--no-plots", "--out", str(tmp_path)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "task failed: point 1 {'gates.abbey.lanes': 4} replication 1: RuntimeError: boom" in err
    assert len(sorted_table(tmp_path)) == 3
    monkeypatch.setattr(sweeps, "_point_task", real)
    assert main([*argv, "--resume"]) == 0
    assert len(sorted_table(tmp_path)) == 4


def test_bad_point_is_a_clear_input_error(small_path, tmp_path, capsys):
    code = main(["sweep", str(small_path), "--vary", "gates.abbey.lanes=2,-1", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "gates.abbey.lanes" in err and "sweep point 1" in err
    assert not (tmp_path / "o").exists()


def test_sweep_file_and_its_errors(tmp_path, capsys):
    bad = tmp_path / "s.toml"
    bad.write_text('scenario = "x.toml"\nreplicatons = 3\n[vary]\n"security.end" = [1]\n')
    assert main(["sweep", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "replicatons" in err and "unknown key" in err
    spec_ = sweeps.load_sweep_file(ROOT / "scenarios" / "sweeps" / "security_window.toml")
    assert spec_.vary["security.end"] == list(range(14, 29)) and spec_.replications == 10


def test_a_sweep_file_is_checked_field_by_field(small_path, tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(f'scenario = "{small_path}"\nsamples = 0\nset = 3\ndescription = 5\nmetrics = [1]\n[vary]\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        sweeps.load_sweep_file(f)
    assert e.value.source == str(f)
    assert dict(e.value.problems) == {
        "vary": "missing: a table of dotted keys and their values",
        "samples": "must be a whole number from 1 to 100,000",
        "set": "must be a table of dotted keys and values",
        "metrics": "must be a list of metric names (see `airlift metrics`)",
        "description": "must be a string",
    }
    f.write_text(f'scenario = "{small_path}"\n[vary]\n"security.end" = []\n"gates.abbey.lanes" = "2,4"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        sweeps.load_sweep_file(f)
    assert e.value.problems == [("vary.security.end", 'expected a list of values or a "START:STOP:STEP" string')]
    f.write_text(f'scenario = "{small_path}"\nseed = 3\n[vary]\n"gates.abbey.lanes" = "2:6:2"\n', encoding="utf-8")
    spec = sweeps.load_sweep_file(f)
    assert (spec.vary, spec.seed, spec.replications, spec.metrics) == (
        {"gates.abbey.lanes": [2, 4, 6]},
        3,
        5,
        ["evacuated_total", "stranded_total"],
    )


def test_latin_hypercube_sweep_from_the_cli(small_path, tmp_path):
    out = tmp_path / "lhs"
    argv = [
        "sweep",
        str(small_path),
        "--vary",
        "security.end=1:3",
        "--vary",
        "airfield.holding_capacity_people=200:900",
        "--samples",
        "5",
        "-n",
        "1",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 5 and df["point"].nunique() == 5
    assert np.all((df["security.end"] >= 1) & (df["security.end"] <= 3))
    cap = df["airfield.holding_capacity_people"]
    assert (cap == cap.round()).all() and cap.between(200, 900).all()
    assert (out / "evacuated_total_scatter.png").exists()  # sampled points are no grid


@pytest.mark.slow
def test_ci_sweep_longer_window_never_strands_more(tmp_path, capsys):
    """The small sweep CI runs: stranded people never increase with a longer security window."""
    out = tmp_path / "ci"
    assert main(["sweep", str(ROOT / "scenarios" / "sweeps" / "ci_security_window.toml"), "--out", str(out)]) == 0
    assert "capacity curve of evacuated_total against security.end" in capsys.readouterr().out
    means = pd.read_csv(out / "results.csv").groupby("security.end")["stranded_total"].mean().sort_index()
    assert means.is_monotonic_decreasing, means
    assert (out / "stranded_by_cohort_vs_security.end.png").stat().st_size > 10_000


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios" / "sweeps").glob("*.toml")), ids=lambda p: p.stem)
def test_bundled_sweep_files_load_and_every_point_validates(path):
    spec_ = sweeps.load_sweep_file(path)
    points = spec_.points()
    assert points and spec_.replications >= 1
    base = sim.load_scenario(spec_.scenario_path, spec_.set or None)
    for p in points:
        base.with_overrides(p)  # raises ScenarioError naming the field if a point is invalid


def test_sweep_tasks_skip_only_the_declared_ranges_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Points are checked whole before a sweep runs; a task re-validates its scenario but not the
    [uncertain] table's ranges (two extra validations each, and no part in the run)."""
    import sim.description.scenario as scenario_module

    kabul = sim.load_scenario()
    assert kabul.uncertain
    calls: list[str] = []
    real = scenario_module._check_uncertain

    def spy(s: sim.Scenario, src: str) -> None:
        if s.uncertain:  # its probes validate scenarios without the table
            calls.append(src)
        real(s, src)

    monkeypatch.setattr(scenario_module, "_check_uncertain", spy)
    kabul.with_overrides({"gates.abbey.lanes": 5})
    assert len(calls) == 1
    lanes = kabul.with_overrides({"gates.abbey.lanes": 5}, check_uncertain=False)
    assert len(calls) == 1 and lanes.gates["abbey"].lanes == 5
    with pytest.raises(ScenarioError, match="gates.abbey.lanes"):
        kabul.with_overrides({"gates.abbey.lanes": -1}, check_uncertain=False)  # the scenario itself is still checked
    monkeypatch.setattr(
        sweeps, "run_replication", lambda s, seed, r: ReplicationResult({"lanes": s.gates["abbey"].lanes}, (), {})
    )
    assert sweeps._point_task((kabul, {"gates.abbey.lanes": 7}, 0, 0)) == {"lanes": 7}
    assert len(calls) == 1


@pytest.mark.slow
def test_two_resumes_of_one_folder_at_once_never_both_append(small_path, tmp_path):
    """The second of two simultaneous resumes (here through the Python API, which the command line
    wraps) is refused at once; the first completes the table, each task exactly once."""
    out = tmp_path / "shared"
    code = (
        "import sys, time\n"
        "from sim.description.errors import ScenarioError\n"
        "from sim.experiments import sweeps\n"
        "task = sweeps._point_task\n"  # each task a little slower, so that the first is surely still running
        "sweeps._point_task = lambda args: (time.sleep(0.05), task(args))[1]\n"
        f"spec = sweeps.SweepSpec({str(small_path)!r}, {{'security.end': [1.0, 1.5, 2.0], 'gates.abbey.lanes': [1, 2, 3, 4]}},"
        " replications=11, seed=2)\n"
        "try:\n"
        f"    sweeps.run_sweep(spec, {str(out)!r}, resume=True)\n"
        "except ScenarioError as e:\n"
        "    print(e, file=sys.stderr)\n"
        "    sys.exit(2)\n"
    )
    first = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and first.poll() is None:
        results = out / "results.csv"
        if results.exists() and results.read_text().count("\n") > 3:
            break
        time.sleep(0.02)
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    _, first_err = first.communicate(timeout=120)
    assert first.returncode == 0, first_err
    assert second.returncode == 2 and "in use by another airlift process" in second.stderr, second.stderr
    table = sorted_table(out)
    assert len(table) == 12 * 11 and not table.duplicated(["point", "replication"]).any()


# -- what a captured sweep prints ------------------------------------------------------------------


def test_captured_output_holds_no_progress_bar(small_path, tmp_path):
    """stdout and stderr into one pipe (a log, a CI job): no bar, no carriage return, the summary
    header starts its own line."""
    argv = ["sweep", str(small_path), "--vary", "security.end=1,1.5", "-n", "1", "--no-plots", "--out", str(tmp_path / "o")]
    done = subprocess.run(
        [sys.executable, "-m", "sim", *argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout
    assert "\r" not in done.stdout and "%|" not in done.stdout, done.stdout
    assert done.stdout.startswith("sweep over security.end: 2 points x 1 replications"), done.stdout


class _Stream(io.StringIO):
    def __init__(self, terminal: bool):
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


@pytest.mark.parametrize("terminal", [True, False])
def test_a_progress_bar_shows_only_on_a_terminal(monkeypatch, terminal):
    from sim.cli.printing import Progress

    stream = _Stream(terminal)
    monkeypatch.setattr(sys, "stderr", stream)
    with Progress("replications", "rep", leave=False) as bar:
        bar.start(3)
        bar.update(3)
    assert ("replications" in stream.getvalue()) is terminal


# -- tasks that never ran --------------------------------------------------------------------------


def test_cancelled_sweep_tasks_are_not_run_not_failed_and_a_resume_runs_them(small_path, tmp_path, monkeypatch, capsys):
    import contextlib

    from sim.experiments import executors
    from tests.test_tasks import CancellingExecutor

    cancelling = CancellingExecutor(lambda args: args[3] == 1)  # replication 1 of every point: (base, point, seed, r)
    monkeypatch.setattr(executors, "make_executor", lambda workers, dask: contextlib.nullcontext(cancelling))
    argv = ["sweep", str(small_path), "--vary", "gates.abbey.lanes=2,4", "-n", "2", "--no-plots", "--out", str(tmp_path)]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "task failed" not in captured.err
    assert "2 tasks run, 0 already done, 0 failed, 2 not run (cancelled: run the same command with --resume" in captured.out
    assert sorted_table(tmp_path)["replication"].tolist() == [0, 0]
    monkeypatch.undo()
    result = sweeps.run_sweep(
        sweeps.SweepSpec(str(small_path), {"gates.abbey.lanes": [2, 4]}, replications=2), tmp_path, resume=True
    )
    assert (result.ran, result.skipped, result.not_run, result.failures) == (2, 2, 0, [])
    assert sorted_table(tmp_path)[["point", "replication"]].values.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    half = sweeps.run_sweep(sweeps.SweepSpec(str(small_path), {"gates.abbey.lanes": [2]}), tmp_path / "api", executor=cancelling)
    with pytest.raises(sim_tasks.TasksNotRun, match=r"1 of 5 sweep task\(s\) did not run"):
        half.raise_failures()


@pytest.mark.slow
def test_ctrl_c_on_a_pool_ends_at_once_and_a_resume_runs_every_task_left_once(small_path, tmp_path):
    """Ctrl-C at a terminal reaches the sweep and its worker processes: the tasks cut short are not
    failures and leave no row; --resume runs each of them, and only them."""
    import os

    out = tmp_path / "interrupted"
    argv = ["sweep", str(small_path), "--vary", "security.end=0.5:2.5:0.25", "--vary", "gates.abbey.lanes=1,2,3", "-n", "30"]
    argv += ["--no-plots", "--workers", "2", "--out", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if (out / "results.csv").exists() and (out / "results.csv").read_text().count("\n") > 20:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)
    printed, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "task failed" not in printed, printed
    assert printed.strip().endswith("interrupted: run the same command with --resume to finish"), printed
    partial = sorted_table(out)
    assert 0 < len(partial) < 27 * 30
    assert main([*argv, "--resume"]) == 0
    table = sorted_table(out)
    assert len(table) == 27 * 30 and not table.duplicated(["point", "replication"]).any()
