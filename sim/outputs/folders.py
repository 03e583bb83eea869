"""Output folders that are whole or absent: checked before a command runs, held by one writer
(:mod:`sim.outputs.locks`), built beside their place and swapped in whole, and sealed with the
digest of every file so that ``report`` can refuse a folder whose files come from different runs.

Resumable folders (sweep, sensitivity, calibration) stay in place: the lock, per-file atomic writes
and the removal of what a killed writer left (``.*.tmp`` files, half-built folders) guard them.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from sim.description.errors import ScenarioError
from sim.outputs.locks import hold

__all__ = [
    "OutputError",
    "check_usable",
    "claim_folder",
    "replacing",
    "remove_leftovers",
    "current_umask",
    "seal",
    "check_seal",
    "RUN_ARTEFACTS",
    "OUTPUT_KINDS",
    "check_kind",
]

RUN_ARTEFACTS = re.compile(
    r"^(summary\.json|compare\.json|plan\.json|explain\.json|(timeseries|differences|candidates|explain|explain_cohorts)\.(csv|parquet)|[^/]+\.png|report\.html)$"
)
"""Names a ``run``, ``compare``, ``plan`` or ``explain`` folder may hold: a new run replaces such a folder whole."""
OUTPUT_KINDS: dict[str, re.Pattern[str]] = {
    "a run": re.compile(r"^(summary\.json|timeseries\.(csv|parquet))$"),
    "a comparison": re.compile(r"^(compare\.json|differences\.(csv|parquet))$"),
    "a plan": re.compile(r"^(plan\.json|candidates\.(csv|parquet))$"),
    "an explanation": re.compile(r"^(explain\.json|explain(_cohorts)?\.(csv|parquet))$"),
    "a sweep": re.compile(r"^(results\.csv|manifest\.json|points\.(csv|parquet)|capacity_curve\.json)$"),
    "a sensitivity analysis": re.compile(r"^sensitivity\.csv$"),
    "a calibration": re.compile(r"^(calibration_plan\.json|calibration\.json|wave_\d+)$"),
}
"""The names that show which command wrote a folder (figures and ``report.html`` belong to several)."""
_RESUMABLE_KINDS = {
    "sweep": ("a sweep",),
    "sensitivity": ("a sweep", "a sensitivity analysis"),  # a sensitivity analysis runs its points as a sweep
    "calibration": ("a calibration",),
}
_TEMPORARY = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")
"""What :func:`sim.outputs.files.atomic_write` names a file before renaming it into place."""
_WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_UMASK_LOCK = threading.Lock()


class OutputError(OSError):
    """A write that failed (a full disk, a lost permission): its text names the path and what to do."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()


def check_kind(out: Path, kind: str, option: str = "--out") -> None:
    """Refuse (``ScenarioError``) a folder a resumable command of ``kind`` (``sweep``,
    ``sensitivity``, ``calibration``) would add to, if it holds another kind of airlift output
    (a run's ``summary.json``, a sweep's ``results.csv`` in a calibration, ...): the two would mix.
    A user's own files are left alone."""
    if not Path(out).is_dir():
        return
    names = sorted(p.name for p in Path(out).iterdir())
    found = {
        what: [name for name in names if marker.match(name)]
        for what, marker in OUTPUT_KINDS.items()
        if what not in _RESUMABLE_KINDS[kind]
    }
    problems = [(str(out), f"holds {what} ({', '.join(held[:3])})") for what, held in found.items() if held]
    if problems:
        why = f"a {kind} adds to its folder and would mix with them: choose another --out, or move them"
        raise ScenarioError(option, [*problems, (str(out), why)])


