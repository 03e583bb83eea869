"""The one task engine of the experiments: run, compare, sweeps (and so sensitivity analysis and
calibration) hand it their tasks.

A task is ``(key, argument)``; the engine calls ``function(argument)`` serially or on any
:class:`concurrent.futures.Executor`, with at most ``max_in_flight`` tasks submitted at a time (memory
stays flat however many tasks there are). A task that raises is captured with its key and the
error (:class:`TaskFailure`) instead of ending the others; callers that need every result raise
:class:`TasksFailed` naming the first. A task cancelled or interrupted before it ended is no failure
of its own: it is reported as not run (a resumed sweep runs it). :class:`ResultsCsv` is the resumable sink: one CSV row per
finished task, flushed at once, so a killed run keeps its rows and a resumed one runs only the rest.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Executor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Generic, TypeVar

from sim.description.errors import ScenarioError

__all__ = [
    "MAX_IN_FLIGHT",
    "Progress",
    "TaskFailure",
    "TasksFailed",
    "TasksNotRun",
    "run_tasks",
    "collect",
    "ResultsCsv",
    "cell",
]

K = TypeVar("K", bound=Hashable)
A = TypeVar("A")
R = TypeVar("R")

Progress = Callable[[int], None]
"""Called with 1 as each task finishes (a progress bar's ``update``)."""

_INTERRUPTED = (CancelledError, KeyboardInterrupt)
"""What a future that never ran to its end holds: cancelled, or interrupted by Ctrl-C in a worker."""

MAX_IN_FLIGHT = 64
"""Most tasks submitted to an executor at once: enough to keep a cluster busy, few enough that
queued arguments and finished results never pile up."""


@dataclass(frozen=True)
class TaskFailure(Generic[K]):
    """A task that raised: which one (its key) and why (``"ValueError: ..."``)."""

    task: K
    error: str
    exception: BaseException | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, task: K, exception: BaseException) -> TaskFailure[K]:
        return cls(task, f"{type(exception).__name__}: {exception}", exception)


class TasksNotRun(RuntimeError):
    """Some tasks never ran (cancelled, or interrupted in a worker) though none failed: the work is incomplete."""

    def __init__(self, not_run: int, total: int, what: str = "task(s)"):
        self.not_run = not_run
        super().__init__(
            f"{not_run} of {total} {what} did not run (cancelled: the executor stopped, or the work was interrupted)"
        )


class TasksFailed(RuntimeError):
    """Some tasks raised; the message names how many and the first (which task, and why)."""

    def __init__(
        self,
        failures: Sequence[TaskFailure[Any]],
        describe: Callable[[Any], str] = str,
        total: int | None = None,
        what: str = "task(s)",
    ):
        self.failures = list(failures)
        first = self.failures[0]
        of = f" of {total}" if total is not None else ""
        super().__init__(f"{len(self.failures)}{of} {what} failed, first: {describe(first.task)}: {first.error}")


def _never_ran(future: Future[Any]) -> bool:
    """Whether a finished future was cancelled before it ran (after a failure, or by an executor
    shutting down under it) or interrupted (Ctrl-C reaching a worker): not a failure of its task."""
    if future.cancelled():
        return True
    try:
        return isinstance(future.exception(), _INTERRUPTED)
    except CancelledError:
        return True


def _outcome(future: Future[Any]) -> tuple[Any, BaseException | None]:
    error = future.exception()
    return (None, error) if error is not None else (future.result(), None)


def _run_serially(
    function: Callable[[A], R],
    tasks: Iterator[tuple[K, A]],
    finished: Callable[[K, R | None, BaseException | None], bool],
    not_run: Callable[[K], None],
) -> None:
    for key, argument in tasks:
        try:
            value = function(argument)
        except Exception as e:  # captured with its task; the caller decides whether the rest goes on
            go_on = finished(key, None, e)
        else:
            go_on = finished(key, value, None)
        if not go_on:
            break
    for key, _ in tasks:  # those left after a stop
        not_run(key)


def _run_on(
    executor: Executor,
    function: Callable[[A], R],
    tasks: Iterator[tuple[K, A]],
    finished: Callable[[K, R | None, BaseException | None], bool],
    not_run: Callable[[K], None],
    max_in_flight: int,
) -> None:
    pending: dict[Future[R], K] = {}

    def submit(n: int) -> None:
        for key, argument in itertools.islice(tasks, n):
            pending[executor.submit(function, argument)] = key

    stopping = False
    try:
        submit(max(1, max_in_flight))
        while pending:
            ready, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in ready:
                key = pending.pop(future)
                if _never_ran(future):
                    not_run(key)
                elif not finished(key, *_outcome(future)) and not stopping:
                    stopping = True
                    for queued in pending:
                        queued.cancel()  # those already running finish and are reported
                if not stopping:
                    submit(1)
    except BaseException:  # an interruption, or on_result failing: nothing queued starts any more
        for queued in pending:
            queued.cancel()
        raise
    for key, _ in tasks:  # those never submitted after a stop
        not_run(key)


