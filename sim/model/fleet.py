"""Aircraft and their sortie cycle: staging base -> airport -> staging base.

Each aircraft is one SimPy process. A sortie: wait for a rested crew if the crew's duty period
would run out; get a parking spot and a landing slot (leaving the base so as to land on the
slot); land; unload and prepare (``ground_fixed_min``); board chalks of passengers until the
departure rule says go; take off on a runway slot; fly to the staging base chosen at
boarding; turn around there. The departure rule (the fleet's own ``departure`` keys in place
of the scenario's): leave once the load reaches ``min_load_fraction`` of the seats, or after
``max_ground_hours`` on the ground, whichever comes first, and always in time to be airborne
before the security end; with ``wait_for_base_room`` an aircraft that has people to take but
nowhere to take them waits (see :mod:`sim.model.staging`).

A fleet with a ``timetable`` flies its slots instead (:class:`Timetable`): at its base, an
aircraft claims the first slot no other aircraft of the fleet has claimed that it can still make
(landing and its fixed ground time before it); it waits at the base so as to land
``max_ground_hours`` before the slot (its crew off duty meanwhile), boards until the slot and
leaves at it, full or not. An aircraft that lands too late for its slot takes the next free one
(or, with none left, leaves at once); one with no slot left to claim leaves service.

Which cohorts an aircraft boards, in what order, is its operator's rule in force at the chalk:
the ``boarding`` step of its operator, or before any, the cohorts whose ``carriers`` name it,
by ``priority``.

An aircraft deals with the ramp, the runway, the holding area, the population and its staging
bases only through the narrow interfaces below (``world.py`` hands it the objects); it never
changes their state itself.

Records: ``records.departures`` (one row per take-off), ``records.troops_flown`` (per take-off,
the troops of each withdrawal aboard), ``records.boardings`` (one row per chalk) and
``records.waits`` (aircraft-hours by cause).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import simpy

from sim.description.airport import Departure as DepartureRule
from sim.description.fleets import Fleet
from sim.model.records import Boarding, Departure, MovementKind, Records, TroopsFlown
from sim.model.timeline import Steps, Timeline

__all__ = ["Aircraft", "FleetContext", "Timetable", "sortie_cycle", "CHALKS_PER_STAY"]

CHALKS_PER_STAY = 60
"""An aircraft calls at most this many chalks per ``max_ground_hours`` on the ground: the
interval between chalks is at least ``max_ground_hours / CHALKS_PER_STAY``. That bounds the
events per aircraft whatever ``airfield.chalk_interval_min`` is; the reference scenario (15 min
over 3 h) is far from the bound."""


class Spots(Protocol):
    """The ramp: a parking spot from clearance to take-off (``None``: one was free at once)."""

    def request(self, size_class: str) -> simpy.Event | None: ...

    def release(self, size_class: str, held: simpy.Event | None) -> None: ...

    def landed(self) -> None: ...

    def took_off(self) -> None: ...


class Slots(Protocol):
    """The runway: movement slots."""

    def book(self, t: float, kind: MovementKind, aircraft: str) -> float: ...

    def cancel(self, start: float, kind: MovementKind, aircraft: str) -> None: ...

    def separation(self, t: float) -> float: ...

    def forget_before(self, t: float) -> None: ...


class Passengers(Protocol):
    """The holding area: families and troops ready to board. An aircraft names the cohorts it
    may carry once (:meth:`cohort_set`), then boards from them."""

    def cohort_set(self, cohorts: list[int]) -> np.ndarray: ...

    def ready(self, t: float, cohorts: np.ndarray) -> bool: ...

    def fill_fraction(self) -> float: ...

    def board(self, t: float, cohorts: np.ndarray, seats: int) -> tuple[list[int], int, bool]: ...

    def has_troops(self) -> bool: ...

    def board_troops(self, seats: int, withdrawals: Sequence[int]) -> dict[int, int]: ...


class Flown(Protocol):
    """The population: families aboard an aircraft that took off."""

    def fly(self, groups: tuple[int, ...] | list[int]) -> int: ...


class Destination(Protocol):
    """A staging base: room committed at boarding, people landed after the flight."""

    name: str
    flight_hours: float

    def room(self, t: float) -> int: ...

    def commit(self, n: int) -> None: ...

    def arrive(self, n: int, t: float) -> None: ...


class Timetable:
    """A fleet's scheduled departures: each slot is flown by one aircraft, the first to claim it.
    Slots after the boarding deadline cannot be made and are left out."""

    def __init__(self, slots: Sequence[float], deadline: float):
        self.slots = sorted(t for t in slots if t <= deadline)
        self.free = [True] * len(self.slots)

    def claim(self, earliest: float) -> float | None:
        """The first free slot at or after ``earliest``, now claimed; None if none is left."""
        i = bisect.bisect_left(self.slots, earliest)
        while i < len(self.slots) and not self.free[i]:
            i += 1
        if i == len(self.slots):
            return None
        self.free[i] = False
        return self.slots[i]

    def release(self, slot: float) -> None:
        """Give a claimed slot back (its aircraft will not fly it)."""
        self.free[bisect.bisect_left(self.slots, slot)] = True


@dataclass
class Aircraft:
    ident: str
    fleet: str
    spec: Fleet
    cohorts: list[int]
    """Cohort indices this operator may carry, in boarding priority order (before any ``boarding`` step)."""
    withdrawals: tuple[int, ...]
    """The withdrawals (indices) whose troops its operator carries."""
    available_from: float
    last_landing: float
    bases: list[Destination]
    rule: DepartureRule
    """The departure rule of its fleet."""
    boarding: tuple[tuple[float, tuple[int, ...]], ...] = ()
    """Its operator's boarding steps: from each time on, the cohorts it boards, in order (in place of ``cohorts``)."""
    timetable: Timetable | None = None
    """Its fleet's timetable, shared by the fleet's aircraft; None: it leaves by the departure rule."""
    location: Destination = field(init=False)
    doing: tuple[str, float] = field(init=False)
    """What it is doing and until when (then it is cycling): see :mod:`sim.model.held_back`."""
    load: Load | None = field(init=False, default=None)
    """What is aboard while on the ground."""
    cycling_for: str = field(init=False, default="fleet")
    """What its cycle stands for: ``staging`` after leaving with seats its base had no room for."""

    def __post_init__(self) -> None:
        self.location = self.bases[0]
        self.doing = ("gone", self.available_from)

    def cohorts_at(self, t: float) -> Sequence[int]:
        """The cohorts it boards at ``t``, in order: its operator's boarding step in force, else ``cohorts``."""
        step = bisect.bisect_right([at for at, _ in self.boarding], t)
        return self.cohorts if step == 0 else self.boarding[step - 1][1]

    def seats_and_room(self, t: float) -> tuple[int, int]:
        """Seats still free aboard, and room for people at the staging base it would take them to."""
        load = self.load
        free = max(0, self.spec.seats - (load.people if load is not None else 0))
        if load is not None and load.dest is not None:
            return free, load.dest.room(t)
        return free, max(b.room(t) for b in self.bases)


