"""One writer per output folder: a lock file beside the folder that names its holder.

The lock is ``.<folder name>.lock`` in the folder's parent, held with ``flock`` for as long as a
command writes the folder, and it records who holds it (pid, host, command, start time). A second
writer is refused at once with that description; a lock left by a killed process is stale (the
kernel released it; on filesystems without ``flock``: its pid is gone, or on this host the process
with that pid started at another time) and is taken over.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sim.description.errors import ScenarioError

try:
    import fcntl
except ImportError:  # not POSIX: the holder record alone decides
    fcntl = None  # type: ignore[assignment]

__all__ = ["Holder", "FolderBusy", "hold", "lock_path", "holds"]

_NO_FLOCK = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}
_HELD: dict[Path, int] = {}
"""Folders this process holds, with how many ``hold`` blocks are open on each (a command that
holds its folder may call a writer that holds it again)."""


@dataclass(frozen=True)
class Holder:
    """Who holds a folder: enough to name it to a person and to tell whether it is still alive."""

    pid: int
    host: str
    command: str
    started: str
    boot: str = ""
    ticks: int | None = None
    """Start of the process in clock ticks after boot (``/proc/<pid>/stat``), to tell a reused pid."""

    @classmethod
    def me(cls, command: str) -> Holder:
        now = datetime.now().astimezone().isoformat(timespec="seconds")
        return cls(os.getpid(), socket.gethostname(), command, now, _boot_id(), _start_ticks(os.getpid()))

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, started {self.started}: {self.command}"

    def is_stale(self) -> bool:
        """Gone for sure: on this host (and boot), no process has its pid, or the one that has it
        started at another time. A holder on another host is never known to be gone."""
        if self.host != socket.gethostname():
            return False
        if self.boot and _boot_id() and self.boot != _boot_id():
            return True
        if not _alive(self.pid):
            return True
        now = _start_ticks(self.pid)
        return self.ticks is not None and now is not None and now != self.ticks


class FolderBusy(ScenarioError):
    """Another airlift process writes this folder (exit 2: nothing was run or written)."""

    def __init__(self, folder: Path, holder: Holder | None):
        who = holder.describe() if holder else "a process that did not say who it is"
        super().__init__(
            str(folder), [("", f"in use by another airlift process ({who}); wait until it ends, or choose another --out")]
        )
        self.holder = holder


def lock_path(folder: Path) -> Path:
    """Where the lock of ``folder`` lives: beside it, so it survives the folder being replaced."""
    folder = Path(os.path.abspath(folder))
    return folder.parent / f".{folder.name}.lock"


def holds(folder: Path) -> bool:
    """Whether this process holds ``folder`` now."""
    return Path(os.path.abspath(folder)) in _HELD


@contextlib.contextmanager
def hold(folder: Path, command: str) -> Iterator[Holder | None]:
    """Hold ``folder`` for the block; yields the stale holder taken over (``None`` if there was none,
    or if this process already held it). Raises :class:`FolderBusy` if a live process holds it,
    and ``OSError`` if the lock file cannot be created."""
    key = Path(os.path.abspath(folder))
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield None
        finally:
            _HELD[key] -= 1
        return
    fd, previous = _acquire(key, command)
    _HELD[key] = 1
    try:
        yield previous
    finally:
        del _HELD[key]
        _release(fd, lock_path(key))


def _acquire(folder: Path, command: str) -> tuple[int, Holder | None]:
    """An open, locked lock file carrying this process's record, and the stale record it replaced."""
    path = lock_path(folder)
    for _ in range(20):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            kernel = _flock(fd)
            if kernel is None:  # a live process holds it
                raise FolderBusy(folder, _read(fd))
            if not _still_at(fd, path):  # its holder released it (and removed the file) meanwhile: again
                os.close(fd)
                continue
            previous = _read(fd)
            if previous is not None and not kernel and not previous.is_stale():
                raise FolderBusy(folder, previous)
            _write(fd, Holder.me(command))
            return fd, previous
        except BaseException:
            with contextlib.suppress(OSError):
                os.close(fd)
            raise
    raise FolderBusy(folder, None)


def _flock(fd: int) -> bool | None:
    """``True`` if the kernel lock was taken, ``None`` if another process holds it, ``False`` if the
    filesystem has no ``flock`` (the holder record decides)."""
    if fcntl is None:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return None
    except OSError as e:
        if e.errno in _NO_FLOCK:
            return False
        raise
    return True


def _still_at(fd: int, path: Path) -> bool:
    try:
        here = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)


def _read(fd: int) -> Holder | None:
    try:
        data = json.loads(os.pread(fd, 65536, 0).decode("utf-8"))
        return Holder(**data) if isinstance(data, dict) else None
    except (ValueError, TypeError, OSError, RecursionError):  # a record nested absurdly deep is no record
        return None


def _write(fd: int, holder: Holder) -> None:
    data = json.dumps(asdict(holder)).encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)
    os.fsync(fd)


def _release(fd: int, path: Path) -> None:
    """Remove the lock file while still holding it, then let go (a process that opened the old
    file meanwhile sees it is no longer at ``path`` and starts again)."""
    try:
        if _still_at(fd, path):
            path.unlink()
    except OSError:
        pass
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def _start_ticks(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks after boot (Linux), or ``None``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return ""
