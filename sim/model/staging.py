"""Staging bases: room for evacuees, and their onward outflow.

A base's population drains continuously at its outflow rate (people per day, which may step
on dates). Room is committed when an aircraft boards people for the base, so the base is never over-full
under the capacity in force when a load was committed; an aircraft whose bases are all full
waits on the ground. This is how the 20 August 2021 pause emerges: Qatar fills faster than it
empties until more bases open.

A capacity cut (a ``staging_capacity`` disruption) stops new commitments at once, but committed
loads are honoured: aircraft already boarded for the base land their people there, so the level
may exceed the cut by what was committed before it, and never exceeds the capacity in force at
the base's last commitment (or at the arrival, if higher).

Records: ``records.arrivals`` gets an :class:`~sim.model.records.Arrival` (with the level after it)
for every load landed at the base.
"""

from __future__ import annotations

import bisect
import math

from sim.description.fleets import Base
from sim.model.records import Arrival, Records
from sim.model.timeline import Steps, Timeline

__all__ = ["StagingBase"]


class StagingBase:
    """Occupancy as a level that drains at a rate, updated lazily when read."""

    def __init__(self, name: str, spec: Base, timeline: Timeline, opens_hours: float, records: Records):
        self.name = name
        self.records = records
        self.spec = spec
        self.flight_hours = spec.flight_hours
        self.capacity: Steps = timeline.base_capacity[name]
        self.outflow: Steps = timeline.base_outflow[name]  # people per hour
        self.opens = opens_hours
        self.people = float(spec.initial_people)
        self.committed = 0  # people aboard aircraft bound here, or boarding for here
        self.received = 0
        self._t = 0.0
        self._rate, self._rate_until = self._outflow_from(0.0)

    def _outflow_from(self, t: float) -> tuple[float, float]:
        """The outflow in force at ``t`` and when it next changes."""
        i = bisect.bisect_right(self.outflow.times, t)
        return self.outflow.values[i], self.outflow.times[i] if i < len(self.outflow.times) else math.inf

    def _update(self, t: float) -> None:
        if t > self._t:
            if t <= self._rate_until:  # one outflow over the whole time: Steps.integral's sum, without its loop
                drained = 0.0 + self._rate * (t - self._t)
            else:
                drained = self.outflow.integral(self._t, t)
                self._rate, self._rate_until = self._outflow_from(t)
            self.people = max(0.0, self.people - drained)
            self._t = t

    def level(self, t: float) -> float:
        self._update(t)
        return self.people

    def room(self, t: float) -> int:
        """People it can still accept (none before it opens)."""
        if t < self.opens:
            return 0
        self._update(t)
        return max(0, math.floor(self.capacity(t) - self.people - self.committed))

    def commit(self, n: int) -> None:
        self.committed += n

    def arrive(self, n: int, t: float) -> None:
        self._update(t)
        self.committed -= n
        self.people += n
        self.received += n
        self.records.arrivals.append(Arrival(t, self.name, n, self.people))
