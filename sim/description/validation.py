"""Pydantic's validation errors in a user's words: each problem named by its dotted field
(``disruptions.2.end``), once, with a short rendering of the value refused."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, time
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from sim.description.airport import WITHDRAWAL_FORMS
from sim.description.disruptions import DISRUPTION_KINDS
from sim.description.errors import FieldProblems, known_names
from sim.description.times import TIME_BRANCHES

__all__ = ["bound_message", "field_name", "problems_of", "shown"]

_SHOWN_CHARACTERS = 40
"""A refused value is quoted whole up to this many characters, else cut."""


def field_name(loc: Iterable[Any]) -> str:
    """The dotted name of an error's location, without the branch tags pydantic adds for unions (the
    reading of a time, the kind of a disruption, the form of ``retrograde``); a key holding dots (of
    ``[uncertain]``) is quoted."""
    parts: list[str] = []
    loc = tuple(loc)
    for k, p in enumerate(loc):
        if isinstance(p, str) and p in TIME_BRANCHES and k == len(loc) - 1:
            continue
        if isinstance(p, str) and p in WITHDRAWAL_FORMS and k == 1 and loc[0] == "retrograde":
            continue
        if (
            isinstance(p, str)
            and p in DISRUPTION_KINDS
            and k >= 2
            and loc[k - 2] == "disruptions"
            and isinstance(loc[k - 1], int)
        ):
            continue
        parts.append(f'"{p}"' if isinstance(p, str) and "." in p else str(p))
    return ".".join(parts)


def shown(value: Any) -> str:
    """A value as an error quotes it: times in ISO 8601, text in quotes, anything long cut short."""
    text = value.isoformat() if isinstance(value, date | time) else repr(value)
    if len(text) <= _SHOWN_CHARACTERS:
        return text
    return f"{text[:30]}... ({len(text):,} characters)"


_BOUNDS = {
    "greater_than": "greater than",
    "greater_than_equal": "greater than or equal to",
    "less_than": "less than",
    "less_than_equal": "less than or equal to",
}


def bound_message(kind: str, ctx: Mapping[str, Any]) -> str | None:
    """A bound's message with a very small or large bound in exponent form (``1e-150``, not 150
    digits); ``None`` for any other error or an ordinary bound (pydantic's own message)."""
    bound = next(iter(ctx.values()), None) if kind in _BOUNDS else None
    if not isinstance(bound, float) or bound == 0 or 1e-6 <= abs(bound) < 1e16:
        return None
    return f"Input should be {_BOUNDS[kind]} {bound:g}"


def _message(err: ErrorDetails) -> tuple[str, str]:
    """One error as ``(field, message)``."""
    field, kind, ctx = field_name(err["loc"]), err["type"], err.get("ctx") or {}
    if kind == "extra_forbidden":
        return field, "unknown key (check the spelling; unknown keys are errors)"
    if kind == "missing":
        return field, "missing (required)"
    if kind in ("union_tag_invalid", "union_tag_not_found"):  # a disruption's kind
        tag_field = f"{field}.{str(ctx.get('discriminator', '')).strip(chr(39))}"
        if kind == "union_tag_not_found":
            return tag_field, "missing (required)"
        known = known_names(t.strip().strip("'") for t in str(ctx.get("expected_tags", "")).split(","))
        return tag_field, f"unknown kind {ctx.get('tag')!r} (known: {known})"
    msg = bound_message(kind, ctx) or err["msg"].removeprefix("Value error, ")
    if not isinstance(err.get("input"), Mapping | list | tuple):
        msg = f"{msg} (got {shown(err.get('input'))})"
    return field, msg


def problems_of(error: ValidationError) -> list[tuple[str, str]]:
    """Every problem of a validation error, in order, each once. Problems found across fields
    (:class:`FieldProblems`) name their own fields; a list that lost a bad element is not
    reported as too short (the element's own error says it)."""
    errors = error.errors(include_url=False)
    fields = [field_name(err["loc"]) for err in errors]
    problems: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for err, field in zip(errors, fields, strict=True):
        carried = (err.get("ctx") or {}).get("error")
        if isinstance(carried, FieldProblems):
            found = carried.problems
        elif err["type"] == "too_short" and any(f.startswith(field + ".") for f in fields):
            continue
        else:
            found = [_message(err)]
        for problem in found:
            if problem not in seen:
                seen.add(problem)
                problems.append(problem)
    return problems
