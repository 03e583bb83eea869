"""What the description layer says when input is wrong: one error type naming the file and each field.

:class:`ScenarioError` holds structured problems (``(dotted field, message)`` pairs); its text is
the complete message the command line prints. Every check of a scenario, an override, a sweep
or an ensemble raises it; nothing here knows the schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["ScenarioError", "known_names"]


class ScenarioError(Exception):
    """Bad scenario input. ``str(error)`` is a complete message naming the file and field."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        lines = [f"{source}: {field}: {msg}" if field else f"{source}: {msg}" for field, msg in problems]
        super().__init__("\n".join(lines))


def known_names(names: Iterable[Any]) -> str:
    """The names an error lists as known, sorted, or ``none``."""
    return ", ".join(sorted(str(n) for n in names)) or "none"
