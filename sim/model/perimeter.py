"""Perimeter gates: crowds, screening lanes, patience, and families trying to get in.

The perimeter is an event calendar of its own, advanced lazily to the SimPy clock by whoever
needs its state (boarding aircraft, the hourly recorder). That keeps people as data, never as
processes, and is exact: the perimeter's only input from the rest of the airfield is room
freed in the holding area, which happens at boarding, when it is advanced first (or room added
by a dated relief, at its time). See the README
for how a family picks a gate.

This class tells the compiled core (:mod:`sim.model.perimeter_core`, which lays the arrays out)
what the scenario says of the families, gates and cohorts; the holding area is another view of
the same state (screened families enter its queues inside the compiled loop). Giving up costs
no event: a family's patience runs out at a time fixed when it joins a crowd, so a lane looking
at the head of a queue passes over families whose patience ran out, and the family's next visit
(its way back, drawn in one go by :func:`sim.model.perimeter_core.way` over the tables of
:mod:`sim.model.access`) is put on the calendar when it joins, to be dropped if it was screened
meanwhile. A family visits the gates at most
``patience.max_attempts`` times.

Records: ``records.screened`` has ``(start_hours, wait_hours, people, gate, cohort)`` for
every family that started screening: the loop writes the rows in its arrays, in order, and the
records read them there (:meth:`sim.model.records.ScreenedRows.follow`).
"""

from __future__ import annotations

import math

import numpy as np

from sim.description.scenario import Scenario
from sim.model import perimeter_core as core
from sim.model.population import Population
from sim.model.records import GateStop, Records, Status
from sim.model.timeline import Timeline

__all__ = ["Perimeter"]


class _Screenings:
    """How many screening rows the compiled loop has written (a picklable callable, unlike a
    lambda: records may be pickled)."""

    def __init__(self, counters: np.ndarray):
        self.counters = counters

    def __call__(self) -> int:
        return int(self.counters[core.N_SCREENED])


def _gates(scenario: Scenario, timeline: Timeline) -> core.Gates:
    """Each gate at the start, and its lanes and open state from each of its change times on."""
    names = list(scenario.gates)
    changes = []
    for name in names:
        times = list(timeline.change_times[name])
        if timeline.gate_close > 0:
            times.append(timeline.gate_close)
        changes.append(times)
    width = max([len(c) for c in changes] + [1])
    change_lanes = np.zeros((len(names), width), dtype=np.int64)
    change_open = np.zeros((len(names), width), dtype=np.int64)
    for i, name in enumerate(names):
        for j, t in enumerate(changes[i]):
            change_lanes[i, j] = int(timeline.gate_lanes[name](t))
            change_open[i, j] = timeline.gate_open(name, t)
    specs = list(scenario.gates.values())
    return core.Gates(
        lanes=np.array([int(timeline.gate_lanes[name](0.0)) for name in names], dtype=np.int64),
        open=np.array([timeline.gate_open(name, 0.0) for name in names], dtype=np.int64),
        distribution=np.array([core.DISTRIBUTIONS.index(g.screening_distribution) for g in specs], dtype=np.int64),
        base_min=np.array([g.screening_base_min for g in specs], dtype=float),
        per_person_min=np.array([g.screening_per_person_min for g in specs], dtype=float),
        log_sigma=np.array([math.sqrt(math.log(1.0 + g.screening_cv**2)) for g in specs], dtype=float),
        change_times=changes,
        change_lanes=change_lanes,
        change_open=change_open,
    )


def _cohorts(scenario: Scenario, pop: Population) -> core.Cohorts:
    """Per cohort: its priority's rank, the gates that admit it (-1 pads) and their weights, its patience."""
    gate_names = list(scenario.gates)
    admit_gate = np.full((len(pop.cohorts), len(gate_names)), -1, dtype=np.int64)
    admit_weight = np.zeros((len(pop.cohorts), len(gate_names)))
    for c, cname in enumerate(pop.cohort_names):
        ok = [i for i, g in enumerate(scenario.gates.values()) if "any" in g.admits or cname in g.admits]
        admit_gate[c, : len(ok)] = ok
        admit_weight[c, : len(ok)] = [scenario.gates[gate_names[i]].weight for i in ok]
    rank = {p: i for i, p in enumerate(sorted({c.priority for c in pop.cohorts}))}
    return core.Cohorts(
        rank=np.array([rank[c.priority] for c in pop.cohorts], dtype=np.int64),
        admit_gate=admit_gate,
        admit_weight=admit_weight,
        patience_h=np.array([c.patience.mean_hours for c in pop.cohorts], dtype=float),
        max_visits=np.array([c.patience.max_attempts for c in pop.cohorts], dtype=np.int64),
    )


