"""What issue 18's attack found: JSON airlift reads but did not just write is refused naming the
file (exit 2), a resumable command refuses a folder holding another command's output, and the
smaller messages say what they mean."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.analysis.calibration import load_targets
from sim.cli.main import main
from sim.description.errors import ScenarioError
from sim.experiments import executors, replications
from sim.experiments.executors import DaskUnavailable
from sim.outputs.files import read_json

from .conftest import DATA

SMALL = str(DATA / "small.toml")
DEEP = 10_000
TAMPERED = {
    "an array": "[1]",
    "null": "null",
    "truncated": "{",
    "empty": "",
    "deeply nested": "[" * DEEP + "]" * DEEP,
}


@pytest.fixture
def no_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refusals come before anything runs: a simulation would fail the test."""

    def never(*args: object) -> None:
        raise AssertionError("a simulation ran")

    monkeypatch.setattr(replications, "_task", never)
    monkeypatch.setattr(replications, "run_replication", never)


def _refused(argv: list[str], named: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert str(named) in err and "Traceback" not in err and "Error:" not in err, err
    return err


def _targets(tmp_path: Path) -> Path:
    path = tmp_path / "targets.toml"
    path.write_text('[targets]\nevacuated_total = { value = 2900, sd = 300, source = "planted" }\n', encoding="utf-8")
    return path


@pytest.mark.parametrize("variant", list(TAMPERED))
def test_a_tampered_ensemble_sidecar_is_refused_naming_it(
    variant: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_simulation: None
) -> None:
    table = tmp_path / "e.csv"
    table.write_text("gates.abbey.lanes\n4\n5\n", encoding="utf-8")
    (tmp_path / "e.json").write_text(TAMPERED[variant], encoding="utf-8")
    argv = ["run", SMALL, "-n", "2", "--ensemble", str(table), "--no-plots", "--out", str(tmp_path / "out")]
    err = _refused(argv, tmp_path / "e.json", capsys)
    assert "NoneType" not in err and "RecursionError" not in err


@pytest.mark.parametrize("variant", list(TAMPERED))
@pytest.mark.parametrize("command", ["sweep", "sensitivity", "calibrate"])
def test_resume_with_a_tampered_plan_is_refused_naming_it(
    command: str, variant: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_simulation: None
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    plan = out / ("calibration_plan.json" if command == "calibrate" else "manifest.json")
    plan.write_text(TAMPERED[variant], encoding="utf-8")
    two = ["--vary", "security.end=1:2", "--vary", "gates.abbey.lanes=2:6"]
    extra = {
        "sweep": ["--vary", "security.end=1,2", "--no-plots"],
        "sensitivity": [*two, "--samples", "4", "--no-plots"],
        "calibrate": [*two, "--targets", str(_targets(tmp_path))],
    }[command]
    argv = [command, SMALL, *extra, "-n", "2", "--out", str(out), "--resume"]
    _refused(argv, plan, capsys)


def test_resume_of_a_different_sweep_is_still_named_as_such(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_simulation: None
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"a": 1}), encoding="utf-8")
    argv = ["sweep", SMALL, "--vary", "security.end=1,2", "-n", "1", "--no-plots", "--out", str(out), "--resume"]
    assert "this folder holds a different sweep" in _refused(argv, out / "manifest.json", capsys)


def _command(command: str, out: Path, tmp_path: Path) -> list[str]:
    two = ["--vary", "security.end=1:2", "--vary", "gates.abbey.lanes=2:6"]
    return {
        "sweep": ["sweep", SMALL, "--vary", "security.end=1,2", "--no-plots"],
        "sensitivity": ["sensitivity", SMALL, *two, "--samples", "4", "--no-plots"],
        "calibrate": ["calibrate", SMALL, *two, "--targets", str(_targets(tmp_path))],
    }[command] + ["-n", "2", "--out", str(out)]


OTHER_OUTPUT = {
    "sweep": {
        "a run": ["summary.json"],
        "a calibration": ["calibration_plan.json"],
        "a sensitivity analysis": ["sensitivity.csv"],
    },
    "sensitivity": {"a run": ["summary.json", "timeseries.csv"], "a comparison": ["compare.json"]},
    "calibrate": {
        "a run": ["summary.json", "timeseries.csv"],
        "a sweep": ["results.csv", "manifest.json"],
        "a sensitivity analysis": ["sensitivity.csv", "results.csv"],
    },
}


