"""Local worker processes that never outlive the program that started them.

A process pool's workers block reading their task queue; if the main process is killed
outright (SIGKILL, an out-of-memory kill) nothing tells them, and with the ``forkserver`` start
method they are not even its children. :func:`exit_with_parent` is the pool's initializer: a
daemon thread in each worker checks twice a second that the main process still exists (and
that the worker has not been re-parented) and ends the worker at once when it does not.
"""

from __future__ import annotations

import os
import threading
import time

__all__ = ["exit_with_parent", "POLL_SECONDS"]

POLL_SECONDS = 0.5


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else (the pid was reused)
        return False
    return True


def exit_with_parent(main_pid: int) -> None:
    """Pool initializer: end this worker as soon as ``main_pid`` is gone or the worker is orphaned."""
    parent = os.getppid()

    def watch() -> None:
        while _alive(main_pid) and os.getppid() == parent:
            time.sleep(POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
