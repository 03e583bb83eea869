"""The ``ASSUMPTION`` notes of a scenario file: the comments that say which values are not
published, why they were chosen and their plausible range.

They live in TOML comments, which a TOML parser drops, so this module reads the text itself,
follows ``extends`` to the base files, and ties each note to the dotted key on its line (or on
the line above, for a note that continues on its own comment lines). It never validates.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Note", "assumption_notes"]

_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?")
_KEY = re.compile(r"""^\s*("[^"]+"|[A-Za-z0-9_.\-]+)\s*=\s*(.*)$""")


@dataclass(frozen=True)
class Note:
    """One assumption: the dotted key it is about, its value as written, the note, the file."""

    key: str
    value: str
    note: str
    file: str


def _split_comment(line: str) -> tuple[str, str]:
    """Code and comment of a TOML line (a ``#`` inside a string is not a comment)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i].rstrip(), line[i + 1 :].strip()
    return line.rstrip(), ""


def _notes_of(path: Path) -> list[Note]:
    notes: list[Note] = []
    table = ""
    arrays: dict[str, int] = {}
    current: Note | None = None
    for raw in path.read_text(encoding="utf-8-sig").splitlines():
        code, comment = _split_comment(raw)
        m = _TABLE.match(code) if code.strip().startswith("[") else None
        key, value = None, ""
        if m:
            name = m.group(1).replace('"', "")
            if code.strip().startswith("[["):
                arrays[name] = arrays.get(name, -1) + 1
                name = f"{name}.{arrays[name]}"
            table, key = name, name
        elif code.strip():
            k = _KEY.match(code)
            if k:
                key = f"{table}.{k.group(1).strip(chr(34))}" if table else k.group(1).strip('"')
                value = k.group(2).strip()
        if key is not None:
            current = None
            if "ASSUMPTION" in comment:
                current = Note(key, value, comment, path.name)
                notes.append(current)
            elif comment:
                current = Note(key, value, "", path.name)
        elif not code.strip() and comment and current is not None:
            if current.note:
                notes[-1] = current = Note(current.key, current.value, f"{current.note} {comment}", current.file)
            elif "ASSUMPTION" in comment:
                current = Note(current.key, current.value, comment, current.file)
                notes.append(current)
        else:
            current = None
    return notes


def assumption_notes(path: str | Path, _seen: tuple[Path, ...] = ()) -> list[Note]:
    """Every ``ASSUMPTION`` note of a scenario file and of the files it ``extends`` (the base's
    first), each tied to its dotted key; a key set again lower down keeps the later note."""
    p = Path(path).resolve()
    if p in _seen or not p.is_file():
        return []
    notes: list[Note] = []
    try:
        parent = tomllib.loads(p.read_text(encoding="utf-8-sig")).get("extends")
    except (tomllib.TOMLDecodeError, OSError):
        parent = None
    if isinstance(parent, str):
        notes += assumption_notes(p.parent / parent, (*_seen, p))
    mine = _notes_of(p)
    keys = {n.key for n in mine}
    return [n for n in notes if n.key not in keys] + mine
