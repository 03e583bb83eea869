"""Where replications run: ``None`` (serial), a local process pool, or a Dask cluster.

Every caller (``run``, ``compare``, sweeps) is written against
:class:`concurrent.futures.Executor`; this module turns what users pass (a number of workers,
a Dask scheduler address, a ``dask.distributed.Client``) into one. It runs no simulation.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

from sim.description.errors import ScenarioError

__all__ = ["ExecutorLike", "as_executor", "make_executor"]


@runtime_checkable
class _HasExecutor(Protocol):
    """A ``dask.distributed.Client`` (or anything else that hands out an Executor)."""

    def get_executor(self, **kwargs: Any) -> Executor: ...


ExecutorLike = Executor | _HasExecutor
"""What the Python API accepts as ``executor=``."""


def as_executor(executor: ExecutorLike | None) -> Executor | None:
    """An Executor from what the caller passed: ``None`` and Executors as they are, a Dask
    ``Client`` through ``client.get_executor(pure=False)`` (every task runs, none is cached)."""
    if executor is None or isinstance(executor, Executor):
        return executor
    if isinstance(executor, _HasExecutor):
        return executor.get_executor(pure=False)
    raise TypeError(f"executor must be a concurrent.futures.Executor or a dask.distributed.Client, not {type(executor).__name__}")


def make_executor(workers: int | None = None, dask: str | None = None) -> AbstractContextManager[Executor | None]:
    """A context manager yielding the Executor to run on, and closing it afterwards.

    ``None`` (serial) unless ``workers > 1`` (a local process pool, ``forkserver`` start method)
    or ``dask`` is given (``"local"`` for a ``LocalCluster`` of ``workers`` processes, or a
    scheduler address); a Dask client serves through ``Client.get_executor()``.
    """

    @contextlib.contextmanager
    def cm() -> Iterator[Executor | None]:
        if dask:
            try:
                from distributed import Client, LocalCluster
            except ImportError:
                raise ScenarioError("--dask", [("", "Dask is not installed: pip install 'airlift[dask]'")]) from None
            if dask == "local":
                with (
                    LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
                    Client(cluster) as client,
                ):
                    yield as_executor(client)
            else:
                with Client(dask) as client:
                    yield as_executor(client)
        elif workers and workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            from sim.experiments.workers import exit_with_parent  # workers end if this process is killed

            ex = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context(method),
                initializer=exit_with_parent,
                initargs=(os.getpid(),),
            )
            try:
                yield ex
            except BaseException:
                # interrupted (Ctrl-C) or failed: drop queued tasks instead of running them all
                ex.shutdown(wait=False, cancel_futures=True)
                raise
            else:
                ex.shutdown(wait=True)
        else:
            yield None

    return cm()
