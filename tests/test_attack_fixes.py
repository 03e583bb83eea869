"""What issue 18's attack found: JSON airlift reads but did not just write is refused naming the
file (exit 2), a resumable command refuses a folder holding another command's output, and the
smaller messages say what they mean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli.main import main
from sim.experiments import replications

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
