"""Perimeter gates: crowds, screening lanes, patience, and families trying to get in.

The perimeter is an event calendar of its own, advanced lazily to the SimPy clock by whoever
needs its state (boarding aircraft, the hourly recorder). That keeps people as data, never as
processes, and is exact: the perimeter's only input from the rest of the airfield is room
freed in the holding area, which happens at boarding, when it is advanced first. See the README
for how a family picks a gate.

This class builds the arrays, which the holding area shares (screened families enter its queues
inside the compiled loop, :mod:`sim.model.perimeter_core`). Giving up costs no event: a
family's patience runs out at a time fixed when it joins a crowd, so a lane looking at the head
of a queue passes over families whose patience ran out, and the family's next visit (its way
back, drawn in one go by :mod:`sim.model.access`) is put on the calendar when it joins, to be
dropped if it was screened meanwhile. A family visits the gates at most
``patience.max_attempts`` times.

Records: ``records.screened`` has ``(start_hours, wait_hours, people, gate, cohort)`` for
every family that started screening: the loop writes the rows in its arrays, in order, and the
records read them there (:meth:`sim.model.records.ScreenedRows.follow`).
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from sim.description.scenario import Scenario
from sim.model import perimeter_core as core
from sim.model.population import Population
from sim.model.records import Records, Status
from sim.model.streams import Streams
from sim.model.timeline import Timeline

__all__ = ["Perimeter", "Admission"]


class Admission(Protocol):
    """The holding area as the perimeter sees it: its capacity, and the compiled state it shares.

    The perimeter's compiled loop decides whether a lane may start (room for the family in the
    holding area, counting those in screening) and puts screened families in the holding
    queues; the holding area boards from those queues (:func:`perimeter_core.board`).
    """

    capacity: int

    def attach(self, state: core.Core) -> None: ...


class _Screenings:
    """How many screening rows the compiled loop has written (a picklable callable, unlike a
    lambda: records may be pickled)."""

    def __init__(self, counters: np.ndarray):
        self.counters = counters

    def __call__(self) -> int:
        return int(self.counters[core.N_SCREENED])


_DIST = {"fixed": 0, "exponential": 1, "lognormal": 2}


def _gate_tables(scenario: Scenario, timeline: Timeline) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[float]]]:
    """Per gate: integer and float columns, and the lanes and open state at each of its change times."""
    names = list(scenario.gates)
    gate_i = np.zeros((len(names), 5), dtype=np.int64)
    gate_f = np.zeros((len(names), 3))
    changes = []
    for i, (name, g) in enumerate(scenario.gates.items()):
        gate_i[i] = (int(timeline.gate_lanes[name](0.0)), 0, timeline.gate_open(name, 0.0), 0, _DIST[g.screening_distribution])
        gate_f[i] = (g.screening_base_min, g.screening_per_person_min, math.sqrt(math.log(1.0 + g.screening_cv**2)))
        times = list(timeline.change_times[name])
        if timeline.gate_close > 0:
            times.append(timeline.gate_close)
        changes.append(times)
    width = max([len(c) for c in changes] + [1])
    lanes = np.zeros((len(names), width), dtype=np.int64)
    open_ = np.zeros((len(names), width), dtype=np.int64)
    for i, name in enumerate(names):
        for j, t in enumerate(changes[i]):
            lanes[i, j] = int(timeline.gate_lanes[name](t))
            open_[i, j] = timeline.gate_open(name, t)
    return gate_i, gate_f, np.stack([lanes, open_]), changes


def _family_tables(pop: Population, prios: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The families' integer and float columns (see the column names in perimeter_core)."""
    n = pop.n_groups
    rank = {p: i for i, p in enumerate(prios)}
    fam_i = np.zeros((n, 8), dtype=np.int64)
    fam_i[:, core.COH] = pop.cohort_arr
    fam_i[:, core.SIZE] = pop.size_arr
    fam_i[:, core.RANK] = np.array([rank[c.priority] for c in pop.cohorts], dtype=np.int64)[pop.cohort_arr]
    fam_i[:, core.PREV :] = -1
    fam_i[:, core.VISITS] = 0
    fam_f = np.zeros((n, 4))
    fam_f[:, core.SCREEN_E] = pop.screen_e
    fam_f[:, core.SCREEN_Z] = pop.screen_z
    return fam_i, fam_f


