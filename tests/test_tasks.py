"""The task engine: order, bounded submission, failures named with their task, the resumable CSV sink,
and the typed result of one replication."""

from __future__ import annotations

import dataclasses
import pickle
import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.description.errors import ScenarioError
from sim.experiments import replications
from sim.experiments.executors import make_executor
from sim.experiments.replications import DayTotals, ReplicationResult, run_replication
from sim.experiments.tasks import ResultsCsv, TaskFailure, TasksFailed, TasksNotRun, collect, run_tasks


def square_or_fail(x: int) -> int:
    """A task for the engine (module level: it must reach worker processes)."""
    if x % 5 == 3:
        raise ValueError(f"no square for {x}")
    return x * x


class CountingExecutor(Executor):
    """A thread pool that records the most futures submitted and not yet finished at once."""

    def __init__(self, workers: int = 3):
        self.pool = ThreadPoolExecutor(workers)
        self.lock = threading.Lock()
        self.open = 0
        self.most = 0
        self.submitted = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self.lock:
            self.open += 1
            self.submitted += 1
            self.most = max(self.most, self.open)
        future = self.pool.submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _: Future[Any]) -> None:
        with self.lock:
            self.open -= 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=cancel_futures)


class CancellingExecutor(Executor):
    """Runs each task at once, except those ``cancel(argument)`` picks: their futures come back
    cancelled, as when an executor shuts down under them (Dask losing its scheduler, Ctrl-C)."""

    def __init__(self, cancel: Any):
        self.cancel = cancel

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        if self.cancel(args[0]):
            future.cancel()
            future.set_running_or_notify_cancel()
            return future
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as e:  # a task interrupted in its worker comes back as KeyboardInterrupt
            future.set_exception(e)
        return future


def interrupted_at_seven(x: int) -> int:
    if x == 7:
        raise KeyboardInterrupt
    return square_or_fail(x)


def test_serial_tasks_run_in_order_and_a_failure_is_named_while_the_rest_goes_on():
    seen: list[tuple[int, int]] = []
    ticks: list[int] = []
    failures = run_tasks(
        square_or_fail, [(k, k) for k in range(10)], on_result=lambda k, v: seen.append((k, v)), progress=ticks.append
    )
    assert seen == [(k, k * k) for k in range(10) if k % 5 != 3]
    assert failures == [TaskFailure(3, "ValueError: no square for 3"), TaskFailure(8, "ValueError: no square for 8")]
    assert isinstance(failures[0].exception, ValueError)
    assert len(ticks) == 10  # every task, failed or not, moves the progress bar


def test_an_executor_never_holds_more_than_max_in_flight_and_every_task_reports_once():
    ex = CountingExecutor()
    values: dict[int, int] = {}
    with ex:
        failures = run_tasks(
            square_or_fail, ((k, k) for k in range(200)), on_result=values.__setitem__, executor=ex, max_in_flight=7
        )
    assert ex.submitted == 200 and 1 < ex.most <= 7
    assert values == {k: k * k for k in range(200) if k % 5 != 3}
    assert sorted(f.task for f in failures) == [k for k in range(200) if k % 5 == 3]


def test_stop_after_failure_starts_no_new_task():
    ran: list[int] = []
    failures = run_tasks(
        square_or_fail, [(k, k) for k in range(10)], on_result=lambda k, v: ran.append(k), stop_after_failure=True
    )
    assert ran == [0, 1, 2] and [f.task for f in failures] == [3]
    ex = CountingExecutor(workers=1)
    with ex:
        run_tasks(
            square_or_fail,
            [(k, k) for k in range(100)],
            on_result=lambda k, v: None,
            executor=ex,
            max_in_flight=4,
            stop_after_failure=True,
        )
    assert ex.submitted < 10  # the queue was not drained into new submissions after the failure


def test_a_cancelled_or_interrupted_task_is_not_run_not_failed():
    values: dict[int, int] = {}
    never_ran: list[int] = []
    ticks: list[int] = []
    failures = run_tasks(
        interrupted_at_seven,
        [(k, k) for k in range(12)],
        on_result=values.__setitem__,
        executor=CancellingExecutor(lambda x: x in (2, 9)),
        progress=ticks.append,
        on_not_run=never_ran.append,
    )
    assert sorted(never_ran) == [2, 7, 9]
    assert sorted(f.task for f in failures) == [3, 8]  # only the tasks that raised themselves
    assert values == {k: k * k for k in range(12) if k not in (2, 3, 7, 8, 9)}
    assert len(ticks) == 12 - 3  # what never ran does not move the bar


def test_tasks_left_after_a_stop_are_not_run():
    never_ran: list[int] = []
    failures = run_tasks(
        square_or_fail,
        [(k, k) for k in range(10)],
        on_result=lambda k, v: None,
        stop_after_failure=True,
        on_not_run=never_ran.append,
    )
    assert [f.task for f in failures] == [3] and never_ran == [4, 5, 6, 7, 8, 9]
    never_ran.clear()
    with CountingExecutor(workers=1) as ex:
        failures = run_tasks(
            square_or_fail,
            [(k, k) for k in range(100)],
            on_result=lambda k, v: None,
            executor=ex,
            max_in_flight=4,
            stop_after_failure=True,
            on_not_run=never_ran.append,
        )
    ran = ex.submitted - sum(1 for k in never_ran if k < ex.submitted)
    assert [f.task for f in failures] == [3] and len(never_ran) == 100 - ran and 3 not in never_ran


