"""The limits of every number a scenario may hold: large enough for any real airlift, small enough
that nothing downstream overflows or runs for ever. The schema's bounds and the scenario reference
(docs/scenario-reference.md) quote these."""

from __future__ import annotations

MAX_PEOPLE = 10_000_000
"""Upper bound of every count of people (a cohort, a capacity, a rate a day, troops)."""
MAX_AIRCRAFT = 1_000
"""Upper bound of aircraft in one fleet (``count`` and ``count_schedule`` values)."""
MAX_SPOTS = 10_000
"""Upper bound of parking spots of one size class."""
MAX_LANES = 10_000
"""Upper bound of screening lanes at one gate (``lanes``, ``lane_schedule``, ``lanes`` disruptions)."""
MAX_SEATS = 10_000
"""Upper bound of seats of one aircraft."""
MAX_TIMETABLE_SLOTS = 100_000
"""Upper bound of the scheduled departures of one fleet (``timetable``): one every 5 minutes for a year."""
MAX_BOARDING_STEPS = 1_000
"""Upper bound of the steps of one operator's boarding rule (``boarding.<operator>``)."""
MAX_FAMILY = 100
"""Upper bound of a family's size (and of the mean size)."""
MAX_DAYS = 3_660
"""Every time lies within this many days of ``start`` (either side), as days or as a datetime."""
MAX_WINDOW_DAYS = 366
"""The security window (from ``start`` to ``security.end``) is at most this many days."""
MAX_HOURS = MAX_WINDOW_DAYS * 24
"""Upper bound of every duration in hours."""
MAX_PATIENCE_HOURS = 1e9
"""Upper bound of the patience means (a mean this long means: never gives up)."""
MAX_MINUTES = 7 * 24 * 60
"""Upper bound of every duration in minutes (a week)."""
MAX_CV = 10.0
"""Upper bound of a coefficient of variation (``registration.travel_cv``)."""
MAX_WEIGHT = 1e9
"""Upper bound of relative weights."""
MAX_TARGET = 1e150
"""Upper bound of the size of a published figure (``[targets]`` values and ranges), so that its
square and the square of a range's width stay finite."""
MIN_TARGET_SD = 1e-150
"""Lower bound of a target's standard deviation, so that its square (the variance) is not zero."""
MAX_NESTING = 32
"""Lists and tables in a scenario file or an override nest at most this deep (the schema needs 6)."""
