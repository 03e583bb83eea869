"""Dask with deadlines: nothing waits for a scheduler forever, every failure is one line.

Against local sockets only (127.0.0.1): a port that accepts and never answers, a refused port,
and real ``dask scheduler`` / ``dask worker`` processes that have no worker, lose their worker,
stop answering (SIGSTOP) or are killed while a task runs. Deadlines are short to keep it fast.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.cli.main import main
from sim.experiments.executors import TIMEOUT_VARIABLE, DaskUnavailable, make_executor, parse_dask_address
from tests.conftest import DATA

pytest.importorskip("distributed")

SMALL = str(DATA / "small.toml")
LOCAL = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOCAL, 0))
        return int(s.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections and never sends a byte."""
    server = socket.socket()
    server.bind((LOCAL, 0))
    server.listen(16)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield int(server.getsockname()[1])
    finally:
        server.close()
        for conn in accepted:
            conn.close()


def _fails_within(seconds: float, address: str, timeout: float | None = 0.5) -> str:
    """The message of the DaskUnavailable that ``make_executor`` raises within ``seconds``."""
    started = time.monotonic()
    with pytest.raises(DaskUnavailable) as failed:
        with make_executor(dask=address, timeout=timeout):
            pass
    assert time.monotonic() - started < seconds
    return str(failed.value)


def test_a_peer_that_accepts_and_never_answers_fails_within_the_deadline(silent_port: int) -> None:
    text = _fails_within(10, f"tcp://{LOCAL}:{silent_port}")
    assert f"tcp://{LOCAL}:{silent_port} accepted a connection but never answered within 0.5 s" in text
    assert TIMEOUT_VARIABLE in text and "--workers N" in text and "\n" not in text


def test_a_refused_port_fails_at_once() -> None:
    port = _free_port()
    text = _fails_within(5, f"{LOCAL}:{port}", timeout=30)
    assert text.startswith(f"cannot reach the Dask scheduler at tcp://{LOCAL}:{port}: connection refused")


def test_the_deadline_comes_from_the_environment(silent_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TIMEOUT_VARIABLE, "0.3")
    assert "within 0.3 s" in _fails_within(10, f"tcp://{LOCAL}:{silent_port}", timeout=None)


