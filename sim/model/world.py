"""Composition root: builds every actor from a Scenario and wires them together.

Leaf actors never import each other: each declares the narrow interface (a ``Protocol``) it needs
of the others, and this module hands it objects that satisfy it. It also owns the hourly
recorder (a SimPy process) and the end-of-run accounting. It builds and
reports; :mod:`sim.experiments.replications` decides when to run.
"""

from __future__ import annotations

import ctypes
import gc
import math
import os
import sys
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any

import simpy

from sim.description.scenario import Scenario
from sim.model.fleet import Aircraft, FleetContext, Timetable, sortie_cycle
from sim.model.held_back import HeldBackAccount, SteppedHeldBack
from sim.model.holding import Holding
from sim.model.metrics import summarise
from sim.model.perimeter import Perimeter
from sim.model.population import Population
from sim.model.ramp import Ramp
from sim.model.records import Hourly, Records
from sim.model.runway import Runway
from sim.model.staging import StagingBase
from sim.model.streams import Streams
from sim.model.timeline import Timeline

__all__ = ["World", "paused_collector", "reuse_freed_memory"]


def _service_periods(count: int, schedule: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """When aircraft number k (0, 1, ...) is in service under a count schedule: entry k lists its
    periods ``(joins, leaves)`` in time order, one per stretch of time the count exceeds k. A
    count that only rises gives each aircraft one period; one that falls and rises again
    (aircraft called away, then back) gives those aircraft a period for each return."""
    steps = [(-math.inf, float(count)), *sorted(schedule)]
    top = int(max(v for _, v in steps))
    periods: list[list[tuple[float, float]]] = []
    for k in range(top):
        mine: list[tuple[float, float]] = []
        joins: float | None = None
        for t, v in steps:
            if v > k and joins is None:
                joins = t
            elif v <= k and joins is not None:
                mine.append((max(joins, 0.0), t))
                joins = None
        if joins is not None:
            mine.append((max(joins, 0.0), math.inf))
        periods.append(mine)
    return periods


@contextmanager
def paused_collector() -> Iterator[None]:
    """Python's cyclic garbage collector paused, then restored as it was.

    A replication makes few reference cycles, and each of the collector's passes walks every
    live object, families and records included: up to a tenth of a replication's time. Build,
    run, summarise and drop a world inside one pause (as :func:`sim.experiments.replications.run_replication`
    does): all its objects are then young, and the first pass after the pause frees the world
    at once. (Pausing around a run alone would let finished worlds age into the oldest
    generation, which is rarely collected, so memory would grow replication after replication.)"""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


_MALLOPT = {"M_TRIM_THRESHOLD": -1, "M_MMAP_THRESHOLD": -3}
_reusing: list[bool] = []


def reuse_freed_memory() -> bool:
    """Ask the C allocator (glibc) to keep freed memory for reuse; once per process.

    A replication allocates tens of megabytes of arrays and frees them when it ends. By default
    glibc maps arrays of a few megabytes fresh from the system and unmaps them when freed, so
    every replication pays a page fault (and the zeroing of a page) for each 4 KiB it touches:
    about 4,000 a replication of the reference scenario, a tenth of its time. With arrays up
    to 32 MiB taken from the heap and freed memory kept there, the next replication reuses the
    same pages. The process then keeps about its largest replication's memory between
    replications (up to 1 GiB of freed memory is not given back to the system). Elsewhere than
    glibc, or with the environment variable ``AIRLIFT_SYSTEM_ALLOCATOR=1``, nothing is changed.
    Returns whether the allocator accepted both settings."""
    if not _reusing:
        ok = False
        if sys.platform.startswith("linux") and os.environ.get("AIRLIFT_SYSTEM_ALLOCATOR", "") in ("", "0"):
            try:
                mallopt = ctypes.CDLL(None).mallopt
            except (OSError, AttributeError):
                mallopt = None
            if mallopt is not None:
                mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
                mmap_ok = mallopt(_MALLOPT["M_MMAP_THRESHOLD"], 32 * 2**20)
                ok = bool(mmap_ok) and bool(mallopt(_MALLOPT["M_TRIM_THRESHOLD"], 2**30))
        _reusing.append(ok)
    return _reusing[0]


class World:
    """One replication's simulation, ready to run until the security end."""

    def __init__(self, scenario: Scenario, seed: int, replication: int):
        s = scenario
        self.scenario = s
        self.env = simpy.Environment()
        self.records = Records()
        self.timeline = tl = Timeline.from_scenario(s)
        streams = Streams(seed, replication)
        self.population = pop = Population(s, tl, streams)
        self.perimeter = Perimeter(s, tl, pop, self.records)
        self.holding = Holding(self.perimeter, self.records)
        self.runway = Runway(s.runway, tl, self.records)
        self.ramp = Ramp(self.env, s.ramp.spots, tl.spots)
        self.bases = {
            n: StagingBase(n, b, tl, s.hours(b.opens) if b.opens is not None else -math.inf, self.records)
            for n, b in s.bases.items()
        }
        ctx = FleetContext(
            env=self.env,
            timeline=tl,
            ramp=self.ramp,
            runway=self.runway,
            holding=self.holding,
            families=pop,
            records=self.records,
            chalk_interval_hours=s.airfield.chalk_interval_min / 60.0,
            surge_when_holding_over=s.airfield.surge_when_holding_over,
        )
        self.aircraft = self._build_aircraft()
        for ac in self.aircraft:
            self.env.process(self._in_service(ac, ctx))
        priority = sorted(range(len(pop.cohorts)), key=lambda i: (pop.cohorts[i].priority, i))
        self._held_back = self._held_back_account(priority)
        for w, (withdrawal, start) in enumerate(zip(s.withdrawals, tl.withdrawal_starts, strict=True)):
            if start < math.inf:
                self.env.process(self._retrograde(withdrawal.troops, start, w))
        self.env.process(self._record_hourly())

    def _build_aircraft(self) -> list[Aircraft]:
        """Every aircraft any fleet ever has in service, with when it joins and leaves."""
        s, tl, pop = self.scenario, self.timeline, self.population
        by_priority = sorted(range(len(pop.cohorts)), key=lambda i: (pop.cohorts[i].priority, i))
        index = {c: i for i, c in enumerate(pop.cohort_names)}
        out: list[Aircraft] = []
        for name, f in s.fleets.items():
            cohorts = [i for i in by_priority if {"any", f.operator} & set(pop.cohorts[i].carriers)]
            steps = tuple((s.hours(b.from_), tuple(index[c] for c in b.cohorts)) for b in s.boarding.get(f.operator, ()))
            timetable = Timetable([s.hours(t) for t in f.timetable], tl.boarding_deadline) if f.timetable else None
            last = tl.last_landing
            if f.available_until is not None:
                last = min(last, s.hours(f.available_until))
            first = s.hours(f.available_from) if f.available_from is not None else 0.0
            if tl.secured_from > 0:  # no aircraft lands before the security start: it leaves its first base to land then
                first = max(first, tl.secured_from - self.bases[f.bases[0]].flight_hours)
            each = _service_periods(f.count, [(s.hours(x.from_), x.value) for x in f.count_schedule])
            periods = [(mine[0], f"{name}-{k + 1}") for k, mine in enumerate(each)]
            # then a relief's aircraft, numbered after the fleet's own; then aircraft coming back after a dip in the
            # count, each return an aircraft of its own (a rested crew), after all the others
            periods += [(p, f"{name}-{len(each) + i + 1}") for i, p in enumerate(tl.extra_aircraft[name])]
            periods += [(p, f"{name}-{k + 1}-{n + 2}") for k, mine in enumerate(each) for n, p in enumerate(mine[1:])]
            for i, ((joins, leaves), ident) in enumerate(periods):
                # aircraft joining at the same time arrive stagger_hours apart
                rank = sum(1 for (j, _), _ in periods[:i] if j == joins)
                out.append(
                    Aircraft(
                        ident=ident,
                        fleet=name,
                        spec=f,
                        cohorts=cohorts,
                        withdrawals=tuple(w for w, r in enumerate(s.withdrawals) if f.operator in r.carriers),
                        available_from=max(first, joins) + rank * f.stagger_hours,
                        last_landing=min(last, leaves),
                        bases=[self.bases[b] for b in f.bases],
                        rule=f.departure.over(s.departure),
                        boarding=steps,
                        timetable=timetable,
                    )
                )
        return out

    @staticmethod
    def _in_service(ac: Aircraft, ctx: FleetContext) -> Generator[simpy.Event, Any, None]:
        """An aircraft's sortie cycle, then out of service for good: retired, unless it left for
        want of a spot or a runway slot in time (its last activity then holds on)."""
        yield from sortie_cycle(ac, ctx)
        if ac.doing[1] < math.inf:
            ac.doing = ("retired", math.inf)

    def _held_back_account(self, priority: list[int]) -> HeldBackAccount | SteppedHeldBack:
        """The account of people held back: compiled, unless boarding steps change who may carry whom."""
        n = len(self.population.cohorts)
        steps = sorted({at for ac in self.aircraft for at, _ in ac.boarding})
        if not steps:
            return HeldBackAccount(self.aircraft, [ac.cohorts for ac in self.aircraft], n, priority)
        carriers_from = [-math.inf, *steps]  # -inf: at the start
        carriers = [[[ac for ac in self.aircraft if i in ac.cohorts_at(at)] for i in range(n)] for at in carriers_from]
        return SteppedHeldBack(carriers_from, carriers, priority)

    def _retrograde(self, troops: int, start: float, withdrawal: int) -> Generator[simpy.Event, Any, None]:
        """A withdrawal's troops become ready to board, ahead of every evacuee, when it starts."""
        yield self.env.timeout(max(0.0, start))
        self.holding.troops_ready(troops, withdrawal)

    def _record_hourly(self) -> Generator[simpy.Event, Any, None]:
        """Samples levels on the hour (times 0, 1, ... up to the security end) into ``records.hourly``,
        and what the account of people held back reads (computed at the end, :meth:`run`)."""
        env, perimeter, holding, ramp, rec = self.env, self.perimeter, self.holding, self.ramp, self.records
        bases, departures, end = list(self.bases.values()), rec.departures, self.timeline.end
        waiting = perimeter.state.inside_by_cohort  # people in the holding area by cohort (status HOLDING)
        gates, held_back = len(self.scenario.gates), self._held_back
        evac = deps = 0
        while True:
            now = env.now
            perimeter.advance_to(now)
            for d in departures[deps:]:
                evac += d.evacuees
            deps = len(departures)
            crowd, blocked = perimeter.crowd_people(), perimeter.blocked_gates()
            held_back.sample(now, crowd, (blocked, gates), waiting)  # what the account of people held back reads
            rec.hourly.append(
                Hourly(
                    now,
                    evac,
                    deps,
                    crowd,
                    holding.reserved,
                    holding.people_inside,
                    ramp.on_ground,
                    ramp.waiting(),
                    round(sum([b.level(now) for b in bases])),
                    blocked,
                )
            )
            if now + 1.0 > end + 1e-9:
                return
            yield env.timeout(1.0)

    def _withdrawn(self) -> list[tuple[int, int]]:
        """Per withdrawal, its index and the troops it withdraws (none if they never start)."""
        starts = self.timeline.withdrawal_starts
        return [(w, r.troops if starts[w] < math.inf else 0) for w, r in enumerate(self.scenario.withdrawals)]

    def run(self) -> None:
        """Run until the airport stops being secured, then settle the perimeter's and the holding
        area's books, and the account of people held back (see :mod:`sim.model.held_back`)."""
        end = self.timeline.end
        self.env.run(until=end + 1e-9)
        self.perimeter.advance_to(end)
        self.holding.settle(end)
        self.records.held_back = self._held_back.people()[1]

    def summary(self) -> dict[str, Any]:
        """Metrics of the finished replication (see :func:`sim.model.metrics.summarise`)."""
        pop = self.population
        out = summarise(
            self.records,
            start=self.scenario.start,
            end_hours=self.timeline.end,
            cohort_names=pop.cohort_names,
            operators=self.scenario.operators,
            people_by_status=pop.people_by_status(),
            troops_total=sum(troops for _, troops in self._withdrawn()),
            withdrawals=dict(zip(self.scenario.withdrawal_names, self._withdrawn(), strict=False)),
        )
        out["metrics"]["aircraft_on_ground_at_end"] = float(self.ramp.on_ground)
        out["metrics"]["holding_peak_people"] = float(self.holding.peak_people)
        for name, base in self.bases.items():
            out["metrics"][f"base.{name}.received"] = float(base.received)
        out["hourly"] = self.records.hourly_columns(self.scenario.operators)
        return out
