"""What the description layer says when input is wrong: one error type naming the file and each field.

:class:`ScenarioError` holds structured problems (``(dotted field, message)`` pairs); its text is
the complete message the command line prints. Every check of a scenario, an override, a sweep
or an ensemble raises it; nothing here knows the schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["FieldProblems", "ScenarioError", "known_names"]

MAX_SHOWN = 20
"""An error's text lists at most this many problems (all of them stay in ``problems``)."""


class ScenarioError(Exception):
    """Bad scenario input. ``str(error)`` is a complete message naming the file and field."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        lines = [f"{source}: {field}: {msg}" if field else f"{source}: {msg}" for field, msg in problems[:MAX_SHOWN]]
        if len(problems) > MAX_SHOWN:
            lines.append(f"{source}: ... and {len(problems) - MAX_SHOWN:,} more problems")
        super().__init__("\n".join(lines))


class FieldProblems(ValueError):
    """Problems a validator finds across fields, each naming its own dotted field: raised inside
    pydantic, carried out as data (``problems``) into a :class:`ScenarioError`."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("\n".join(f"{field}: {msg}" for field, msg in problems))  # shown if read as a ValidationError


def known_names(names: Iterable[Any]) -> str:
    """The names an error lists as known, sorted, or ``none``."""
    return ", ".join(sorted(str(n) for n in names)) or "none"