def _first_arrivals(pop: Population, end: float) -> tuple[np.ndarray, np.ndarray]:
    """When families first reach a gate, in time order (ties in family order), and who."""
    reached = pop.reach_gates(end)
    finite = np.flatnonzero(np.isfinite(reached))
    times = reached[finite]
    order = np.argsort(times)  # twice as fast as a stable sort, and the same order when no two times are equal
    if np.any(times[order[1:]] == times[order[:-1]]):
        order = np.argsort(times, kind="stable")
    order = finite[order]
    return reached[order].astype(float), order.astype(np.int64)


class Perimeter:
    """Gate crowds and screening lanes for all families, as one lazily advanced calendar: the
    compiled state (:attr:`state`) that the holding area (:class:`sim.model.holding.Holding`)
    shares."""

    def __init__(self, scenario: Scenario, timeline: Timeline, pop: Population, records: Records):
        self.pop = pop
        self.tl = timeline
        self._draws = pop.visit_draws
        if self._draws.names != core.DRAWS:
            raise ValueError(f"the perimeter needs the draws {core.DRAWS}, in that order")
        self._draws.make(2)
        families = core.Families(
            cohort=pop.cohort_arr, size=pop.size_arr, screen_e=pop.screen_e, screen_z=pop.screen_z, status=pop.status
        )
        self.state = core.build(
            families,
            _gates(scenario, timeline),
            _cohorts(scenario, pop),
            way=pop.access.way,
            # the whole reserved block: rows are made in place as families need them (N_DRAWS
            # says how many are), so the core keeps the same array for the whole run
            draws=self._draws.block,
            draw_rows=2,
            arrivals=_first_arrivals(pop, timeline.end),
            capacity=scenario.airfield.holding_capacity_people,
            codes=(Status.HOLDING, Status.BOARDED),
        )
        records.screened.follow(self.state.screened_f, self.state.screened_i, _Screenings(self.state.counters))
        self._settled = False
        self._end = timeline.end
        self._records = records
        room = timeline.holding_capacity  # changes by a relief, latest first
        self._resizes = [(t, int(n)) for t, n in zip(room.times, room.values[1:], strict=True)][::-1]
        self._advance = core.direct(core.advance, self.state, 0.0)
        self._crowd_people = core.direct(core.crowd_people, self.state)
        self._blocked = self.state.gate_i[:, core.BLOCKED]

    # -- the clock ------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return float(self.state.clock[0])

    @property
    def events(self) -> int:
        """Perimeter events processed (for benchmarks)."""
        return int(self.state.counters[core.EVENTS])

    def advance_to(self, t: float) -> None:
        """Process every perimeter event up to and including time ``t``."""
        t = float(t)
        while self._resizes and self._resizes[-1][0] <= t:
            self._resize(*self._resizes.pop())
        if self._advance(self.state, t) != core.DONE_OK or t >= self._end:
            self._advance_further(t)

    def _resize(self, t: float, capacity: int) -> None:
        """The holding area's capacity changes at ``t`` (a relief): the calendar advanced to ``t``
        first, then gates that the full holding area stopped try again (their ended stops recorded)."""
        if self._advance(self.state, t) != core.DONE_OK or t >= self._end:
            self._advance_further(t)
        core.resize(self.state, t, capacity)
        if self.state.counters[core.RESTARTS]:
            for gate, began in enumerate(self.state.restarted.tolist()):
                if began <= t:  # NaN: this gate's stop, if any, goes on
                    self._records.gate_stops.append(GateStop(began, t, gate))

    def _advance_further(self, t: float) -> None:
        """:meth:`advance_to` when the families need more draws first, or at the end."""
        s = self.state
        cnt = s.counters
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
        state = self.state.fam_i[:, core.STATE]
        deadline = self.state.fam_f[:, core.DEADLINE]
        visits = self.state.fam_i[:, core.VISITS]
        crowd = (state == core.CROWD) & (deadline > t)
        gave_up = (state == core.CROWD) & (deadline <= t)
        self.pop.outside_at_end(np.flatnonzero(crowd), np.flatnonzero(gave_up), np.flatnonzero(state == core.SCREENING))
        assert not np.any((state == core.AWAY) & (visits > 0))

    # -- observation ----------------------------------------------------------------------
    def crowd_people(self) -> int:
        """People waiting in the gate crowds now (exact at whole hours, when the recorder asks)."""
        return int(self._crowd_people(self.state))

    def visits(self) -> list[int]:
        """How many times each family has joined a gate crowd."""
        return self.state.fam_i[:, core.VISITS].tolist()

    def blocked_gates(self) -> int:
        return sum(self._blocked.tolist())  # a few gates: no numpy call
