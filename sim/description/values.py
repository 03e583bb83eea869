"""The kinds of value a scenario is made of: finite numbers (never booleans), bounded ranges,
names, read-only tables, and the strict frozen base of every part of the schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, NoReturn, TypeVar

from pydantic import AfterValidator, AllowInfNan, BaseModel, BeforeValidator, ConfigDict, Field

from sim.description.bounds import MAX_HOURS, MAX_MINUTES, MAX_PEOPLE, MAX_WEIGHT

__all__ = [
    "FrozenDict",
    "FrozenMap",
    "Fraction",
    "HourOfDay",
    "Hours",
    "Minutes",
    "Name",
    "NonNegative",
    "Number",
    "People",
    "PeoplePerDay",
    "Positive",
    "PositiveHours",
    "PositiveMinutes",
    "StrictModel",
    "Weight",
    "Whole",
]

K = TypeVar("K")
V = TypeVar("V")


def _not_bool(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("expected a number, not a boolean")
    return v


Number = Annotated[float, BeforeValidator(_not_bool), AllowInfNan(False)]
"""A finite number (an integer is accepted, a boolean never)."""
Whole = Annotated[int, BeforeValidator(_not_bool)]
"""A whole number (never a boolean)."""

Positive = Annotated[Number, Field(gt=0)]
NonNegative = Annotated[Number, Field(ge=0)]
Fraction = Annotated[Number, Field(ge=0, le=1)]
Hours = Annotated[Number, Field(ge=0, le=MAX_HOURS)]
PositiveHours = Annotated[Number, Field(gt=0, le=MAX_HOURS)]
Minutes = Annotated[Number, Field(ge=0, le=MAX_MINUTES)]
PositiveMinutes = Annotated[Number, Field(gt=0, le=MAX_MINUTES)]
HourOfDay = Annotated[Number, Field(ge=0, lt=24)]
Weight = Annotated[Number, Field(ge=0, le=MAX_WEIGHT)]
People = Annotated[Whole, Field(ge=0, le=MAX_PEOPLE)]
PeoplePerDay = Annotated[Number, Field(ge=0, le=MAX_PEOPLE)]
Name = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")]


class FrozenDict(dict[K, V]):
    """A dict that cannot be changed after it is built: a scenario's tables are read-only."""

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a scenario is immutable: use Scenario.with_overrides for a changed copy")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _read_only  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:  # pickling and deepcopy build a new one whole
        return (type(self), (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self.items()))


FrozenMap = Annotated[Mapping[K, V], AfterValidator(FrozenDict)]
"""A read-only table (validated as a dict, kept as a :class:`FrozenDict`)."""


class StrictModel(BaseModel):
    """A part of a scenario: unknown keys are errors, nothing changes once built, defaults are checked too."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, use_attribute_docstrings=True)