@dataclass
class FleetContext:
    """The shared actors an aircraft deals with (wired by :mod:`sim.model.world`)."""

    env: simpy.Environment
    timeline: Timeline
    ramp: Spots
    runway: Slots
    holding: Passengers
    families: Flown
    records: Records
    chalk_interval_hours: float
    surge_when_holding_over: float


@dataclass
class Load:
    """What an aircraft on the ground has taken aboard so far (``people``: evacuees and troops)."""

    groups: list[int] = field(default_factory=list)
    evacuees: int = 0
    troops: int = 0
    troops_by: dict[int, int] = field(default_factory=dict)
    """Troops aboard by withdrawal."""
    people: int = 0
    dest: Destination | None = None
    short_of_room: bool = False
    """At the last chalk with passengers it may carry, room at its base ran out before its seats."""


class Crews:
    """The crews of one aircraft: the one flying and its duty start, and when the others are rested."""

    def __init__(self, now: float, spec: Fleet, staged: Steps | None = None):
        self.spec = spec
        self.duty_start = now
        self.rested_at = [now] * (spec.crews_per_aircraft - 1)
        self.staged = staged if staged is not None and staged.times else None
        """Crews per aircraft over time (a relief), or None: always ``spec.crews_per_aircraft``."""

    def _restage(self, now: float) -> None:
        """Crews added by a relief arrive rested; when it ends, the last to be rested leave."""
        assert self.staged is not None
        others = int(self.staged(now)) - 1
        while len(self.rested_at) < others:
            self.rested_at.append(now)
        if len(self.rested_at) > others:
            self.rested_at = sorted(self.rested_at)[:others]

    def wait_for_rested(self, now: float, sortie_hours: float) -> float | None:
        """Hours to wait before the next sortie of ``sortie_hours``, or None if the crew on duty
        can fly it. A tired crew goes to rest and the first rested crew (or itself) takes over."""
        if not (now + sortie_hours - self.duty_start > self.spec.crew_duty_hours and now > self.duty_start):
            return None
        if self.staged is not None:
            self._restage(now)
        if not self.rested_at:
            return self.spec.crew_rest_hours
        i = min(range(len(self.rested_at)), key=self.rested_at.__getitem__)
        ready = self.rested_at[i]
        self.rested_at[i] = max(now, ready) + self.spec.crew_rest_hours
        return max(0.0, ready - now)


