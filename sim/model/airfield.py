"""The airfield holding area: screened families wait here, by cohort, until they board.

Capacity counts people inside *and* people in screening lanes (a lane only starts on a family
if there will be room for it), so the area is never over-full and gates block, rather than
lose anyone, when it is full. Boarding takes whole families in priority order, then first
come first served, among the cohorts the aircraft's operator may carry.
"""

from __future__ import annotations

from collections import deque
from itertools import islice
from typing import Protocol

__all__ = ["Families", "Holding", "Upstream"]


class Families(Protocol):
    """The population as the holding area sees it: family sizes and cohorts, and their status."""

    size: list[int]
    cohort: list[int]
    cohort_names: list[str]

    def admit_to_holding(self, groups: list[int]) -> None: ...

    def board(self, groups: list[int]) -> None: ...


class Upstream(Protocol):
    """What feeds the holding area (the perimeter): advanced lazily, told when room frees."""

    def advance_to(self, t: float) -> None: ...

    def room_freed(self, t: float) -> None: ...


class Holding:
    """People inside the perimeter waiting for an aircraft, plus troops awaiting retrograde."""

    #: how far past an oversized family boarding looks for one that fits the seats left
    FIT_SCAN = 8

    def __init__(self, capacity_people: int, population: Families):
        self.capacity = capacity_people
        self.pop = population
        self.queues: list[deque[int]] = [deque() for _ in population.cohort_names]
        self.people_inside = 0  # in the holding area
        self.reserved = 0  # in screening lanes, room kept for them
        self.troops_waiting = 0
        self.peak_people = 0  # most people inside or in screening at once
        self.upstream: Upstream | None = None

    # -- the perimeter side --------------------------------------------------------------
    def reserve(self, n: int) -> bool:
        """Keep room for ``n`` people about to be screened; False if they would not fit."""
        if self.people_inside + self.reserved + n > self.capacity:
            return False
        self.reserved += n
        if self.people_inside + self.reserved > self.peak_people:
            self.peak_people = self.people_inside + self.reserved
        return True

    def admit(self, groups: list[int]) -> None:
        """Screened families enter, in the order they finished screening (their room was reserved)."""
        size, cohort, queues = self.pop.size, self.pop.cohort, self.queues
        n = 0
        for g in groups:
            n += size[g]
            queues[cohort[g]].append(g)
        self.reserved -= n
        self.people_inside += n
        self.pop.admit_to_holding(groups)

    # -- the aircraft side ---------------------------------------------------------------
    def sync(self, t: float) -> None:
        if self.upstream is not None:
            self.upstream.advance_to(t)

    def fill_fraction(self) -> float:
        return self.people_inside / self.capacity

    def has_eligible(self, cohorts: list[int]) -> bool:
        return any(self.queues[c] for c in cohorts)

    def board(self, t: float, cohorts: list[int], seats: int) -> tuple[list[int], int]:
        """Take whole families for up to ``seats`` people from ``cohorts`` (in priority order).

        Returns the families taken and the people in them."""
        taken: list[int] = []
        left = seats
        size = self.pop.size
        for c in cohorts:
            q = self.queues[c]
            while q and left > 0:
                g = q[0]
                if size[g] <= left:
                    q.popleft()
                else:
                    g = next((x for x in islice(q, 1, self.FIT_SCAN + 1) if size[x] <= left), -1)
                    if g < 0:
                        break
                    q.remove(g)
                taken.append(g)
                left -= size[g]
            if left == 0:
                break
        self.pop.board(taken)
        n = seats - left
        if n:
            self.people_inside -= n
            if self.upstream is not None:
                self.upstream.room_freed(t)
        return taken, n

    def troops_ready(self, troops: int) -> None:
        """Troops awaiting retrograde join the front of the line."""
        self.troops_waiting += troops

    def has_troops(self) -> bool:
        return self.troops_waiting > 0

    def board_troops(self, seats: int) -> int:
        n = min(seats, self.troops_waiting)
        self.troops_waiting -= n
        return n
