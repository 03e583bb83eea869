"""Where replications run: ``None`` (serial), a local process pool, or a Dask cluster.

Every caller (``run``, ``compare``, sweeps) is written against
:class:`concurrent.futures.Executor`; this module turns what users pass (a number of workers,
a Dask scheduler address, a ``dask.distributed.Client``) into one. It runs no simulation.

A Dask scheduler is given deadlines: reaching it, its handshake, and the progress of the work
(the scheduler answering, at least one worker) are each bounded by ``AIRLIFT_DASK_TIMEOUT``
seconds (default 30); a failure is one :class:`DaskUnavailable` line naming the address and what
to try, and a malformed address is bad input.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

from sim.description.errors import ScenarioError

__all__ = [
    "ExecutorLike",
    "as_executor",
    "make_executor",
    "DaskUnavailable",
    "dask_timeout",
    "parse_dask_address",
    "TIMEOUT_VARIABLE",
    "DEFAULT_TIMEOUT",
]

TIMEOUT_VARIABLE = "AIRLIFT_DASK_TIMEOUT"
DEFAULT_TIMEOUT = 30.0
"""Seconds to wait for a Dask scheduler to connect, to answer, or to have a worker again."""
_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
_DEFAULT_PORT = 8786
_TRY = "check the address and that the scheduler runs, or run on this machine with --workers N (or --dask local)"


@runtime_checkable
class _HasExecutor(Protocol):
    """A ``dask.distributed.Client`` (or anything else that hands out an Executor)."""

    def get_executor(self, **kwargs: Any) -> Executor: ...


ExecutorLike = Executor | _HasExecutor
"""What the Python API accepts as ``executor=``."""


class DaskUnavailable(RuntimeError):
    """The Dask scheduler cannot be reached, does not answer, or cannot run the work (one line)."""


def as_executor(executor: ExecutorLike | None) -> Executor | None:
    """An Executor from what the caller passed: ``None`` and Executors as they are, a Dask
    ``Client`` through ``client.get_executor(pure=False)`` (every task runs, none is cached)."""
    if executor is None or isinstance(executor, Executor):
        return executor
    if isinstance(executor, _HasExecutor):
        return executor.get_executor(pure=False)
    raise TypeError(f"executor must be a concurrent.futures.Executor or a dask.distributed.Client, not {type(executor).__name__}")


def dask_timeout(seconds: float | None = None) -> float:
    """``seconds``, else ``AIRLIFT_DASK_TIMEOUT`` from the environment, else 30; a positive number."""
    given: object = seconds
    if seconds is None:
        given = os.environ.get(TIMEOUT_VARIABLE, "").strip()
        if not given:
            return DEFAULT_TIMEOUT
        try:
            seconds = float(str(given))
        except ValueError:
            seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ScenarioError(TIMEOUT_VARIABLE, [("", f"{given!r} is not a positive number of seconds (e.g. 30)")])
    return seconds


def parse_dask_address(text: str) -> tuple[str, str, int]:
    """``(address, host, port)`` of a scheduler address ``[scheme://]host[:port]`` (``tcp`` and
    port 8786 by default); ``ScenarioError`` naming ``--dask`` if it is empty or malformed."""
    given = text.strip()
    example = "give a scheduler address such as tcp://10.0.0.5:8786, or 'local'"
    if not given:
        raise ScenarioError("--dask", [("", f"empty: {example}")])
    scheme, sep, rest = given.partition("://")
    if not sep:
        scheme, rest = "tcp", given
    problem = _address_problem(scheme, rest)
    if problem:
        raise ScenarioError("--dask", [(given, f"{problem}: {example}")])
    host, port = _host_port(rest)
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}", host, port


def _address_problem(scheme: str, rest: str) -> str | None:
    if scheme not in _SCHEMES:
        return f"unknown scheme {scheme!r} (known: {', '.join(_SCHEMES)})"
    if not rest or "/" in rest or any(c.isspace() for c in rest):
        return "not a host and port"
    try:
        host, port = _host_port(rest)
    except ValueError:
        return "the port is not a whole number"
    if not host:
        return "no host"
    if not 0 < port < 65536:
        return f"port {port} is out of range (1 to 65535)"
    return None


def _host_port(rest: str) -> tuple[str, int]:
    """``host`` and ``port`` of ``host:port``, ``[v6 address]:port`` or ``host`` (default port)."""
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        return host, int(tail[1:]) if tail.startswith(":") else _DEFAULT_PORT
    if rest.count(":") == 1:
        host, _, port = rest.partition(":")
        return host, int(port)
    return rest, _DEFAULT_PORT


def _probe(address: str, host: str, port: int, timeout: float) -> None:
    """Fail fast on a refused port, a host that never accepts, or one that accepts and never says a
    word (a Dask scheduler greets every connection at once). Plain ``tcp`` only."""
    stage = "connect"
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            stage = "greeting"
            sock.settimeout(timeout)
            first = sock.recv(1)
    except ConnectionRefusedError:
        raise DaskUnavailable(f"cannot reach the Dask scheduler at {address}: connection refused; {_TRY}") from None
    except socket.gaierror as e:
        raise DaskUnavailable(f"cannot reach the Dask scheduler at {address}: unknown host ({e.strerror}); {_TRY}") from None
    except TimeoutError:
        what = "did not accept a connection" if stage == "connect" else "accepted a connection but never answered"
        raise DaskUnavailable(f"the Dask scheduler at {address} {what} within {_waited(timeout)}; {_TRY}") from None
    except OSError as e:
        raise DaskUnavailable(f"cannot reach the Dask scheduler at {address}: {e.strerror or e}; {_TRY}") from None
    if not first:
        raise DaskUnavailable(f"{address} closed the connection without a Dask greeting (is it a Dask scheduler?); {_TRY}")


def _waited(timeout: float) -> str:
    return f"{timeout:g} s (set {TIMEOUT_VARIABLE} to wait longer)"


def _connect(address: str, timeout: float) -> Any:
    """A ``Client`` of the scheduler at ``address``, made within the deadline (a ``Client`` alone
    may wait forever on a peer that accepts and never answers: it is started in a thread)."""
    from distributed import Client

    made: dict[str, Any] = {}

    def start() -> None:
        try:
            made["client"] = Client(address, timeout=timeout)
        except BaseException as e:  # reported below, in the caller's thread
            made["error"] = e

    thread = threading.Thread(target=start, name="dask-connect", daemon=True)
    thread.start()
    thread.join(timeout)  # the handshake, bounded like every other step by the one timeout
    if "client" in made:
        return made["client"]
    if thread.is_alive():
        raise DaskUnavailable(f"the Dask scheduler at {address} did not complete its handshake within {_waited(timeout)}; {_TRY}")
    error = made.get("error")
    reason = str(error).strip().splitlines()[0] if error is not None and str(error).strip() else type(error).__name__
    raise DaskUnavailable(f"cannot connect to the Dask scheduler at {address}: {reason}; {_TRY}")


class _WatchedExecutor(Executor):
    """A Dask client's Executor whose work cannot hang: a watcher thread ends it (every waiting
    future cancelled, :attr:`broken` set) when the scheduler is lost, stops answering, or has had
    no worker for ``timeout`` seconds while tasks wait."""

    def __init__(self, client: Any, address: str, timeout: float):
        self._client = client
        self._inner = client.get_executor(pure=False)
        self._address, self._timeout = address, timeout
        self._waiting: set[cf.Future[Any]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._asker = cf.ThreadPoolExecutor(1, thread_name_prefix="dask-ask")
        self._fine_at = time.monotonic()
        self._workers_at = time.monotonic()
        self.broken: DaskUnavailable | None = None
        poll = min(max(timeout / 10, 0.1), 2.0)
        threading.Thread(target=self._watch, args=(poll,), name="dask-deadlines", daemon=True).start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        if self.broken is not None:
            raise self.broken
        outer: cf.Future[Any] = cf.Future()
        with self._lock:
            self._waiting.add(outer)
        self._inner.submit(fn, *args, **kwargs).add_done_callback(lambda inner: self._settle(outer, inner))
        return outer

    def _settle(self, outer: cf.Future[Any], inner: cf.Future[Any]) -> None:
        with self._lock:
            self._waiting.discard(outer)
        if inner.cancelled():  # Dask cancels every task when it loses the scheduler
            self._break(f"lost the Dask scheduler at {self._address} while tasks were running; {_TRY}", outer)
            return
        with contextlib.suppress(cf.InvalidStateError):
            error = inner.exception()
            if error is not None:
                outer.set_exception(error)
            else:
                outer.set_result(inner.result())

    def _break(self, message: str, *also: cf.Future[Any]) -> None:
        """Mark the executor broken and cancel every waiting future (and ``also``)."""
        with self._lock:
            if self.broken is None:
                self.broken = DaskUnavailable(message)
            waiting, self._waiting = {*self._waiting, *also}, set()
        for future in waiting:
            if not future.done() and future.cancel():
                with contextlib.suppress(RuntimeError):  # cancelled and notified already
                    future.set_running_or_notify_cancel()  # wakes wait() and as_completed()

    def _watch(self, poll: float) -> None:
        while not self._stop.wait(poll):
            try:
                problem = self._problem()
            except Exception as e:  # the client itself failed
                problem = f"lost the Dask scheduler at {self._address} ({type(e).__name__}: {e})"
            if problem is not None:
                self._break(f"{problem}; {_TRY}")
                return

    def _problem(self) -> str | None:
        now = time.monotonic()
        if self._client.status != "running":
            if now - self._fine_at > self._timeout:
                return f"lost the Dask scheduler at {self._address} ({self._client.status} for {self._timeout:g} s)"
            return None
        self._fine_at = now
        with self._lock:
            waiting = len(self._waiting)
        if not waiting:
            self._workers_at = now
            return None
        workers = self._workers()
        if workers is None:
            return f"the Dask scheduler at {self._address} stopped answering (nothing for {_waited(self._timeout)})"
        if workers:
            self._workers_at = now
        elif now - self._workers_at > self._timeout:
            return (
                f"the Dask scheduler at {self._address} has had no workers for {_waited(self._timeout)}, {waiting} tasks waiting"
            )
        return None

    def _workers(self) -> int | None:
        """How many workers the scheduler has, or ``None`` if it does not say within the deadline."""
        try:
            info = self._asker.submit(self._client.scheduler_info).result(timeout=self._timeout)
        except Exception:
            return None
        return len(info.get("workers") or {}) if isinstance(info, dict) else None

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._stop.set()
        self._asker.shutdown(wait=False, cancel_futures=True)


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    """Dask's own log lines (tracebacks of lost connections, from Dask and the tornado loop under it)
    are not shown: failures are reported once, as :class:`DaskUnavailable`."""
    roots = ("distributed", "tornado")  # tornado runs Dask's connections and logs their failures too
    names = [*roots, *(n for n in logging.root.manager.loggerDict if n.startswith(tuple(f"{r}." for r in roots)))]
    levels = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@contextlib.contextmanager
def _watched(client: Any, address: str, timeout: float) -> Iterator[Executor]:
    """Serve ``client`` through a watched Executor; a failure it detects ends the block as one
    :class:`DaskUnavailable`, whether the waiting code raised (a cancelled future, usually) or
    counted the cancelled tasks as failures and returned."""
    executor = _WatchedExecutor(client, address, timeout)
    try:
        yield executor
        if executor.broken is not None:  # the caller counted the cancelled tasks as failed ones and went on
            raise executor.broken
    except BaseException:
        if executor.broken is not None:
            raise executor.broken from None
        raise
    finally:
        executor.shutdown(wait=False)
        with contextlib.suppress(Exception):
            client.close(timeout=min(timeout, 10.0))


@contextlib.contextmanager
def _dask(address: str, workers: int | None, timeout: float) -> Iterator[Executor]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ScenarioError("--dask", [("", "Dask is not installed: pip install 'airlift[dask]'")]) from None
    if address.strip() == "local":
        with (
            LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
            Client(cluster) as client,
            _watched(client, "local", timeout) as executor,
        ):
            yield executor
        return
    full, host, port = parse_dask_address(address)
    with _quiet_dask():
        if full.startswith("tcp://"):
            _probe(full, host, port, timeout)
        with _watched(_connect(full, timeout), full, timeout) as executor:
            yield executor


@contextlib.contextmanager
def _process_pool(workers: int) -> Iterator[Executor]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from sim.experiments.workers import exit_with_parent  # workers end if this process is killed

    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    ex = ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context(method), initializer=exit_with_parent, initargs=(os.getpid(),)
    )
    try:
        yield ex
    except BaseException:
        # interrupted (Ctrl-C) or failed: drop queued tasks instead of running them all
        ex.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        ex.shutdown(wait=True)


def make_executor(
    workers: int | None = None, dask: str | None = None, *, timeout: float | None = None
) -> AbstractContextManager[Executor | None]:
    """A context manager yielding the Executor to run on, and closing it afterwards.

    ``None`` (serial) unless ``workers > 1`` (a local process pool, ``forkserver`` start method)
    or ``dask`` is given (``"local"`` for a ``LocalCluster`` of ``workers`` processes, or a
    scheduler address; an empty one is an error); a Dask client serves through
    ``Client.get_executor()`` under the deadlines of ``timeout`` seconds (default:
    ``AIRLIFT_DASK_TIMEOUT``, else 30).
    """

    @contextlib.contextmanager
    def cm() -> Iterator[Executor | None]:
        if dask is not None:
            with _dask(dask, workers, dask_timeout(timeout)) as executor:
                yield executor
        elif workers and workers > 1:
            with _process_pool(workers) as executor:
                yield executor
        else:
            yield None

    return cm()