@pytest.mark.parametrize(("command", "what"), [(c, w) for c, kinds in OTHER_OUTPUT.items() for w in kinds])
@pytest.mark.parametrize("resume", [False, True])
def test_a_resumable_command_refuses_a_folder_of_another_command(
    command: str, what: str, resume: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_simulation: None
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for name in OTHER_OUTPUT[command][what]:
        (out / name).write_text("{}", encoding="utf-8")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    before = sorted(p.name for p in out.iterdir())
    err = _refused([*_command(command, out, tmp_path), *(["--resume"] if resume else [])], out, capsys)
    assert f"holds {what}" in err and OTHER_OUTPUT[command][what][0] in err, err
    assert sorted(p.name for p in out.iterdir()) == before


def test_a_users_own_files_do_not_stop_a_sweep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    argv = ["sweep", SMALL, "--vary", "security.end=1,1.5", "-n", "1", "--no-plots", "--out", str(out)]
    assert main(argv) == 0
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine" and (out / "results.csv").is_file()


def test_run_lists_only_the_files_it_wrote_and_no_load_factor_without_departures(tmp_path: Path) -> None:
    out = tmp_path / "r1"
    no_aircraft = ["--set", "fleets.us_c17.count=0", "--set", "fleets.de_a400m.count=0"]
    argv = [sys.executable, "-m", "sim", "run", SMALL, "-n", "1", "--no-plots", *no_aircraft, "--out", str(out)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True)
    lines = done.stdout.strip().splitlines()
    assert lines[-1].strip() == f"written to {out}/ (summary.json, timeseries.csv)"
    assert sorted(p.name for p in out.iterdir()) == ["summary.json", "timeseries.csv"]
    load = next(line for line in lines if "mean load factor" in line)
    assert "n/a" in load and "%" not in load, load
    assert ".png" not in done.stdout


def test_a_truncated_json_names_where_it_stops_in_plain_words(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text('{"sweep": "unfinished', encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        read_json(path)
    assert str(path) in str(caught.value) and "at at" not in str(caught.value)
    assert "Unterminated string starting at (line 1, column 11)" in str(caught.value)


def test_a_tiny_bound_is_shown_in_exponent_form(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[targets]\nevacuated_total = { value = 2900, sd = 0, source = "x" }\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"targets.evacuated_total.sd: Input should be greater than or equal to 1e-150$"):
        load_targets(path)


def test_the_dask_handshake_is_bounded_by_the_one_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    import distributed

    monkeypatch.setattr(distributed, "Client", lambda address, timeout: time.sleep(3 * timeout))
    began = time.monotonic()
    with pytest.raises(DaskUnavailable, match=r"did not complete its handshake within 0.4 s"):
        executors._connect("tcp://127.0.0.1:8786", 0.4)
    assert time.monotonic() - began < 0.7


def test_max_replications_below_n_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], no_simulation: None) -> None:
    out = tmp_path / "out"
    argv = ["run", SMALL, "-n", "2", "--max-replications", "1", "--precision", "0.1", "--no-plots", "--out", str(out)]
    assert main(argv) == 2
    assert "--max-replications: 1 is below -n 2" in capsys.readouterr().err and not out.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["sweep", SMALL, "--vary", "security.end=1,2", "--vary", "security.end=3,4", "--no-plots"],
        ["sensitivity", SMALL, "--vary", "security.end=1:2", "--vary", "security.end=1:3", "--no-plots"],
        ["calibrate", SMALL, "--vary", "security.end=1:2", "--vary", "security.end=1:3", "--vary-only"],
    ],
)
def test_a_repeated_vary_key_is_refused_naming_it(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], no_simulation: None
) -> None:
    if argv[0] == "calibrate":
        argv = [*argv, "--targets", str(_targets(tmp_path))]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert "--vary: security.end: given twice" in capsys.readouterr().err


def test_a_lock_record_nested_deeply_is_taken_over(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (tmp_path / ".out.lock").write_text("[" * DEEP + "]" * DEEP, encoding="utf-8")
    argv = ["sweep", SMALL, "--vary", "security.end=1,1.5", "-n", "1", "--no-plots", "--out", str(out)]
    assert main(argv) == 0 and (out / "results.csv").is_file()


@pytest.mark.parametrize(
    "text",
    [*TAMPERED.values(), "{}", '{"unit": [[0.5]], "screening": {}}', '{"unit": [[0.5, 7]], "screening": {}}', '{"unit": []}'],
)
def test_a_tampered_wave_plan_is_refused_naming_it(text: str, tmp_path: Path) -> None:
    from sim.analysis.calibration import _read_wave_plan

    path = tmp_path / "plan.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=str(path)):
        _read_wave_plan(path, 2)


def test_a_wave_plan_as_airlift_writes_it_is_read(tmp_path: Path) -> None:
    from sim.analysis.calibration import _read_wave_plan

    path = tmp_path / "plan.json"
    path.write_text('{"unit": [[0.25, 0.5], [1, 0]], "screening": {"candidates": 0}}', encoding="utf-8")
    unit, screening = _read_wave_plan(path, 2)
    assert unit.tolist() == [[0.25, 0.5], [1.0, 0.0]] and screening == {"candidates": 0}
    path.write_text('{"unit": [], "screening": {"candidates": 9}}', encoding="utf-8")
    assert _read_wave_plan(path, 2)[0].shape == (0, 2)
