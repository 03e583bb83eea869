"""Points in time as a scenario writes them, read one way only.

A time is an ISO 8601 datetime or a number of days after ``start`` (at most ``MAX_DAYS`` either
side). A datetime may be written as TOML writes one (offset or local datetime, or a date, which
means midnight) or as a quoted ISO string; without an offset it takes the offset of ``start``.
A number in quotes is never a time (it would otherwise be read as a Unix timestamp), nor is a
time of day alone. ``start`` itself must carry its UTC offset.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Discriminator, Field, Tag

from sim.description.bounds import MAX_DAYS, MAX_PEOPLE
from sim.description.values import Number, StrictModel

__all__ = ["TIME_BRANCHES", "Days", "StartTime", "StepValue", "TimeSpec", "Window"]

_EXAMPLE = "2021-08-14T00:00:00+04:30"
_EITHER = "expected an ISO datetime or a number of days after start"

TIME_BRANCHES = ("as datetime", "as days")
"""The two readings of a time, as pydantic names them in the location of an error (and the
error messages leave out)."""


def _datetime_of(v: Any, expected: str) -> datetime:
    """A datetime from a TOML datetime or date, or an ISO string; else a ValueError saying ``expected``."""
    if isinstance(v, datetime):
        return v
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)  # a date is its midnight
    if isinstance(v, time):
        v = v.isoformat()
    if not isinstance(v, str):
        raise ValueError(expected)
    text = v.strip()
    try:
        float(text)
    except ValueError:
        pass
    else:
        raise ValueError("a number in quotes is not a time: write days after start without quotes, or an ISO datetime")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        time.fromisoformat(text)
    except ValueError:
        raise ValueError(expected) from None
    raise ValueError(f"a time of day needs its date: write an ISO datetime, e.g. {_EXAMPLE}")


def _time_input(v: Any) -> Any:
    """A time as given: numbers (days after start) pass on; everything else becomes a datetime or an error."""
    if isinstance(v, bool):
        raise ValueError(f"{_EITHER}, not a boolean")
    if isinstance(v, int | float):
        return v
    return _datetime_of(v, _EITHER)


def _branch(v: Any) -> str:
    return TIME_BRANCHES[0] if isinstance(v, datetime) else TIME_BRANCHES[1]


Days = Annotated[Number, Field(ge=-MAX_DAYS, le=MAX_DAYS)]
"""A number of days after the scenario start."""
TimeSpec = Annotated[
    Annotated[datetime, Tag(TIME_BRANCHES[0])] | Annotated[Days, Tag(TIME_BRANCHES[1])],
    Discriminator(_branch),
    BeforeValidator(_time_input),
]
"""A point in time: an ISO datetime, or days after the scenario start."""


def _start_input(v: Any) -> datetime:
    expected = f"expected an ISO datetime with a UTC offset, e.g. {_EXAMPLE}"
    if isinstance(v, bool | int | float):
        raise ValueError(expected)
    return _datetime_of(v, expected)


def _start_checked(v: datetime) -> datetime:
    if v.tzinfo is None:
        raise ValueError(f"needs a UTC offset, e.g. {_EXAMPLE}")
    try:  # every other time lies within MAX_DAYS of start: all of them must be dates of the calendar
        for days in (-MAX_DAYS - 1, MAX_DAYS + 1):
            (v + timedelta(days=days)).astimezone(UTC)
    except OverflowError:
        raise ValueError(f"too near the end of the calendar: times reach {MAX_DAYS:,} days either side of start") from None
    return v


StartTime = Annotated[datetime, BeforeValidator(_start_input), AfterValidator(_start_checked)]
"""The start of a scenario: an ISO datetime with its UTC offset, far enough from the calendar's ends."""


class Window(StrictModel):
    """A closed period: from ``start`` until ``end`` (absent: until the security end)."""

    start: TimeSpec
    """Start of the closed period (datetime or days after start)."""
    end: TimeSpec | None = None
    """End of the closed period; absent: until the security end."""


class StepValue(StrictModel):
    """A value that holds from ``from_`` (a time) onwards."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, use_attribute_docstrings=True)
    from_: TimeSpec = Field(alias="from")
    """From when (datetime or days after start); written ``from`` in TOML."""
    value: Annotated[Number, Field(ge=0, le=MAX_PEOPLE)]
    """The value from then on."""