def _pick_base(ac: Aircraft, t: float, wanted: int) -> Destination | None:
    """The first base (in the fleet's order) with room for ``wanted`` people, else the roomiest."""
    rooms = [(b.room(t), b) for b in ac.bases]
    for room, b in rooms:
        if room >= wanted:
            return b
    room, best = max(rooms, key=lambda rb: rb[0])
    return best if room > 0 else None


def _after_this_instant(env: simpy.Environment, steps: int) -> Generator[simpy.Event, Any, None]:
    """Go on now, in the order that ``steps`` events due now, each scheduled when the one before
    is processed, would give among what else is due at this instant (SimPy's order): without an
    event when nothing else is due now. (A granted spot request goes on after two such steps, the
    request's and the condition's; a zero-length timeout after one.)"""
    if env.peek() <= env.now:
        for _ in range(steps):
            yield env.timeout(0)


def sortie_cycle(ac: Aircraft, ctx: FleetContext) -> Generator[simpy.Event, Any, None]:
    """The life of one aircraft. Yields timeouts, spot requests and slot waits; emits records."""
    env, rec, spec = ctx.env, ctx.records, ac.spec
    fixed = spec.ground_fixed_min / 60.0
    chalks = _Chalks(ac, ctx, ctx.holding.cohort_set(ac.cohorts))
    if ac.available_from > env.now:
        yield env.timeout(ac.available_from - env.now)
    crews = Crews(env.now, spec, ctx.timeline.crews.get(ac.fleet))
    while True:
        flight = ac.location.flight_hours
        if env.now + flight > ac.last_landing:
            return
        slot = math.inf
        if ac.timetable is None:
            rest = crews.wait_for_rested(env.now, 2 * flight + fixed + ac.rule.max_ground_hours)
        else:
            claimed = yield from _to_slot(ac, ctx, crews, flight, fixed)
            if claimed is None:
                return  # no slot left that it can make
            slot = claimed
            rest = crews.wait_for_rested(env.now, 2 * flight + max(fixed, slot - env.now - flight))
            if rest is not None:
                ac.timetable.release(slot)
        if rest is not None:
            # hours past the aircraft's last chance to land limited nothing
            rec.wait(env.now, "crew", min(rest, max(0.0, ac.last_landing - flight - env.now)), ac.ident)
            ac.doing = ("crew", env.now + rest)
            if rest > 0:
                yield env.timeout(rest)
            crews.duty_start = env.now
            continue
        cleared = yield from _clearance(ac, ctx, flight)
        if cleared is None:
            if ac.timetable is not None:
                ac.timetable.release(slot)
            return
        spot, land = cleared
        yield env.timeout(land - env.now)  # waits at the base, then flies in on its slot
        ctx.ramp.landed()
        ac.doing, ac.load = ("boarding", math.inf), None
        yield env.timeout(fixed)
        if ac.timetable is None:
            load = yield from _board(ac, ctx, land, chalks)
        else:
            load = yield from _board_until(ac, ctx, chalks, slot)
        yield from _take_off(ac, ctx, spot, land, load)
        target = load.dest or ac.location
        yield env.timeout(target.flight_hours)
        if load.dest is not None:
            load.dest.arrive(load.evacuees, env.now)
        ac.location = target
        yield env.timeout(spec.turnaround_hours)


