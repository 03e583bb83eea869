"""Perimeter gates: crowds, screening lanes, patience, and families trying to get in.

The perimeter is a small event calendar of its own (a ``heapq``), advanced lazily to the
SimPy clock by whoever needs its state (boarding aircraft, the hourly recorder). That keeps
people as data, never as processes, and is exact: the perimeter's only input from the rest
of the airfield is room freed in the holding area, which happens at boarding, when it is
advanced first. See the README for how a family picks a gate.

Giving up costs no event: a family's patience runs out at a time fixed when it joins a crowd,
so a lane that looks at the head of a queue passes over families whose patience ran out
before, and the family's next visit (its way back to the gates, drawn in one go by
:mod:`sim.model.access`) is put on the calendar when it joins, to be dropped if it was
screened meanwhile. The number of people in the crowds is kept per whole hour of leaving, so
it is exact at the whole hours the recorder samples. A family visits the gates at most
``patience.max_attempts`` times.

Records: ``records.screened`` gets ``(start_hours, wait_hours, people, gate, cohort)`` for
every family that starts screening.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from typing import Protocol

import numpy as np

from sim.model.population import Population
from sim.model.security import Timeline
from sim.records import Records, Screened, Status
from sim.rng import Streams
from sim.scenario import Gate, Scenario

__all__ = ["Perimeter", "Admission"]


class Admission(Protocol):
    """The holding area as the perimeter sees it: room kept for a family in screening, then entry."""

    def reserve(self, n: int) -> bool: ...

    def admit(self, group: int) -> None: ...


# event kinds, in the order they are processed at equal times
_CHANGE, _DONE, _REJOIN = 0, 1, 2
# statuses as plain ints on the hot path
_IN_CROWD, _SCREENING, _GAVE_UP = int(Status.IN_CROWD), int(Status.SCREENING), int(Status.GAVE_UP)


class _GateState:
    __slots__ = ("idx", "name", "spec", "lanes", "busy", "open", "queues", "blocked", "log_sigma")

    def __init__(self, idx: int, name: str, spec: Gate, n_priorities: int):
        self.idx = idx
        self.name = name
        self.spec = spec
        self.lanes = spec.lanes
        self.busy = 0
        self.open = True
        self.queues: list[deque[tuple[int, int]]] = [deque() for _ in range(n_priorities)]
        self.blocked = False
        self.log_sigma = math.sqrt(math.log(1.0 + spec.screening_cv**2))


class Perimeter:
    """Gate crowds and screening lanes for all families, as one lazily advanced calendar."""

    def __init__(
        self,
        scenario: Scenario,
        timeline: Timeline,
        pop: Population,
        holding: Admission,
        records: Records,
        streams: Streams,
    ):
        self.pop = pop
        self.tl = timeline
        self.holding = holding
        self.records = records
        self.now = 0.0
        self._heap: list[tuple[float, int, int, int, int]] = []
        self.events = 0  # perimeter events processed (for benchmarks)
        self._seq = 0
        prios = sorted({c.priority for c in pop.cohorts})
        self._rank = {p: i for i, p in enumerate(prios)}
        self.gates = [_GateState(i, n, g, len(prios)) for i, (n, g) in enumerate(scenario.gates.items())]
        self._token = [0] * pop.n_groups
        self._joined = [0.0] * pop.n_groups
        self._deadline = [0.0] * pop.n_groups  # when its patience at its current visit runs out
        self._visits = [0] * pop.n_groups
        self._crowd = 0  # people who joined a crowd and did not start screening, minus those drained
        self._leaving: dict[int, int] = {}  # whole hour -> people whose patience runs out by then
        self._drained = -1  # the last whole hour drained from ``_crowd``
        self._settled = False
        # which gates admit each cohort, with their choice weights
        self._choices: list[list[tuple[int, float]]] = []
        for c in pop.cohort_names:
            self._choices.append(
                [(i, g.spec.weight) for i, g in enumerate(self.gates) if "any" in g.spec.admits or c in g.spec.admits]
            )
        self._patience_h = [c.patience.mean_hours for c in pop.cohorts]
        self._max_visits = [c.patience.max_attempts for c in pop.cohorts]
        self._group_rank = [self._rank[p] for p in pop.priority]
        for g in self.gates:
            self._refresh(g, 0.0)
        self._refresh_choices()
        for i, g in enumerate(self.gates):
            for t in timeline.change_times[g.name]:
                self._push(t, _CHANGE, i, 0)
            if timeline.gate_close > 0:
                self._push(timeline.gate_close, _CHANGE, i, 0)
        # families' first arrivals at the gates, in time order, merged with the calendar lazily
        reached = pop.reach_gates(timeline.end)
        order = np.argsort(reached, kind="stable")
        order = order[np.isfinite(reached[order])]
        self._arrivals_t: list[float] = reached[order].tolist()
        self._arrivals_g: list[int] = order.tolist()
        self._next_arrival = 0

    # -- calendar -----------------------------------------------------------------------------
    def _push(self, t: float, kind: int, a: int, b: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, kind, self._seq, a, b))

    def advance_to(self, t: float) -> None:
        """Process every perimeter event up to and including time ``t``."""
        heap = self._heap
        arr_t, arr_g = self._arrivals_t, self._arrivals_g
        n_arr = len(arr_t)
        while True:
            i = self._next_arrival
            # first arrivals come after calendar events at the same time (as returns would)
            if (
                i < n_arr
                and arr_t[i] <= t
                and (not heap or arr_t[i] < heap[0][0] or (arr_t[i] == heap[0][0] and heap[0][1] > _REJOIN))
            ):
                self._next_arrival = i + 1
                self.events += 1
                self.now = arr_t[i]
                self._join(arr_g[i], arr_t[i])
                continue
            if not heap or heap[0][0] > t:
                break
            when, kind, _, a, b = heapq.heappop(heap)
            self.events += 1
            self.now = when
            if kind == _REJOIN:
                # back at the gates, unless screened meanwhile (then this visit never happens)
                if self._token[a] == b and self.pop.status[a] == _IN_CROWD:
                    self._join(a, when)
            elif kind == _DONE:
                self._done(a, b, when)
            else:
                g = self.gates[a]
                self._refresh(g, when)
                self._refresh_choices()
                self._start(g, when)
        self.now = max(self.now, t)
        if t >= self.tl.end and not self._settled:
            self._settle(t)

    def _settle(self, t: float) -> None:
        """At the end: families whose patience ran out by ``t`` are counted as having given up."""
        self._settled = True
        status, deadline = self.pop.status, self._deadline
        for gid, st in enumerate(status):
            if st == _IN_CROWD and deadline[gid] <= t:
                status[gid] = _GAVE_UP

    def room_freed(self, t: float) -> None:
        for g in self.gates:
            if g.blocked:
                g.blocked = False
                self._start(g, t)

    # -- families -------------------------------------------------------------------------
    def _pick_gate(self, c: int, u: float) -> int:
        """Among the gates admitting the cohort that are open, by weight; if none is open, among all."""
        pool, total = self._open_choices[c]
        u *= total
        for i, w in pool:
            u -= w
            if u < 0:
                return i
        return pool[-1][0]

    def _refresh_choices(self) -> None:
        self._open_choices = []
        for choices in self._choices:
            open_ = [(i, w) for i, w in choices if self.gates[i].open] or choices
            self._open_choices.append((open_, sum(w for _, w in open_)))

    def _join(self, gid: int, t: float) -> None:
        """A family reaches a gate and joins its crowd; its next visit, if any, is put on the calendar."""
        pop = self.pop
        c = pop.cohort[gid]
        k = self._visits[gid]
        self._visits[gid] = k + 1
        gi = self._pick_gate(c, pop.gate_choice(k)[gid])
        gate = self.gates[gi]
        tok = self._token[gid] + 1
        self._token[gid] = tok
        self._joined[gid] = t
        pop.status[gid] = _IN_CROWD
        gate.queues[self._group_rank[gid]].append((gid, tok))
        deadline = t + pop.patience(k)[gid] * self._patience_h[c]
        self._deadline[gid] = deadline
        hour = math.ceil(deadline)
        if hour > self._drained:
            n = pop.size[gid]
            self._crowd += n
            self._leaving[hour] = self._leaving.get(hour, 0) + n
        if k + 1 < self._max_visits[c]:
            k += 1
            back = pop.access.way(c, deadline, pop.way_retry(k)[gid], pop.way_time(k)[gid], pop.way_through(k)[gid])
            if back < self.tl.end:
                self._seq += 1
                heapq.heappush(self._heap, (back, _REJOIN, self._seq, gid, tok))
        if gate.busy < gate.lanes and gate.open and not gate.blocked:
            self._start(gate, t)

    # -- lanes ----------------------------------------------------------------------------
    def _refresh(self, g: _GateState, t: float) -> None:
        g.lanes = int(self.tl.gate_lanes[g.name](t))
        g.open = self.tl.gate_open(g.name, t)

    def _screening_hours(self, g: _GateState, gid: int) -> float:
        spec = g.spec
        mean_min = spec.screening_base_min + spec.screening_per_person_min * self.pop.size[gid]
        if spec.screening_distribution == "fixed":
            return mean_min / 60.0
        if spec.screening_distribution == "exponential":
            return mean_min * self.pop.screen_e[gid] / 60.0
        s = g.log_sigma
        return mean_min * math.exp(s * self.pop.screen_z[gid] - 0.5 * s * s) / 60.0

    def _start(self, g: _GateState, t: float) -> None:
        if not g.open:
            return
        pop = self.pop
        status, token, size, deadline = pop.status, self._token, pop.size, self._deadline
        while g.busy < g.lanes:
            entry = None
            for q in g.queues:
                while q:
                    gid, tok = q[0]
                    # still there: this visit (not an older one), not screened, patience left
                    if token[gid] == tok and status[gid] == _IN_CROWD and deadline[gid] >= t:
                        entry = q
                        break
                    q.popleft()
                if entry is not None:
                    break
            if entry is None:
                return
            gid = entry[0][0]
            n = size[gid]
            if not self.holding.reserve(n):
                g.blocked = True
                return
            entry.popleft()
            hour = math.ceil(deadline[gid])
            if hour > self._drained:
                self._crowd -= n
                self._leaving[hour] -= n
            status[gid] = _SCREENING
            g.busy += 1
            wait = t - self._joined[gid]
            self.records.screened.append(Screened(t, wait, n, g.idx, pop.cohort[gid]))
            self._push(t + self._screening_hours(g, gid), _DONE, g.idx, gid)

    def _done(self, gi: int, gid: int, t: float) -> None:
        g = self.gates[gi]
        g.busy -= 1
        self.holding.admit(gid)
        self._start(g, t)

    # -- observation ----------------------------------------------------------------------
    def crowd_people(self) -> int:
        """People waiting in the gate crowds now (exact at whole hours, when the recorder asks)."""
        hour = math.floor(self.now)
        leaving = self._leaving
        for h in range(self._drained + 1, hour + 1):
            self._crowd -= leaving.pop(h, 0)
        self._drained = max(self._drained, hour)
        return self._crowd

    def visits(self) -> list[int]:
        """How many times each family has joined a gate crowd."""
        return list(self._visits)

    def blocked_gates(self) -> int:
        return sum(1 for g in self.gates if g.blocked)