def test_collect_with_cancelled_tasks_says_they_did_not_run():
    with pytest.raises(TasksNotRun, match=r"2 of 6 task\(s\) did not run \(cancelled"):
        collect(square_or_fail, [(k, k) for k in (0, 1, 2, 4, 5, 6)], executor=CancellingExecutor(lambda x: x in (1, 5)))


def test_collect_raises_one_clear_error_naming_the_first_failed_task():
    assert collect(square_or_fail, [(k, k) for k in (1, 2, 4)]) == {1: 1, 2: 4, 4: 16}
    with pytest.raises(TasksFailed, match=r"1 of 5 task\(s\) failed, first: item 3: ValueError: no square for 3") as e:
        collect(square_or_fail, [(k, k) for k in range(5)], describe=lambda k: f"item {k}")
    assert isinstance(e.value.__cause__, ValueError) and e.value.failures[0].task == 3


@pytest.mark.slow
def test_a_failing_task_on_worker_processes_ends_with_its_name_not_a_hang():
    with make_executor(workers=2) as ex:
        assert ex is not None
        with pytest.raises(TasksFailed, match="item 13: ValueError: no square for 13"):
            collect(square_or_fail, [(k, k) for k in range(10, 40)], executor=ex, describe=lambda k: f"item {k}")
        assert collect(square_or_fail, [(k, k) for k in (1, 2)], executor=ex) == {1: 1, 2: 4}  # the pool still works


def test_a_run_whose_replication_fails_names_it(small, monkeypatch):
    real = replications._task

    def flaky(args: tuple[sim.Scenario, int, int]) -> ReplicationResult:
        if args[2] == 1:
            raise RuntimeError("engine fault")
        return real(args)

    monkeypatch.setattr(replications, "_task", flaky)
    with pytest.raises(TasksFailed, match=r"replication 1 of small \(seed 7\): RuntimeError: engine fault"):
        sim.run(small, replications=3, seed=7)


def _task_of(row: list[str], header: list[str]) -> int | None:
    return int(row[0]) if row[0].isdigit() and row[1] != "bad" else None


def test_results_csv_keeps_what_belongs_and_repairs_the_rest(tmp_path: Path):
    path = tmp_path / "results.csv"
    sink: ResultsCsv[int] = ResultsCsv(path, ["task"], _task_of)
    assert sink.completed() == set()
    with sink:
        sink.write([0], {"x": 0.1, "y": 2})
        sink.write([1], {"y": 3, "x": 1.5})  # values go in the header's order
    assert path.read_text() == "task,x,y\n0,0.1,2\n1,1.5,3\n"
    path.write_text(path.read_text() + "1,9.9,9\n2,bad,0\n3,4.0\n4,0.5,")  # duplicate, foreign, short, torn
    again: ResultsCsv[int] = ResultsCsv(path, ["task"], _task_of)
    assert again.completed() == {0, 1}
    assert path.read_text() == "task,x,y\n0,0.1,2\n1,1.5,3\n"
    with again:
        again.write([2], {"x": 2.0, "y": 4})
    assert path.read_text().endswith("2,2.0,4\n")
    path.write_text("other,x\n0,1\n")
    with pytest.raises(ScenarioError, match="header does not match"):
        ResultsCsv(path, ["task"], _task_of).completed()


def test_a_replication_result_is_typed_frozen_and_picklable(small):
    r = run_replication(small, 2, 1)
    assert isinstance(r, ReplicationResult) and all(isinstance(d, DayTotals) for d in r.daily)
    assert [d.date for d in r.daily] == ["2021-08-14", "2021-08-15"]
    assert sum(d.evacuated for d in r.daily) == r.metrics["evacuated_total"]
    assert len(r.hourly["hours"]) == len(r.hourly["evacuated_cumulative"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.metrics = {}  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(r)) == r
    assert r != run_replication(small, 2, 0)


def test_a_batch_of_requests_runs_paired_replications_on_one_engine_pass(small):
    from sim.experiments.ensemble import Ensemble
    from sim.experiments.replications import run_batch

    more = {"gates.abbey.lanes": 6}
    ticks: list[int] = []
    out = run_batch(small, [({}, range(2)), (more, range(1, 3))], seed=4, progress=ticks.append)
    assert out[0] == [run_replication(small, 4, r).metrics for r in range(2)]
    assert out[1] == [run_replication(small.with_overrides(more), 4, r).metrics for r in (1, 2)]
    assert len(ticks) == 4
    ens = Ensemble(({"gates.abbey.lanes": 2, "fleets.us_c17.count": 2}, {"gates.abbey.lanes": 3, "fleets.us_c17.count": 5}))
    (spread,) = run_batch(small, [(more, range(2))], seed=4, ensemble=ens)  # the request's lanes win over the setting's
    assert spread[1] == run_replication(small.with_overrides({"fleets.us_c17.count": 5, **more}), 4, 1).metrics
    with pytest.raises(ScenarioError, match=r"request 1 \(\{'gates.abbey.lanes': -1\}\)"):
        run_batch(small, [({}, range(1)), ({"gates.abbey.lanes": -1}, range(1))])