def run_tasks(
    function: Callable[[A], R],
    tasks: Iterable[tuple[K, A]],
    *,
    on_result: Callable[[K, R], None],
    executor: Executor | None = None,
    progress: Progress | None = None,
    max_in_flight: int = MAX_IN_FLIGHT,
    stop_after_failure: bool = False,
    on_not_run: Callable[[K], None] | None = None,
) -> list[TaskFailure[K]]:
    """Run ``function(argument)`` for every ``(key, argument)`` and hand each value to
    ``on_result(key, value)`` as it finishes (serially: in order; on an executor: as they complete).

    Returns the tasks that raised. The others go on, unless ``stop_after_failure``: then no new
    task starts after the first failure (those already running finish and are reported). A task
    that never ran (left after such a stop, cancelled by the executor, or interrupted in a worker)
    is not a failure: ``on_not_run(key)`` hears of it, and it does not move ``progress``. An error
    of ``on_result`` itself (e.g. a full disk), or an interruption here, ends the run at once.
    """
    failures: list[TaskFailure[K]] = []

    def finished(key: K, value: R | None, error: BaseException | None) -> bool:
        if error is not None:
            failures.append(TaskFailure.of(key, error))
        else:
            on_result(key, value)  # type: ignore[arg-type]  # a task without error returned its value
        if progress:
            progress(1)
        return not (stop_after_failure and failures)

    not_run = on_not_run or (lambda key: None)
    if executor is None:
        _run_serially(function, iter(tasks), finished, not_run)
    else:
        _run_on(executor, function, iter(tasks), finished, not_run, max_in_flight)
    return failures


def collect(
    function: Callable[[A], R],
    tasks: Sequence[tuple[K, A]],
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
    describe: Callable[[K], str] = str,
) -> dict[K, R]:
    """Every task's value by key, or :class:`TasksFailed` naming the first task (in task order) that raised
    (no new task starts after a failure: a run needs all its replications), or :class:`TasksNotRun`
    if some were cancelled without any failing."""
    values: dict[K, R] = {}
    never_ran: list[K] = []
    failures = run_tasks(
        function,
        tasks,
        on_result=values.__setitem__,
        executor=executor,
        progress=progress,
        stop_after_failure=True,
        on_not_run=never_ran.append,
    )
    if failures:  # named in task order, whichever worker finished first: the same message every time
        order = {key: i for i, (key, _) in enumerate(tasks)}
        failures = sorted(failures, key=lambda f: order[f.task])
        raise TasksFailed(failures, describe, len(tasks)) from failures[0].exception
    if never_ran:
        raise TasksNotRun(len(never_ran), len(tasks))
    return values


def cell(value: Any) -> Any:
    """A value as a CSV cell: floats by ``repr`` (every digit, so a resumed table reads back exactly)."""
    return repr(value) if isinstance(value, float) else value


class ResultsCsv(Generic[K]):
    """A CSV of one row per finished task: ``leading`` columns naming the task, then one column
    per value. The header is written with the first row (the value names come with the first
    result); every row is flushed as it is written.

    :meth:`completed` reads what an earlier (perhaps killed) run left: it keeps the rows that
    ``task_of_row`` recognises (returning the row's task key, or ``None`` for a row that does not
    belong), drops a torn last line, duplicates and foreign rows (their tasks run again) and
    rewrites the file if it dropped anything.
    """

    def __init__(self, path: Path, leading: Sequence[str], task_of_row: Callable[[list[str], list[str]], K | None]):
        self.path = path
        self.leading = list(leading)
        self.task_of_row = task_of_row
        self.header: list[str] | None = None
        self._fh: IO[str] | None = None
        self._writer: Any = None

    def _lines(self) -> list[str]:
        lines = self.path.read_bytes().decode("utf-8", errors="replace").splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            lines.pop()  # torn by a kill mid-write
        return lines

    def completed(self) -> set[K]:
        """The tasks the file already holds (after repairing it, see the class docstring)."""
        if not self.path.exists():
            return set()
        lines = self._lines()
        header = next(csv.reader([lines[0]])) if lines else None
        if header is None or header[: len(self.leading)] != self.leading or len(header) == len(self.leading):
            if any(line.strip() for line in lines):
                raise ScenarioError(str(self.path), [("", "--resume: the header does not match this sweep")])
            self.path.unlink()
            return set()
        done: set[K] = set()
        kept = [lines[0]]
        for line in lines[1:]:
            row = next(csv.reader([line]), [])
            task = self.task_of_row(row, header) if len(row) == len(header) else None
            if task is not None and task not in done:
                done.add(task)
                kept.append(line)
        if len(kept) != len(lines) or not self.path.read_bytes().endswith(b"\n"):
            from sim.outputs.files import atomic_write

            atomic_write(self.path, lambda fh: fh.writelines(kept))
        self.header = header
        return done

    def __enter__(self) -> ResultsCsv[K]:
        self._fh = open(self.path, "a", encoding="utf-8", newline="")
        self._writer = csv.writer(self._fh, lineterminator="\n")
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def write(self, leading: Sequence[Any], values: Mapping[str, Any]) -> None:
        """One row: the task's ``leading`` cells, then its values in the header's order."""
        assert self._fh is not None, "open the file with `with` first"
        if self.header is None:
            self.header = [*self.leading, *values]
            self._writer.writerow(self.header)
        names = self.header[len(self.leading) :]
        self._writer.writerow([cell(v) for v in leading] + [cell(values.get(n, "")) for n in names])
        self._fh.flush()
