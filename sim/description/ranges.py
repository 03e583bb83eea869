"""An entry of the ``[uncertain]`` table: the plausible range of one unpublished parameter.

Whether the range is valid for its key is checked where the whole scenario is (:mod:`sim.description.scenario`);
sampling it is :mod:`sim.description.uncertainty`'s job.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import StrictFloat, StrictInt, model_validator

from sim.description.values import StrictModel

__all__ = ["Uncertain"]


class Uncertain(StrictModel):
    """The plausible range of one unpublished parameter, keyed by its dotted name in ``[uncertain]``.

    The key's own value stays the scenario's best guess; the range is what sensitivity analysis and
    calibration explore. A key holding an integer is sampled as integers (as is a whole-number key
    whose ``low`` and ``high`` are both written as integers, e.g. a ``count_schedule`` step).
    """

    low: StrictInt | StrictFloat
    """Lowest plausible value (must be valid for the key)."""
    high: StrictInt | StrictFloat
    """Highest plausible value (must be valid for the key), above ``low``."""
    distribution: Literal["uniform", "loguniform", "triangular"] = "uniform"
    """``uniform``, ``loguniform`` (needs ``low > 0``) or ``triangular`` (peaks at ``mode``)."""
    mode: StrictInt | StrictFloat | None = None
    """Most likely value, for ``triangular`` only (between ``low`` and ``high``)."""
    note: str = ""
    """Why this range: the source or the reasoning."""

    @model_validator(mode="after")
    def _range(self) -> Uncertain:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("low and high must be finite numbers")
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.distribution == "loguniform" and self.low <= 0:
            raise ValueError("a loguniform range needs low > 0")
        if self.distribution == "triangular":
            if self.mode is None or not self.low <= self.mode <= self.high:
                raise ValueError("a triangular range needs a mode between low and high")
        elif self.mode is not None:
            raise ValueError("mode is only for the triangular distribution")
        return self
