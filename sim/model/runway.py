"""The runway: a calendar of movements, each occupying the one runway for a separation time.

A movement (landing or take-off) is booked at the earliest start at or after the time asked
for such that its occupancy ``[start, start + separation)`` overlaps no other movement and no
closure. Separation depends on whether the start is by day or by night (and is shorter while a
``relief`` of the runway is in force). Bookings are made at
or after the current time, so landings can be booked ahead when an aircraft is cleared at its
staging base (it then leaves the base at the time that makes it arrive on its slot).

Times are sums of many separations, so a movement that should end exactly when a closure starts
may overrun it by rounding: overlaps with a closure shorter than ``EPS`` hours (a few
microseconds) are not conflicts.

Records: ``records.movements`` gets a :class:`~sim.model.records.Movement` for each booking, and a
second one with ``cancelled=True`` when a booking is given back.
"""

from __future__ import annotations

import bisect

from sim.description.airport import Runway as RunwaySpec
from sim.model.records import Movement, MovementKind, Records
from sim.model.timeline import Timeline, in_hours_window

__all__ = ["Runway", "EPS"]

EPS = 1e-9


class Runway:
    """Movement slots on one runway, with day/night separation and closures."""

    def __init__(self, spec: RunwaySpec, timeline: Timeline, records: Records):
        self.spec = spec
        self.tl = timeline
        self.records = records
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._night = (spec.night_start_hour, spec.night_end_hour)
        self._hours = (spec.separation_day_min / 60.0, spec.separation_night_min / 60.0)

        speedup = timeline.runway_speedup
        if speedup.times:  # a relief: separation divided by 1 + its fraction while in force
            self.separation = self._relieved_separation  # type: ignore[method-assign]

    def separation(self, t: float) -> float:
        """Hours a movement starting at ``t`` occupies the runway."""
        return self._hours[in_hours_window(self.tl.hour_of_day(t), *self._night)]

    def _relieved_separation(self, t: float) -> float:
        return self._hours[in_hours_window(self.tl.hour_of_day(t), *self._night)] / self.tl.runway_speedup(t)

    def earliest(self, t: float) -> float:
        """The earliest start at or after ``t`` that the runway can take."""
        starts, ends = self._starts, self._ends
        while True:
            moved = False
            end = t + self.separation(t)
            for a, b in self.tl.runway_closures:
                if a < end - EPS and t < b:
                    t, moved = b, True
                    break
            if moved:
                continue
            i = bisect.bisect_right(ends, t)  # bookings ending after t
            # occupancy is non-overlapping and sorted, so one look at the next booking suffices
            while i < len(starts) and starts[i] < end:
                t, moved = ends[i], True
                i += 1
                end = t + self.separation(t)
            if not moved:
                return t

    def book(self, t: float, kind: MovementKind, aircraft: str) -> float:
        """Book the earliest slot at or after ``t``; returns its start (hours)."""
        start = self.earliest(t)
        end = start + self.separation(start)
        i = bisect.bisect_left(self._starts, start)
        self._starts.insert(i, start)
        self._ends.insert(i, end)
        self.records.movements.append(Movement(start, end, kind, aircraft))
        return start

    def cancel(self, start: float, kind: MovementKind, aircraft: str) -> None:
        """Give back a booked slot that will not be flown (recorded as cancelled)."""
        i = bisect.bisect_left(self._starts, start)
        end = self._ends[i]
        del self._starts[i]
        del self._ends[i]
        self.records.movements.append(Movement(start, end, kind, aircraft, cancelled=True))

    def forget_before(self, t: float) -> None:
        """Drop bookings that ended before ``t`` (they can no longer conflict)."""
        k = bisect.bisect_right(self._ends, t)
        if k > 64:
            del self._starts[:k]
            del self._ends[:k]