def test_the_command_line_says_it_in_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    port = _free_port()
    assert main(["run", SMALL, "-n", "1", "--dask", f"tcp://{LOCAL}:{port}", "--out", str(tmp_path / "o")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("airlift: error: DaskUnavailable: cannot reach the Dask scheduler at tcp://")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "address",
    ["", "  ", "tcp://", "tcp://:8786", "tcp://host:port", "tcp://host:0", "tcp://host:70000", "http://host:8786", "tcp://h/x"],
)
def test_an_empty_or_malformed_address_is_bad_input(address: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["run", SMALL, "-n", "1", "--dask", address, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("--dask: ") and "tcp://10.0.0.5:8786" in err and "Traceback" not in err


def test_a_bad_deadline_is_bad_input(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.setenv(TIMEOUT_VARIABLE, "soon")
    assert main(["run", SMALL, "-n", "1", "--dask", f"{LOCAL}:1", "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.startswith(f"{TIMEOUT_VARIABLE}: 'soon' is not a positive number of seconds")


def test_addresses_are_read_with_their_defaults() -> None:
    assert parse_dask_address("10.0.0.5") == ("tcp://10.0.0.5:8786", "10.0.0.5", 8786)
    assert parse_dask_address(" tls://sched.example:9000 ") == ("tls://sched.example:9000", "sched.example", 9000)
    assert parse_dask_address("[::1]:8786") == ("tcp://[::1]:8786", "::1", 8786)


# -- a real scheduler that fails in each way ------------------------------------------------------


def _dask(*argv: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
def scheduler() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A ``dask scheduler`` on 127.0.0.1 with no worker, and its address."""
    port = _free_port()
    proc = _dask("distributed.cli.dask_scheduler", "--host", LOCAL, "--port", str(port), "--no-dashboard")
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection((LOCAL, port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline and proc.poll() is None, "the scheduler did not start"
            time.sleep(0.1)
    try:
        yield proc, f"tcp://{LOCAL}:{port}"
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.kill()
        proc.wait()


@pytest.fixture
def worker(scheduler: tuple[subprocess.Popen[bytes], str]) -> Iterator[subprocess.Popen[bytes]]:
    """One ``dask worker`` of the scheduler, registered."""
    from distributed import Client

    proc = _dask("distributed.cli.dask_worker", scheduler[1], "--nthreads", "1", "--no-dashboard", "--no-nanny")
    try:
        with Client(scheduler[1], timeout=30) as client:
            client.wait_for_workers(1, timeout=60)
        yield proc
    finally:
        proc.kill()
        proc.wait()


def _task_fails_within(seconds: float, address: str, then: object = None) -> str:
    """Submit a long task under a 1 s deadline, do ``then()`` once it runs; the DaskUnavailable text."""
    started = time.monotonic()
    with pytest.raises(DaskUnavailable) as failed:
        with make_executor(dask=address, timeout=1.0) as executor:
            assert executor is not None
            future = executor.submit(time.sleep, 60)
            if callable(then):
                time.sleep(0.5)
                started = time.monotonic()
                then()
            future.result()
    assert time.monotonic() - started < seconds
    return str(failed.value)


def test_a_scheduler_without_workers_fails_once_the_deadline_passes(scheduler: tuple[subprocess.Popen[bytes], str]) -> None:
    text = _task_fails_within(15, scheduler[1])
    assert text.startswith(f"the Dask scheduler at {scheduler[1]} has had no workers for 1 s") and "1 tasks waiting" in text


def test_a_scheduler_that_loses_its_worker_mid_run_fails(
    scheduler: tuple[subprocess.Popen[bytes], str], worker: subprocess.Popen[bytes]
) -> None:
    text = _task_fails_within(20, scheduler[1], then=worker.kill)
    assert text.startswith(f"the Dask scheduler at {scheduler[1]} has had no workers")


def test_a_scheduler_killed_mid_run_is_one_error(
    scheduler: tuple[subprocess.Popen[bytes], str], worker: subprocess.Popen[bytes]
) -> None:
    text = _task_fails_within(15, scheduler[1], then=scheduler[0].kill)
    assert text.startswith(f"lost the Dask scheduler at {scheduler[1]}")


def test_a_scheduler_that_stops_answering_fails(
    scheduler: tuple[subprocess.Popen[bytes], str], worker: subprocess.Popen[bytes]
) -> None:
    text = _task_fails_within(20, scheduler[1], then=lambda: scheduler[0].send_signal(signal.SIGSTOP))
    assert text.startswith(f"the Dask scheduler at {scheduler[1]} stopped answering")


def test_a_sweep_on_a_scheduler_without_workers_ends_in_one_line(
    scheduler: tuple[subprocess.Popen[bytes], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """Its tasks are cancelled; the sweep does not report each one as failed, nor read an empty table."""
    monkeypatch.setenv(TIMEOUT_VARIABLE, "1")
    argv = ["sweep", SMALL, "--vary", "security.end=1.5,2", "-n", "1", "--no-plots", "--out", str(tmp_path / "o")]
    assert main([*argv, "--dask", scheduler[1]]) == 1
    lines = [line for line in re.split(r"[\r\n]", capsys.readouterr().err) if line.strip() and "%|" not in line]
    # "has had no workers", or, on a loaded machine, "stopped answering" (its reply took over the 1 s
    # deadline): either way one line naming the scheduler, not one failure a task
    assert len(lines) == 1 and lines[0].startswith(f"airlift: error: DaskUnavailable: the Dask scheduler at {scheduler[1]} ")
    assert " has had no workers " in lines[0] or " stopped answering " in lines[0]