def check_usable(out: Path, option: str = "--out") -> None:
    """Refuse (``ScenarioError``) an output folder that is a file, lies under a file, or cannot be
    written into or created by this user; nothing is created."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ScenarioError(option, [(str(out), "exists and is not a folder")])
    probe = Path(os.path.abspath(out))
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        raise ScenarioError(option, [(str(out), f"{probe} is not a folder")])
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ScenarioError(option, [(str(out), f"cannot write into {probe} (read-only)")])


@contextlib.contextmanager
def claim_folder(
    out: Path, command: str, *, resumable: bool = False, kind: str | None = None, option: str = "--out", required: bool = True
) -> Iterator[Path]:
    """Hold the output folder ``out`` while the block writes it (its absolute path is yielded).

    Refuses at once (``ScenarioError``, exit 2) a folder that cannot be used or that another
    airlift process holds; removes what a killed writer left; turns a failed write into an
    :class:`OutputError` naming the path (and, if ``resumable``, saying that ``--resume`` continues).
    With ``required=False`` a lock that cannot be created (a read-only parent, where no writer
    could have made one either) is done without. With ``kind``, a folder holding another kind of
    output is refused (:func:`check_kind`).
    """
    check_usable(out, option)
    where = Path(os.path.abspath(out))
    lock = contextlib.ExitStack()
    held = False
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        lock.enter_context(hold(where, command))
        held = True
    except OSError as e:
        if required or e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise ScenarioError(option, [(str(out), f"cannot lock the folder: {e.strerror or e}")]) from None
    with lock:
        if kind is not None:
            check_kind(where, kind, option)
        try:
            if held:
                remove_leftovers(where)
            yield where
        except OSError as e:
            if isinstance(e, OutputError) or e.errno not in _WRITE_ERRORS:
                raise
            raise _output_error(e, where, resumable) from None


def _output_error(e: OSError, folder: Path, resumable: bool) -> OutputError:
    path = e.filename or folder
    text = f"cannot write {path}: {e.strerror or e}"
    if e.errno in _FULL:
        text += " (the disk or your quota is full: free some space"
        text += ", then run the same command with --resume to continue)" if resumable else " and run the command again)"
    elif resumable:
        text += " (run the same command with --resume to continue once it can be written)"
    return OutputError(e.errno or 0, text)


def remove_leftovers(folder: Path) -> list[Path]:
    """Remove what a killed writer of ``folder`` left: temporary files (``.*.tmp``) in it and its
    subfolders, half-built and replaced copies beside it. Call only while holding the folder."""
    removed: list[Path] = []
    folder = Path(os.path.abspath(folder))
    for path in _beside(folder, ("new", "old")):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    if folder.is_dir():
        for path in (*folder.glob(".*.tmp"), *folder.glob("*/.*.tmp")):
            if _TEMPORARY.match(path.name) and path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def _beside(folder: Path, kinds: Iterable[str]) -> list[Path]:
    if not folder.parent.is_dir():
        return []
    return [p for kind in kinds for p in folder.parent.glob(f".{glob_escape(folder.name)}.{kind}-*") if p.is_dir()]


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def _check_replaceable(out: Path) -> None:
    """Refuse to replace a folder that holds anything a run does not write, or the current folder."""
    if not out.is_dir():
        return
    cwd = Path.cwd().resolve()
    if out.resolve() == cwd or out.resolve() in cwd.parents:
        raise ScenarioError("--out", [(str(out), "is the current folder (or holds it): a run replaces its whole folder")])
    foreign = sorted(
        p.name for p in out.iterdir() if not (p.is_file() and (RUN_ARTEFACTS.match(p.name) or _TEMPORARY.match(p.name)))
    )
    if foreign:
        names = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        why = f"holds files a run does not write ({names}); a run replaces its whole folder"
        raise ScenarioError("--out", [(str(out), f"{why}: move them, or choose another --out")])


@contextlib.contextmanager
def replacing(out: Path) -> Iterator[Path]:
    """A new, empty folder beside ``out`` for the block to fill; when the block ends without error it
    takes the place of ``out`` whole (the old folder and everything in it goes), else it is removed
    and ``out`` stays as it was."""
    out = Path(os.path.abspath(out))
    if out.is_symlink():
        out = out.resolve()
    _check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.new-"))
    try:
        os.chmod(stage, 0o777 & ~current_umask())
        yield stage
        _sync(stage)
        _swap_in(stage, out)
    except OSError as e:  # name the file where it was going, not where it was built
        if e.filename and str(e.filename).startswith(f"{stage}{os.sep}"):
            raise OSError(e.errno, e.strerror, f"{out}{str(e.filename)[len(str(stage)) :]}") from e
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)  # the new folder if the block failed, else the old one


def _swap_in(stage: Path, out: Path) -> None:
    """Put ``stage`` at ``out``; the old ``out`` ends at ``stage`` (removed by the caller).

    Where the system can exchange two names in one step (Linux ``renameat2``), ``out`` is always a
    whole folder; elsewhere it is absent for the moment between two renames."""
    if not os.path.lexists(out):
        os.rename(stage, out)
    elif not _exchange(stage, out):
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
        os.rename(out, old / "folder")
        os.rename(stage, out)
        os.rename(old, stage)
    _sync(out.parent)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (``renameat2(RENAME_EXCHANGE)``); ``False`` where unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _sync(folder: Path) -> None:
    """Flush a folder's entries to disk (a crash after the swap keeps the swap)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def current_umask() -> int:
    """The process umask (read by setting it and putting it back: there is no getter)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def seal(folder: Path, names: Iterable[str]) -> dict[str, str]:
    """``{file name: digest}`` of the files a run wrote into ``folder`` (its summary lists them)."""
    return {name: _digest(Path(folder) / name) for name in names}


def check_seal(folder: Path, summary_name: str, files: Mapping[str, str]) -> None:
    """Refuse (``ScenarioError``) a folder whose files are not exactly those its summary lists:
    one missing, one changed since (or written by another run), or an artefact it does not list."""
    folder = Path(folder)
    problems = []
    for name, digest in files.items():
        path = folder / name
        if not path.is_file():
            problems.append((name, f"listed by {summary_name} but missing"))
        elif _digest(path) != digest:
            problems.append((name, f"not the file the run of {summary_name} wrote (changed since, or from another run)"))
    for path in sorted(folder.iterdir()):
        if path.name not in files and path.name not in (summary_name, "report.html") and RUN_ARTEFACTS.match(path.name):
            problems.append((path.name, f"not written by the run of {summary_name}"))
    if problems:
        problems.append(("", "the folder mixes runs: run the command again to write it whole"))
        raise ScenarioError(str(folder), problems)
