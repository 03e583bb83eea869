"""The airfield holding area: screened families wait here, by cohort, until they board.

Capacity counts people inside *and* people in screening lanes (a lane only starts on a family
if there will be room for it), so the area is never over-full and gates block, rather than
lose anyone, when it is full. Boarding takes whole families in priority order, then first
come first served, among the cohorts the aircraft's operator may carry.

The families waiting here and the people counts live in the compiled state the perimeter
builds (:mod:`sim.model.perimeter_core`), of which this class is a view: a screened family enters its cohort's queue inside
the perimeter's loop, and boarding (:func:`perimeter_core.board`) takes families from the
queues, writes their status for the population and restarts gates that waited for room, in one
compiled call. This class is what the aircraft see of it; it also keeps the troops awaiting
retrograde.

Records: ``records.gate_stops`` gets a :class:`~sim.model.records.GateStop` when boarding frees
room for the next family of a gate the full holding area stopped, and at the end for gates
still stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from sim.model import perimeter_core as core
from sim.model.records import GateStop, Records

__all__ = ["Holding", "Upstream"]


class Upstream(Protocol):
    """What feeds the holding area: the perimeter, whose compiled state the holding area is a
    view of, advanced lazily to the aircraft's clock."""

    state: core.Core

    def advance_to(self, t: float) -> None: ...


class Holding:
    """People inside the perimeter waiting for an aircraft, plus troops awaiting retrograde."""

    def __init__(self, upstream: Upstream, records: Records):
        self.upstream = upstream
        self.records = records
        self._state = state = upstream.state
        self._counters = state.counters
        self.troops_waiting = 0
        """Troops awaiting retrograde, of every withdrawal."""
        self.troops_by_withdrawal: dict[int, int] = {}
        """Troops awaiting retrograde by withdrawal (its index in the scenario's withdrawals)."""
        self._cohorts: dict[tuple[int, ...], np.ndarray] = {}
        self._made: set[int] = set()
        self._board = core.direct(core.board, state, 0.0, np.zeros(1, dtype=np.int64), 0)
        self._heads = state.q_head[state.hold_q :]  # the holding queues' first families (-1: empty)
        self._queued = core.direct(core.queued, self._heads, np.zeros(1, dtype=np.int64))

    def cohort_set(self, cohorts: Sequence[int]) -> np.ndarray:
        """The cohorts as the compiled code takes them, checked once (it does not check bounds):
        name the cohorts an aircraft may carry with it, then board from them."""
        key = tuple(cohorts)
        arr = self._cohorts.get(key)
        if arr is None:
            n_cohorts = len(self._state.q_head) - self._state.hold_q
            if any(not 0 <= c < n_cohorts for c in key):
                raise ValueError(f"cohorts {key}: there are {n_cohorts} cohorts")
            arr = self._cohorts[key] = np.array(key, dtype=np.int64)
            self._made.add(id(arr))  # kept alive in _cohorts: its id stays its own
        return arr

    def _cohort_array(self, cohorts: Sequence[int] | np.ndarray) -> np.ndarray:
        """The cohorts as given by :meth:`cohort_set`, or made so."""
        if isinstance(cohorts, np.ndarray) and id(cohorts) in self._made:
            return cohorts
        return self.cohort_set([int(c) for c in cohorts])

    # -- levels ---------------------------------------------------------------------------
    @property
    def people_inside(self) -> int:
        """People in the holding area now."""
        return self._counters.item(core.INSIDE_PEOPLE)

    @property
    def reserved(self) -> int:
        """People in screening lanes, for whom room is kept."""
        return self._counters.item(core.RESERVED)

    @property
    def peak_people(self) -> int:
        """Most people inside or in screening at once."""
        return int(self._counters[core.PEAK])

    # -- the aircraft side ---------------------------------------------------------------
    def ready(self, t: float, cohorts: Sequence[int] | np.ndarray) -> bool:
        """The holding area as it is at ``t`` (the perimeter advanced to it): anyone of these cohorts in it?"""
        self.upstream.advance_to(t)
        return self._queued(self._heads, cohorts if id(cohorts) in self._made else self._cohort_array(cohorts))

    @property
    def capacity(self) -> int:
        """People the holding area can hold now (a relief may change it)."""
        return self._counters.item(core.CAPACITY)

    def fill_fraction(self) -> float:
        counters = self._counters  # read once a chalk: the counters straight, not the properties
        return counters.item(core.INSIDE_PEOPLE) / counters.item(core.CAPACITY)

    def board(self, t: float, cohorts: Sequence[int] | np.ndarray, seats: int) -> tuple[list[int], int, bool]:
        """Take whole families for up to ``seats`` people from ``cohorts`` (in priority order).

        Returns the families taken, the people in them, and whether any of these cohorts are left."""
        arr = cohorts if id(cohorts) in self._made else self._cohort_array(cohorts)
        if seats <= 0:
            return [], 0, self._queued(self._heads, arr)
        k = self._board(self._state, float(t), arr, int(seats))
        counters = self._counters
        if counters.item(core.RESTARTS):
            self._restarted(float(t))
        return self._state.taken[:k].tolist(), counters.item(core.BOARDED_PEOPLE), counters.item(core.LEFT_ELIGIBLE) > 0

    def _restarted(self, t: float) -> None:
        """Record the stops the last boarding ended."""
        for gate, began in enumerate(self._state.restarted.tolist()):
            if began <= t:  # NaN: this gate's stop, if any, goes on
                self.records.gate_stops.append(GateStop(began, t, gate))

    def settle(self, t: float) -> None:
        """At the end: the gates still stopped for want of room were stopped until ``t``."""
        stopped = self._state.gate_i[:, core.BLOCKED].tolist()
        for gate, began in enumerate(self._state.gate_f[:, core.STOPPED_SINCE].tolist()):
            if stopped[gate]:
                self.records.gate_stops.append(GateStop(began, t, gate))

    def troops_ready(self, troops: int, withdrawal: int = 0) -> None:
        """Troops of a withdrawal (its index) awaiting retrograde join the front of the line."""
        self.troops_by_withdrawal[withdrawal] = self.troops_by_withdrawal.get(withdrawal, 0) + troops
        self.troops_waiting += troops

    def has_troops(self) -> bool:
        return self.troops_waiting > 0

    def board_troops(self, seats: int, withdrawals: Sequence[int] = (0,)) -> dict[int, int]:
        """Take up to ``seats`` troops of these withdrawals (in the order given): troops taken by withdrawal."""
        taken: dict[int, int] = {}
        for w in withdrawals:
            n = min(seats, self.troops_by_withdrawal.get(w, 0))
            if n > 0:
                taken[w] = n
                self.troops_by_withdrawal[w] -= n
                self.troops_waiting -= n
                seats -= n
        return taken
