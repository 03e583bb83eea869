"""Numbers, files and paths that are refused, not obeyed: exit 2, one message, nothing written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.cli.main import main
from sim.description.errors import ScenarioError
from sim.description.loading import slug
from sim.experiments import replications as experiment
from sim.experiments import sweeps

from .conftest import ROOT


def exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as e:  # argparse errors
        return int(e.code or 0)


@pytest.mark.parametrize(
    ("setting", "field"),
    [
        ("security.end=nan", "security.end"),
        ("security.end=inf", "security.end"),
        ("security.end=1e300", "security.end"),
        ("security.end=400", "security.end"),
        ("disruptions.0.start=nan", "disruptions.0.start"),
        ("disruptions.0.start=5000", "disruptions.0.start"),
        ("cohorts.afghans.arrival.profile=[[nan, 1.0]]", "cohorts.afghans.arrival.profile.0.0"),
        ("cohorts.afghans.arrival.profile=[[0, inf]]", "cohorts.afghans.arrival.profile.0.1"),
        ("security.gate_close_lead_hours=inf", "security.gate_close_lead_hours"),
        ("gates.abbey.screening_cv=inf", "gates.abbey.screening_cv"),
        ("bases.qatar.flight_hours=inf", "bases.qatar.flight_hours"),
        ("gates.abbey.weight=inf", "gates.abbey.weight"),
        ("cohorts.afghans.patience.mean_hours=inf", "cohorts.afghans.patience.mean_hours"),
        ("fleets.us_c17.count_schedule=[{from = 1, value = 1e12}]", "fleets.us_c17.count_schedule.0.value"),
        ("fleets.us_c17.count_schedule=[{from = 1, value = inf}]", "fleets.us_c17.count_schedule.0.value"),
        ("fleets.us_c17.count_schedule=[{from = 1, value = 2.5}]", "fleets.us_c17.count_schedule.0.value"),
        ("cohorts.afghans.people=1000000000000000000000000000000", "cohorts.afghans.people"),
        ("cohorts.afghans.group_size.mean=1e19", "cohorts.afghans.group_size.mean"),
        ("cohorts.afghans.group_size.mean=inf", "cohorts.afghans.group_size.mean"),
        ("fleets.us_c17.crews_per_aircraft=1000000000000", "fleets.us_c17.crews_per_aircraft"),
        ("disruptions.0.value=inf", "disruptions.0.value"),
        ("gates.abbey.lanes=true", "gates.abbey.lanes"),
    ],
)
def test_absurd_numbers_are_exit_2_naming_the_key(small_path, tmp_path, capsys, setting, field):
    out = tmp_path / "o"
    assert main(["run", str(small_path), "-n", "1", "--no-plots", "--set", setting, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f": {field}: " in err and str(small_path) in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_an_out_of_range_number_of_days_is_never_read_as_a_date(small):
    with pytest.raises(ScenarioError) as e:
        small.with_overrides({"disruptions.0.start": 5000})
    assert e.value.problems == [("disruptions.0.start", "Input should be less than or equal to 3660 (got 5000)")]


def test_huge_integers_in_a_file_are_refused_with_a_short_message(small_path, tmp_path, capsys):
    text = small_path.read_text(encoding="utf-8").replace("capacity_people = 3000", "capacity_people = 1" + "0" * 400)
    f = tmp_path / "huge.toml"
    f.write_text(text, encoding="utf-8")
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    problem, *pointer = err.splitlines()
    assert "bases.qatar.capacity_people: Input should be less than or equal to 10000000" in problem
    assert len(problem) < 300 and len(pointer) == 1  # the error, then where the guide is


def test_a_fleet_that_only_flies_later_still_needs_a_spot(small):
    with pytest.raises(ScenarioError) as e:
        small.with_overrides(
            {"ramp.spots.medium": 0, "fleets.de_a400m.count": 0, "fleets.de_a400m.count_schedule": [{"from": 1, "value": 1}]}
        )
    assert e.value.problems[0][0] == "ramp.spots.medium" and "count_schedule" in e.value.problems[0][1]
    small.with_overrides({"ramp.spots.medium": 0, "fleets.de_a400m.count": 0})  # never flies: no spot needed


@pytest.mark.parametrize(
    "vary",
    [
        ["security.end=nan,2"],
        ["security.end=1:inf:1"],
        ["security.end=0:1e12:1"],
        ["security.end=1:2:0.001", "gates.abbey.lanes=1:2000:1"],
    ],
)
def test_absurd_sweep_values_are_refused_before_anything_is_written(small_path, tmp_path, capsys, vary):
    out = tmp_path / "o"
    argv = ["sweep", str(small_path), *(x for v in vary for x in ("--vary", v)), "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert ("security.end" in err or "points" in err) and "Traceback" not in err
    assert not out.exists()
    if len(vary) == 1:
        assert main(["sweep", str(small_path), "--vary", "security.end=1:3", "--samples", "10000000", "--out", str(out)]) == 2
        assert "at most 1,000,000" in capsys.readouterr().err


# -- files ------------------------------------------------------------------------------------


def test_a_latin_1_file_is_named_as_not_utf_8(small_path, tmp_path, capsys):
    f = tmp_path / "latin.toml"
    f.write_bytes(small_path.read_text(encoding="utf-8").replace('name = "small"', 'name = "Kaboul à pied"').encode("latin-1"))
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert str(f) in err and "not UTF-8" in err and "line 2" in err
    sweep = tmp_path / "sweep.toml"
    sweep.write_bytes('scenario = "latin.toml"\ndescription = "é"\n[vary]\n"security.end" = [1]\n'.encode("latin-1"))
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "o")]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_a_byte_order_mark_is_accepted(small_path, tmp_path):
    f = tmp_path / "bom.toml"
    f.write_bytes(b"\xef\xbb\xbf" + small_path.read_bytes())
    assert sim.load_scenario(f).name == "small"
    sweep = tmp_path / "sweep.toml"
    sweep.write_bytes(b"\xef\xbb\xbf" + f'scenario = "{f}"\n[vary]\n"security.end" = [1]\n'.encode())
    assert sweeps.load_sweep_file(sweep).vary == {"security.end": [1]}


def test_extends_pointing_at_a_folder_names_the_file_and_extends(tmp_path):
    (tmp_path / "base").mkdir()
    f = tmp_path / "child.toml"
    f.write_text('extends = "base"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        sim.load_scenario(f)
    assert e.value.source == str(f) and e.value.problems[0][0] == "extends" and "not a file" in str(e.value)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("seed = true", "seed"),
        ("seed = -1", "seed"),
        ("replications = 1000000000", "replications"),
        ('metrics = "evacuated_total"', "metrics"),
    ],
)
def test_bad_sweep_file_values(small_path, tmp_path, text, field):
    f = tmp_path / "sweep.toml"
    f.write_text(f'scenario = "{small_path}"\n{text}\n[vary]\n"security.end" = [1]\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        sweeps.load_sweep_file(f)
    assert e.value.problems[0][0] == field


def test_a_sweep_file_whose_scenario_is_missing_names_itself(tmp_path):
    f = tmp_path / "sweep.toml"
    f.write_text('scenario = "nowhere.toml"\n[vary]\n"security.end" = [1]\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        sweeps.load_sweep_file(f)
    assert e.value.source == str(f) and e.value.problems[0][0] == "scenario" and "nowhere.toml" in str(e.value)


def test_a_bad_vary_value_in_a_sweep_file_is_named(small_path, tmp_path):
    f = tmp_path / "sweep.toml"
    f.write_text(f'scenario = "{small_path}"\n[vary]\n"security.end" = 5\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        sweeps.load_sweep_file(f)
    assert e.value.problems == [("vary.security.end", 'expected a list of values or a "START:STOP:STEP" string')]


# -- paths and arguments ----------------------------------------------------------------------


def test_a_negative_seed_is_exit_2(small_path, capsys):
    assert exit_code(["run", str(small_path), "--seed", "-1"]) == 2
    assert "--seed" in capsys.readouterr().err


def test_a_scenario_name_never_escapes_the_output_folder(small_path, tmp_path):
    assert slug("../../escaped_out") == "escaped_out"
    assert slug("..") == "scenario" and slug("a/b c") == "a_b_c"
    f = tmp_path / "esc.toml"
    f.write_text(small_path.read_text(encoding="utf-8").replace('name = "small"', 'name = "../../escaped_out"'))
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    done = subprocess.run([sys.executable, "-m", "sim", "run", str(f), "-n", "1", "--no-plots"], cwd=work, capture_output=True)
    assert done.returncode == 0, done.stderr
    assert (work / "out" / "escaped_out" / "summary.json").exists()
    assert not (tmp_path / "escaped_out").exists()


def test_an_unusable_out_is_refused_before_running(small_path, tmp_path, capsys, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("ran a simulation")

    monkeypatch.setattr(experiment, "run", never)
    monkeypatch.setattr(experiment, "compare", never)
    monkeypatch.setattr(sweeps, "run_sweep", never)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for argv in (
        ["run", str(small_path), "--out", str(a_file)],
        ["run", str(small_path), "--out", str(a_file / "below")],
        ["compare", str(small_path), "--out", str(a_file)],
        ["sweep", str(small_path), "--vary", "security.end=1,2", "--out", str(a_file)],
    ):
        assert main(argv) == 2
        assert "--out" in capsys.readouterr().err
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        try:
            assert main(["run", str(small_path), "--out", str(locked / "o")]) == 2
            assert "cannot write" in capsys.readouterr().err
        finally:
            locked.chmod(0o700)


# -- sweeps: resume and killed parents --------------------------------------------------------


def test_resume_drops_rows_that_do_not_belong_to_the_sweep(small_path, tmp_path):
    spec = sweeps.SweepSpec(str(small_path), {"gates.abbey.lanes": [2, 3]}, replications=2, seed=4)
    sweeps.run_sweep(spec, tmp_path)
    whole = pd.read_csv(tmp_path / "results.csv")
    results = tmp_path / "results.csv"
    lines = results.read_text().splitlines(keepends=True)
    wrong_seed = lines[2].split(",")
    wrong_seed[3] = "5"
    wrong_value = lines[3].split(",")
    wrong_value[1] = "9"
    results.write_text("".join([lines[0], lines[1], "7,3,1\n", ",".join(wrong_seed), ",".join(wrong_value), lines[1]]))
    res = sweeps.run_sweep(spec, tmp_path, resume=True)
    assert res.skipped == 1 and res.ran == 3
    table = res.table
    assert len(table) == 4 and not table.duplicated(["point", "replication"]).any()
    pd.testing.assert_frame_equal(table, whole.sort_values(["point", "replication"]).reset_index(drop=True))


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_pool_workers_end_when_the_sweep_is_killed(small_path, tmp_path):
    out = tmp_path / "o"
    argv = ["sweep", str(small_path), "--vary", "gates.abbey.lanes=1,2,3", "-n", "30", "--workers", "2", "--no-plots"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *argv, "--out", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if (out / "results.csv").exists() and (out / "results.csv").read_text().count("\n") > 2:
                break
            time.sleep(0.05)
        helpers = _descendants(proc.pid)
        assert helpers, "the pool started no processes"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(map(_running, helpers)):
        time.sleep(0.1)
    left = [p for p in helpers if _running(p)]
    for p in left:  # do not leave them behind if the test fails
        os.kill(p, signal.SIGKILL)
    assert not left