def _to_slot(
    ac: Aircraft, ctx: FleetContext, crews: Crews, flight: float, fixed: float
) -> Generator[simpy.Event, Any, float | None]:
    """A timetabled aircraft at its base claims the first free slot it can make (landing and its
    fixed ground time before it) and waits there so as to land ``max_ground_hours`` before it
    (by its last landing at the latest). Its crew is off duty meanwhile: a wait of at least
    ``crew_rest_hours`` rests it. Returns the slot, or None when none is left to make."""
    env, timetable = ctx.env, ac.timetable
    assert timetable is not None
    slot = timetable.claim(env.now + flight + fixed)
    if slot is None:
        return None
    wait = min(slot - max(ac.rule.max_ground_hours, fixed), ac.last_landing) - flight - env.now
    if wait > 0:
        yield env.timeout(wait)
        if wait >= ac.spec.crew_rest_hours:
            crews.duty_start = env.now
    return slot


def _clearance(
    ac: Aircraft, ctx: FleetContext, flight: float
) -> Generator[simpy.Event, Any, tuple[simpy.Event | None, float] | None]:
    """A spot on the ramp (at once if one is free, else waiting for one at the base), then a
    landing slot: returns the spot and the landing time, or None when the aircraft can no
    longer land in time (it then leaves service).

    A landing must leave the runway, and the aircraft finish its fixed ground time, by the
    boarding deadline: after it the runway is kept for the take-offs of those on the ground."""
    env, tl, rec, spec = ctx.env, ctx.timeline, ctx.records, ac.spec
    asked = env.now
    spot = ctx.ramp.request(spec.size_class)
    if spot is None:
        yield from _after_this_instant(env, steps=2)  # a free spot: go on as a granted request would
    else:
        give_up = env.timeout(max(0.0, ac.last_landing - flight - env.now))
        ac.doing = ("ramp", math.inf)
        got = yield spot | give_up
        if spot not in got:
            ctx.ramp.release(spec.size_class, spot)
            return None
        rec.wait(asked, "ramp", env.now - asked, ac.ident)
    land = ctx.runway.book(env.now + flight, "landing", ac.ident)
    busy = max(spec.ground_fixed_min / 60.0, ctx.runway.separation(land))
    if land > ac.last_landing or land + busy > tl.boarding_deadline:
        ac.doing = ("runway", math.inf)  # leaves service for want of a slot in time
        ctx.runway.cancel(land, "landing", ac.ident)
        ctx.ramp.release(spec.size_class, spot)
        return None
    rec.wait(env.now, "runway", land - (env.now + flight), ac.ident)
    ac.doing = ("runway", land - flight)
    return spot, land


