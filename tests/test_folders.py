"""Output folders are whole or absent, held by one writer, and cleaned of what killed writers left.

The folder cases run the real program (``python -m sim``) on the small scenario: a rerun replaces
the whole folder, two writers of one folder (run, sweep, --resume, calibrate, sensitivity,
report) never both go ahead, a full disk is one line, and a run killed at a random moment leaves
the previous folder or none (a Hypothesis property).
"""

from __future__ import annotations

import errno
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli.main import main
from sim.description.errors import ScenarioError
from sim.outputs.files import atomic_write
from sim.outputs.folders import OutputError, check_seal, claim_folder, remove_leftovers, replacing, seal
from sim.outputs.locks import FolderBusy, Holder, hold, lock_path
from sim.report.inputs import read_run
from tests.conftest import DATA, ROOT

SMALL = str(DATA / "small.toml")
HOLD = """
import sys, time
from pathlib import Path
from sim.outputs.locks import hold
with hold(Path(sys.argv[1]), "airlift sweep --resume (test holder)"):
    print("held", flush=True)
    time.sleep(600)
"""


def airlift(*argv: str | Path, limit_bytes: int | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m sim ARGV`` run to its end (files it writes limited to ``limit_bytes`` each, if given)."""

    def limit() -> None:
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    command = [sys.executable, "-m", "sim", *map(str, argv)]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600, preexec_fn=limit)


def start(*argv: str | Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "sim", *map(str, argv)]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition: object, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@contextmanager
def held_by_another_process(folder: Path) -> Iterator[subprocess.Popen[str]]:
    """A separate process holding ``folder``'s lock until the block ends (it is then killed)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.kill()
        proc.communicate()


def _one_line_error(stderr: str) -> str:
    """The one line of an error (progress bars aside: they redraw with carriage returns)."""
    lines = [line for line in re.split(r"[\r\n]", stderr) if line.strip() and "%|" not in line]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


# -- the lock ------------------------------------------------------------------------------------


def test_a_second_holder_is_refused_naming_the_folder_and_the_holder(tmp_path: Path) -> None:
    out = tmp_path / "o"
    with held_by_another_process(out) as proc:
        with pytest.raises(FolderBusy) as refused:
            with hold(out, "airlift run"):
                pass
    text = str(refused.value)
    assert str(out) in text and f"pid {proc.pid} on {socket.gethostname()}" in text
    assert "(test holder)" in text and "started 20" in text and "choose another --out" in text
    assert not out.exists(), "nothing was created"


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    out = tmp_path / "o"
    with held_by_another_process(out) as proc:
        pass  # killed with SIGKILL: its lock file stays behind
    assert proc.returncode == -signal.SIGKILL and lock_path(out).is_file()
    with hold(out, "airlift run") as previous:
        assert previous is not None and previous.pid == proc.pid and previous.is_stale()
        mine = json.loads(lock_path(out).read_text(encoding="utf-8"))
        assert mine["pid"] == os.getpid() and mine["command"] == "airlift run"
    assert not lock_path(out).exists(), "released: the lock file is removed"


def test_a_holder_is_stale_when_its_pid_is_gone_or_belongs_to_a_later_process() -> None:
    me = Holder.me("test")
    assert not me.is_stale()
    assert Holder(_finished_pid(), me.host, "x", me.started, me.boot, None).is_stale()
    if me.ticks is not None:  # Linux: the same pid started at another time is another process
        assert Holder(me.pid, me.host, "x", me.started, me.boot, me.ticks + 1).is_stale()
        assert Holder(me.pid, me.host, "x", me.started, "another boot", me.ticks).is_stale()
    assert not Holder(_finished_pid(), "another-host", "x", me.started).is_stale(), "never known to be gone elsewhere"


def _finished_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_without_kernel_locks_the_record_decides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a filesystem without flock, a record of a live process refuses, one of a dead one is taken over."""
    from sim.outputs import locks

    monkeypatch.setattr(locks, "_flock", lambda fd: False)
    out = tmp_path / "o"
    parent = Holder(os.getppid(), socket.gethostname(), "airlift sweep", "2026-01-01T00:00:00+00:00", locks._boot_id())
    lock_path(out).write_text(json.dumps(parent.__dict__ | {"ticks": locks._start_ticks(os.getppid())}), encoding="utf-8")
    with pytest.raises(FolderBusy, match=f"pid {os.getppid()}"):
        with hold(out, "airlift run"):
            pass
    dead = parent.__dict__ | {"pid": _finished_pid()}
    lock_path(out).write_text(json.dumps(dead), encoding="utf-8")
    with hold(out, "airlift run") as previous:
        assert previous is not None and previous.pid == dead["pid"]


def test_one_process_may_hold_its_folder_twice(tmp_path: Path) -> None:
    out = tmp_path / "o"
    with hold(out, "airlift run"), hold(out, "airlift report"):
        assert lock_path(out).is_file()
    assert not lock_path(out).exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["run", SMALL, "-n", "1", "--no-plots"],
        ["compare", SMALL, "-n", "1", "--no-plots"],
        ["sweep", SMALL, "--vary", "security.end=1.5,2", "-n", "1", "--no-plots", "--resume"],
        ["sensitivity", SMALL, "--resume", "--no-plots"],
        ["calibrate", "--resume"],
        ["report"],
    ],
    ids=lambda argv: argv[0],
)
def test_every_writer_is_refused_while_another_process_holds_the_folder(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o"
    out.mkdir()
    with held_by_another_process(out) as proc:
        started = time.monotonic()
        code = main([*argv, str(out)] if argv == ["report"] else [*argv, "--out", str(out)])
        seconds = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 2 and f"{out}: in use by another airlift process (pid {proc.pid} on" in err
    assert seconds < 30, "refused at once, before anything runs"
    assert list(out.iterdir()) == []


# -- replacing a folder whole ---------------------------------------------------------------------


def test_a_folder_is_replaced_whole_or_left_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "summary.json").write_text("{}", encoding="utf-8")
    (out / "old_plot.png").write_bytes(b"old")
    with pytest.raises(RuntimeError), replacing(out) as stage:
        (stage / "summary.json").write_text('{"new": 1}', encoding="utf-8")
        raise RuntimeError("killed half-way")
    assert sorted(p.name for p in out.iterdir()) == ["old_plot.png", "summary.json"]
    assert (out / "summary.json").read_text(encoding="utf-8") == "{}"
    with replacing(out) as stage:
        (stage / "summary.json").write_text('{"new": 1}', encoding="utf-8")
    assert [p.name for p in out.iterdir()] == ["summary.json"], "the old plot did not survive"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"], "nothing is left beside it"


def test_a_new_folder_gets_the_mode_of_any_new_folder(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        with replacing(tmp_path / "o") as stage:
            (stage / "x.png").write_bytes(b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "o").stat().st_mode & 0o777 == 0o750


def test_a_folder_with_files_a_run_does_not_write_is_never_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"holds files a run does not write \(notes.txt\)"):
        with replacing(out):
            pass
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    empty = tmp_path / "here"
    empty.mkdir()
    monkeypatch.chdir(empty)
    with pytest.raises(ScenarioError, match="is the current folder"):
        with replacing(Path(".")):
            pass


def test_leftovers_of_killed_writers_are_removed_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "o"
    (out / "wave_1").mkdir(parents=True)
    leftovers = [out / ".manifest.json.a1b2c3d4.tmp", out / "wave_1" / ".results.csv.zz_9yx8w.tmp"]
    kept = [out / ".keep", out / "results.csv", out / ".notes.tmp"]
    for path in leftovers + kept:
        path.write_text("x", encoding="utf-8")
    (tmp_path / ".o.new-abc123").mkdir()
    (tmp_path / ".o.old-abc123").mkdir()
    (tmp_path / ".other.new-abc123").mkdir()
    removed = remove_leftovers(out)
    assert sorted(map(str, removed)) == sorted(map(str, [*leftovers, tmp_path / ".o.new-abc123", tmp_path / ".o.old-abc123"]))
    assert all(p.exists() for p in kept) and (tmp_path / ".other.new-abc123").is_dir()


def test_the_seal_finds_a_changed_a_missing_and_a_foreign_file(tmp_path: Path) -> None:
    (tmp_path / "timeseries.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "plot.png").write_bytes(b"png")
    files = seal(tmp_path, ["timeseries.csv", "plot.png"])
    check_seal(tmp_path, "summary.json", files)
    (tmp_path / "timeseries.csv").write_text("a,b\n1,3\n", encoding="utf-8")
    (tmp_path / "plot.png").unlink()
    (tmp_path / "stale.png").write_bytes(b"png")
    (tmp_path / "notes.txt").write_text("ignored: never read by report", encoding="utf-8")
    with pytest.raises(ScenarioError) as refused:
        check_seal(tmp_path, "summary.json", files)
    fields = dict(refused.value.problems)
    assert "changed since, or from another run" in fields["timeseries.csv"]
    assert "missing" in fields["plot.png"] and "not written by" in fields["stale.png"] and "notes.txt" not in fields


# -- failed writes --------------------------------------------------------------------------------


def test_a_failed_write_names_the_file_and_for_resumable_commands_the_way_on(tmp_path: Path) -> None:
    def full(fh: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError) as failed:
        atomic_write(tmp_path / "summary.json", full)
    assert failed.value.filename == str(tmp_path / "summary.json") and failed.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == [], "no temporary file is left"
    with pytest.raises(OutputError) as wrapped:
        with claim_folder(tmp_path / "o", "airlift sweep", resumable=True):
            atomic_write(tmp_path / "o" / "results.csv", full)
    text = str(wrapped.value)
    assert text.startswith(f"cannot write {tmp_path / 'o' / 'results.csv'}: No space left on device")
    assert "--resume to continue" in text
    with pytest.raises(OutputError, match="run the command again"):
        with claim_folder(tmp_path / "p", "airlift run"):
            raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_is_one_line_and_the_previous_folder_stays(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert airlift("run", SMALL, "-n", "1", "--no-plots", "--out", out).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    limit = max(len(b) for b in before.values()) + 2048  # room for the tables, not for a plot
    done = airlift("run", SMALL, "-n", "1", "--seed", "1", "--out", out, limit_bytes=limit)
    line = _one_line_error(done.stderr)
    assert done.returncode == 1 and line.startswith("airlift: error: OutputError: cannot write ") and ".png: " in line
    assert "free some space" in line and "--resume" not in line
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before, "the previous folder, whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"], "no half-built folder beside it"


def test_a_full_disk_during_a_sweep_says_that_resume_continues(tmp_path: Path) -> None:
    out = tmp_path / "o"
    argv: list[str | Path] = ["sweep", SMALL, "--vary", "security.end=1.5,2", "-n", "1", "--no-plots", "--out", out]
    done = airlift(*argv, limit_bytes=3000)
    line = _one_line_error(done.stderr)
    assert done.returncode == 1 and f"cannot write {out}" in line and "run the same command with --resume to continue" in line
    resumed = airlift(*argv, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert len((out / "results.csv").read_text(encoding="utf-8").splitlines()) == 1 + 2


# -- the folder cases of issue 18, with the real program -----------------------------------------


def test_a_rerun_replaces_the_whole_folder_and_report_reads_only_its_files(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert airlift("run", SMALL, "-n", "1", "--out", out).returncode == 0
    assert len(list(out.glob("*.png"))) == 5
    done = airlift("run", SMALL, "-n", "1", "--seed", "1", "--no-plots", "--out", out, "--report")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "summary.json", "timeseries.csv"]
    summary = read_run(out)
    assert summary["seed"] == 1 and list(summary["files"]) == ["timeseries.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"], "nothing left beside it"


def test_two_runs_into_one_folder_the_second_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "o"
    first = start("run", SMALL, "-n", "12", "--no-plots", "--out", out)
    wait_for(lambda: lock_path(out).is_file() or first.poll() is not None)
    second = airlift("run", SMALL, "-n", "1", "--no-plots", "--out", out)
    still_running = first.poll() is None
    assert first.communicate(timeout=600) and first.returncode == 0
    line = _one_line_error(second.stderr)
    assert second.returncode == 2 and line.startswith(f"{out}: in use by another airlift process (pid {first.pid} on")
    assert still_running and read_run(out)["replications"] == 12


def test_two_resumes_of_one_sweep_never_both_run(tmp_path: Path) -> None:
    out = tmp_path / "o"
    argv: list[str | Path] = ["sweep", SMALL, "--vary", "security.end=1,1.25,1.5,1.75,2", "-n", "3", "--no-plots", "--out", out]
    first = start(*argv)
    wait_for(lambda: (out / "manifest.json").is_file() or first.poll() is not None)
    second = airlift(*argv, "--resume")
    assert first.communicate(timeout=600) and first.returncode == 0
    assert second.returncode == 2 and f"in use by another airlift process (pid {first.pid}" in second.stderr
    rows = (out / "results.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert len(rows) == 15 and len({tuple(r.split(",")[:3]) for r in rows}) == 15


def test_resume_removes_the_temporary_files_a_killed_write_left(tmp_path: Path) -> None:
    out = tmp_path / "o"
    argv = ["sweep", SMALL, "--vary", "security.end=1.5,2", "-n", "1", "--no-plots", "--out", str(out)]
    assert main(argv) == 0
    stale = [out / ".manifest.json.k3x9q2ab.tmp", out / ".points.csv.0a1b2c3d.tmp"]
    for path in stale:
        path.write_text("{half", encoding="utf-8")
    assert main([*argv, "--resume"]) == 0
    assert not any(p.exists() for p in stale)
    assert sorted(p.name for p in out.iterdir()) == [
        "capacity_curve.json",
        "manifest.json",
        "points.csv",
        "results.csv",
        "security_window_curve.csv",
    ]


@pytest.fixture(scope="module")
def previous_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """A complete run folder, and how long the program took to write it."""
    out = tmp_path_factory.mktemp("previous") / "o"
    started = time.monotonic()
    assert airlift("run", SMALL, "-n", "2", "--no-plots", "--out", out).returncode == 0
    return out, time.monotonic() - started


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moment=st.floats(0.0, 1.2), with_previous=st.booleans())
def test_a_run_killed_at_any_moment_leaves_the_previous_folder_or_none(
    moment: float, with_previous: bool, previous_run: tuple[Path, float], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """SIGKILL at ``moment`` x (the time a whole run takes): the folder is then the previous one, or
    absent if there was none, or the new one whole; and the next run succeeds (no stale lock)."""
    previous, seconds = previous_run
    out = tmp_path_factory.mktemp("killed") / "o"
    if with_previous:
        shutil.copytree(previous, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()} if with_previous else None
    proc = start("run", SMALL, "-n", "2", "--seed", "5", "--no-plots", "--out", out)
    time.sleep(moment * seconds)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    if out.exists():
        now = {p.name: p.read_bytes() for p in out.iterdir()}
        assert now == before or read_run(out)["seed"] == 5, "the previous folder, or the new one whole"
    else:
        assert before is None, "a previous folder never disappears"
    assert airlift("run", SMALL, "-n", "1", "--no-plots", "--out", out).returncode == 0
    assert sorted(p.name for p in out.parent.iterdir()) == ["o"]