def _admission_tables(scenario: Scenario, pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """Per cohort: the gates that admit it (-1 pads) and their weights."""
    gate_names = list(scenario.gates)
    admit_gate = np.full((len(pop.cohorts), len(gate_names)), -1, dtype=np.int64)
    admit_weight = np.zeros((len(pop.cohorts), len(gate_names)))
    for c, cname in enumerate(pop.cohort_names):
        ok = [i for i, g in enumerate(scenario.gates.values()) if "any" in g.admits or cname in g.admits]
        admit_gate[c, : len(ok)] = ok
        admit_weight[c, : len(ok)] = [scenario.gates[gate_names[i]].weight for i in ok]
    return admit_gate, admit_weight


def _way_tables(pop: Population) -> dict[str, np.ndarray]:
    """Per cohort, the step tables of the way back to the gates (:mod:`sim.model.access`)."""
    ways = pop.access.cohorts
    n_cohorts = len(pop.cohorts)
    width = max(len(w.times) for w in ways) if ways else 1
    seg_t = np.full((n_cohorts, width), np.inf)
    seg_cum = np.full((n_cohorts, width + 1), np.inf)
    seg_rate = np.zeros((n_cohorts, width))
    seg_through = np.zeros((n_cohorts, width))
    for c, w in enumerate(ways):
        m = len(w.times)
        seg_t[c, :m], seg_cum[c, : m + 1], seg_rate[c, :m], seg_through[c, :m] = w.times, w.cum, w.rates, w.through
    seg_n = np.array([len(w.times) for w in ways], dtype=np.int64)
    return {"seg_t": seg_t, "seg_cum": seg_cum, "seg_rate": seg_rate, "seg_through": seg_through, "seg_n": seg_n}


def _first_arrivals(pop: Population, end: float) -> tuple[np.ndarray, np.ndarray]:
    """When families first reach a gate, in time order (ties in family order), and who."""
    reached = pop.reach_gates(end)
    finite = np.flatnonzero(np.isfinite(reached))
    order = finite[np.argsort(reached[finite], kind="stable")]
    return reached[order].astype(float), order.astype(np.int64)


class Perimeter:
    """Gate crowds and screening lanes for all families, as one lazily advanced calendar."""

    def __init__(
        self,
        scenario: Scenario,
        timeline: Timeline,
        pop: Population,
        holding: Admission,
        records: Records,
        streams: Streams | None = None,
    ):
        self.pop = pop
        self.tl = timeline
        n = pop.n_groups
        prios = sorted({c.priority for c in pop.cohorts})
        fam_i, fam_f = _family_tables(pop, prios)
        gate_i, gate_f, change_tables, changes = _gate_tables(scenario, timeline)
        n_gates, n_cohorts = len(scenario.gates), len(pop.cohorts)
        admit_gate, admit_weight = _admission_tables(scenario, pop)
        max_lanes = int(sum(max(gate_i[i, core.LANES], change_tables[0][i].max(initial=0)) for i in range(n_gates)))
        capacity = n + max_lanes + sum(len(c) for c in changes) + 8
        # a calendar event packs its two arguments (a gate or a family, then a family, 0 or a
        # change's index) in one int64: a << 32 | b
        if max(n, n_gates) >= 2**31 or max((len(c) for c in changes), default=0) >= 2**32:
            raise ValueError(f"{n:,} families and {n_gates} gates: the perimeter's calendar takes fewer than 2**31")
        arrival_t, arrival_g = _first_arrivals(pop, timeline.end)
        self._draws = pop.visit_draws
        if self._draws.names != core.DRAWS:
            raise ValueError(f"the perimeter needs the draws {core.DRAWS}, in that order")
        self._draws.make(2)
        self.core = core.Core(
            fam_i=fam_i,
            fam_f=fam_f,
            gate_i=gate_i,
            gate_f=gate_f,
            q_head=np.full(n_gates * len(prios) + n_cohorts, -1, dtype=np.int64),
            q_tail=np.full(n_gates * len(prios) + n_cohorts, -1, dtype=np.int64),
            n_ranks=len(prios),
            hold_q=n_gates * len(prios),
            admit_gate=admit_gate,
            admit_weight=admit_weight,
            patience_h=np.array([c.patience.mean_hours for c in pop.cohorts], dtype=float),
            max_visits=np.array([c.patience.max_attempts for c in pop.cohorts], dtype=np.int64),
            retry_p=np.array([c.patience.retry_probability for c in pop.cohorts], dtype=float),
            **_way_tables(pop),
            change_lanes=change_tables[0],
            change_open=change_tables[1],
            # the whole reserved block: rows are made in place as families need them (N_DRAWS
            # says how many are), so the core keeps the same array for the whole run
            draws=self._draws.block,
            heap_t=np.zeros(capacity),
            heap_k=np.zeros(capacity, dtype=np.int64),
            heap_p=np.zeros(capacity, dtype=np.int64),
            arrival_t=arrival_t,
            arrival_g=arrival_g,
            leaving=np.zeros(int(math.ceil(max(timeline.end, 0.0))) + 2, dtype=np.int64),
            screened_f=np.zeros((n, 2)),
            screened_i=np.zeros((n, 3), dtype=np.int64),
            status=pop.status,
            holding_code=int(Status.HOLDING),
            boarded_code=int(Status.BOARDED),
            taken=np.zeros(n, dtype=np.int64),
            counters=np.zeros(core.N_COUNTERS, dtype=np.int64),
            clock=np.zeros(1),
            end=float(timeline.end),
        )
        cnt = self.core.counters
        cnt[core.CAPACITY] = holding.capacity
        cnt[core.RESERVED] = 0
        cnt[core.DRAINED] = -1
        cnt[core.N_DRAWS] = 2
        for i in range(n_gates):
            for j, t in enumerate(changes[i]):
                core._push(self.core.heap_t, self.core.heap_k, self.core.heap_p, self.core.counters, t, core.CHANGE, i, j)
        records.screened.follow(self.core.screened_f, self.core.screened_i, _Screenings(self.core.counters))
        self._settled = False
        self._advance = core.direct(core.advance, self.core, 0.0)
        self._crowd_people = core.direct(core.crowd_people, self.core)
        holding.attach(self.core)

    # -- the clock ------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return float(self.core.clock[0])

    @property
    def events(self) -> int:
        """Perimeter events processed (for benchmarks)."""
        return int(self.core.counters[core.EVENTS])

    def advance_to(self, t: float) -> None:
        """Process every perimeter event up to and including time ``t``."""
        s = self.core
        cnt = s.counters
        t = float(t)
        while self._advance(s, t) == core.NEED_DRAWS:
            # the rows a family joining now needs: its visit's, and its way back's
            visits = min(int(cnt[core.MAX_VISITS]) + 2, int(s.max_visits.max()) + 1)
            if visits <= cnt[core.N_DRAWS]:
                raise RuntimeError("the perimeter asked for draw rows it already has")
            self._draws.make(visits)
            cnt[core.N_DRAWS] = visits
        if t >= self.tl.end and not self._settled:
            self._settle(t)

    def _settle(self, t: float) -> None:
        """At the end: where the families still outside the airfield are, for the final account."""
        self._settled = True
        state = self.core.fam_i[:, core.STATE]
        deadline = self.core.fam_f[:, core.DEADLINE]
        visits = self.core.fam_i[:, core.VISITS]
        crowd = (state == core.CROWD) & (deadline > t)
        gave_up = (state == core.CROWD) & (deadline <= t)
        self.pop.outside_at_end(np.flatnonzero(crowd), np.flatnonzero(gave_up), np.flatnonzero(state == core.SCREENING))
        assert not np.any((state == core.AWAY) & (visits > 0))

    # -- observation ----------------------------------------------------------------------
    def crowd_people(self) -> int:
        """People waiting in the gate crowds now (exact at whole hours, when the recorder asks)."""
        return int(self._crowd_people(self.core))

    def visits(self) -> list[int]:
        """How many times each family has joined a gate crowd."""
        return self.core.fam_i[:, core.VISITS].tolist()

    def blocked_gates(self) -> int:
        return sum(self.core.gate_i[:, core.BLOCKED].tolist())  # a few gates: no numpy call