def _take_off(
    ac: Aircraft, ctx: FleetContext, spot: simpy.Event | None, land: float, load: Load
) -> Generator[simpy.Event, Any, None]:
    """Book the next take-off slot, leave on it and give the spot back; records the departure."""
    env, spec = ctx.env, ac.spec
    ctx.runway.forget_before(env.now)
    takeoff = ctx.runway.book(env.now, "takeoff", ac.ident)
    ctx.records.wait(env.now, "runway", takeoff - env.now, ac.ident)
    ac.doing = ("runway", takeoff)
    ac.cycling_for = "staging" if load.short_of_room else "fleet"
    if takeoff > env.now:
        yield env.timeout(takeoff - env.now)
    else:
        yield from _after_this_instant(env, steps=1)
    ctx.ramp.took_off()
    ctx.ramp.release(spec.size_class, spot)
    evacuees = ctx.families.fly(load.groups)
    ctx.records.departures.append(
        Departure(
            takeoff=takeoff,
            aircraft=ac.ident,
            fleet=ac.fleet,
            operator=spec.operator,
            base=load.dest.name if load.dest else "",
            evacuees=evacuees,
            troops=load.troops,
            seats=spec.seats,
            landed=land,
            groups=tuple(load.groups),
            size_class=spec.size_class,
        )
    )
    for w, n in load.troops_by.items():
        ctx.records.troops_flown.append(TroopsFlown(takeoff, ac.ident, w, n))


class _Chalks:
    """One aircraft's boarding, chalk by chalk: what every chalk reads, looked up once."""

    def __init__(self, ac: Aircraft, ctx: FleetContext, cohorts: np.ndarray):
        spec, tl = ac.spec, ctx.timeline
        self.ac, self.holding, self.cohorts, self.boardings = ac, ctx.holding, cohorts, ctx.records.boardings
        self.full_seats, self.surge_seats, self.surge_over = spec.seats, spec.surge_seats, ctx.surge_when_holding_over
        self.per_person = spec.boarding_min_per_person / 60.0
        self.deadline = tl.boarding_deadline
        self.board_by = self.deadline
        """No more people board than can before then: the boarding deadline, or a timetable slot."""
        # the withdrawals it carries, by when their troops are ready (first come, first flown)
        self.troop_turns = sorted((tl.withdrawal_starts[w], w) for w in ac.withdrawals if tl.withdrawal_starts[w] < math.inf)
        self.troops_from = self.troop_turns[0][0] if self.troop_turns else math.inf
        self.step_times = [at for at, _ in ac.boarding]
        self.step_cohorts = [ctx.holding.cohort_set(list(step)) for _, step in ac.boarding]

    def cohorts_at(self, now: float) -> np.ndarray:
        """The cohorts boarded now, in order: the boarding step in force, or the aircraft's ``cohorts``."""
        if not self.step_times or now < self.step_times[0]:
            return self.cohorts
        return self.step_cohorts[bisect.bisect_right(self.step_times, now) - 1]

    def seats(self, load: Load, now: float) -> int:
        """Seats usable now: surge seats while holding is crowded, and no more people than can
        board before the boarding deadline."""
        seats = self.full_seats
        if self.surge_seats and self.holding.fill_fraction() > self.surge_over:
            seats = self.surge_seats
        if self.per_person > 0:
            room_in_time = (self.board_by - now) / self.per_person
            if room_in_time < seats - load.people:
                seats = load.people + max(0, int(room_in_time))
        return seats

    def take(self, load: Load, now: float) -> tuple[int, bool, int]:
        """Take one chalk aboard: troops first (once the retrograde has started), then families.

        Returns the people taken, whether room at the staging base, not a lack of passengers,
        kept the aircraft from filling up, and the seats it had."""
        holding = self.holding
        cohorts = self.cohorts_at(now) if self.step_times else self.cohorts
        eligible = holding.ready(now, cohorts)  # the holding area as it is now
        seats = self.seats(load, now)
        troops = 0
        if now >= self.troops_from and holding.has_troops():
            aboard = holding.board_troops(seats - load.people, [w for start, w in self.troop_turns if now >= start])
            for w, n in aboard.items():
                load.troops_by[w] = load.troops_by.get(w, 0) + n
                troops += n
            load.troops += troops
            load.people += troops
        if load.people >= seats or not eligible:
            boarded, blocked = 0, False
        else:
            dest = load.dest
            if dest is None:
                dest = load.dest = _pick_base(self.ac, now, seats - load.people)
            room = dest.room(now) if dest is not None else 0
            boarded, more = 0, True
            if dest is not None and room > 0:
                taken, boarded, more = holding.board(now, cohorts, min(seats - load.people, room))
                dest.commit(boarded)
                load.groups.extend(taken)
                load.evacuees += boarded
                load.people += boarded
            blocked = load.people < seats and room - boarded <= 0 and more
            load.short_of_room = room - boarded < seats - load.people
        if troops or boarded:
            base = load.dest.name if load.dest is not None else ""
            self.boardings.append(Boarding(now, self.ac.ident, boarded, troops, base))
        return troops + boarded, blocked, seats


def _board(ac: Aircraft, ctx: FleetContext, land: float, chalks: _Chalks) -> Generator[simpy.Event, Any, Load]:
    """Board chalks until the departure rule releases the aircraft; returns what is aboard."""
    env, rule, wait_row, ident = ctx.env, ac.rule, ctx.records.wait, ac.ident
    per_person = chalks.per_person
    # the latest the aircraft may board; a take-off slot before the last take-off time is then certain
    deadline = chalks.deadline
    max_ground = rule.max_ground_hours
    interval = max(ctx.chalk_interval_hours, max_ground / CHALKS_PER_STAY)
    full_at = math.ceil(rule.min_load_fraction * ac.spec.seats)
    load = ac.load = Load()
    while True:
        took, blocked_by_base, seats = chalks.take(load, env.now)
        if took and per_person > 0:
            yield env.timeout(took * per_person)
        now = env.now
        on_ground = now - land
        if now >= deadline or load.people >= full_at or load.people >= seats and not blocked_by_base:
            break
        if on_ground >= max_ground and not (blocked_by_base and rule.wait_for_base_room):
            break
        wait = min(interval, deadline - now)
        if on_ground < max_ground:
            wait = min(wait, land + max_ground - now)
        if wait <= 0:
            break
        wait_row(now, "staging" if blocked_by_base else "evacuees", wait, ident)
        ac.doing = ("staging" if blocked_by_base else "boarding", math.inf)
        yield env.timeout(wait)
    return load


def _board_until(ac: Aircraft, ctx: FleetContext, chalks: _Chalks, slot: float) -> Generator[simpy.Event, Any, Load]:
    """A timetabled aircraft boards chalks until its slot and leaves at it, full or not (no one
    boards who could not be aboard by then). Landed too late for its slot, it takes the next free
    one, or with none left leaves at once."""
    env, wait_row, ident, timetable = ctx.env, ctx.records.wait, ac.ident, ac.timetable
    if env.now > slot and timetable is not None:
        later = timetable.claim(env.now)
        slot = env.now if later is None else later
    leave = chalks.board_by = min(slot, chalks.deadline)
    interval = max(ctx.chalk_interval_hours, ac.rule.max_ground_hours / CHALKS_PER_STAY)
    load = ac.load = Load()
    while True:
        took, blocked_by_base, seats = chalks.take(load, env.now)
        if took and chalks.per_person > 0:
            yield env.timeout(took * chalks.per_person)
        now = env.now
        if now >= leave:
            break
        wait = min(interval, leave - now)
        if load.people < seats or blocked_by_base:  # short of its load: waiting for evacuees or for room
            wait_row(now, "staging" if blocked_by_base else "evacuees", wait, ident)
        ac.doing = ("staging" if blocked_by_base else "boarding", math.inf)
        yield env.timeout(wait)
    chalks.board_by = chalks.deadline
    return load
