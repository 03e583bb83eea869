"""Aircraft and their sortie cycle: staging base -> airport -> staging base.

Each aircraft is one SimPy process. A sortie: wait for crew rest if the crew's duty period
would run out; get a parking spot and a landing slot (leaving the base so as to land on the
slot); land; unload and prepare (``ground_fixed_min``); board chalks of passengers until the
departure rule says go; take off on a runway slot; fly to the staging base chosen at
boarding; turn around there. The departure rule: leave once the load reaches
``departure.min_load_fraction`` of the seats, or after ``departure.max_ground_hours`` on the
ground, whichever comes first, and always in time to be airborne before the security end;
with ``departure.wait_for_base_room`` an aircraft that has people to take but nowhere to take
them waits (see :mod:`sim.model.staging`).

Records: ``records.departures`` (one row per take-off) and the waiting counters in
``records.waits`` (aircraft-hours by cause).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from sim.metrics import Departure, Records
from sim.model.airfield import Holding
from sim.model.population import Status
from sim.model.ramp import Ramp
from sim.model.runway import Runway
from sim.model.security import Timeline
from sim.model.staging import StagingBase
from sim.scenario import Departure as DepartureRule
from sim.scenario import Fleet

__all__ = ["Aircraft", "FleetContext", "sortie_cycle"]


@dataclass
class Aircraft:
    ident: str
    fleet: str
    spec: Fleet
    cohorts: list[int]
    """Cohort indices this operator may carry, in boarding priority order."""
    carries_troops: bool
    available_from: float
    last_landing: float
    bases: list[StagingBase]
    location: StagingBase = field(init=False)

    def __post_init__(self) -> None:
        self.location = self.bases[0]


@dataclass
class FleetContext:
    """The shared actors an aircraft deals with (wired by :mod:`sim.model.world`)."""

    env: simpy.Environment
    timeline: Timeline
    rule: DepartureRule
    ramp: Ramp
    runway: Runway
    holding: Holding
    records: Records
    chalk_interval_hours: float
    surge_when_holding_over: float


def _pick_base(ac: Aircraft, t: float, wanted: int) -> StagingBase | None:
    """The first base (in the fleet's order) with room for ``wanted`` people, else the roomiest."""
    rooms = [(b.room(t), b) for b in ac.bases]
    for room, b in rooms:
        if room >= wanted:
            return b
    room, best = max(rooms, key=lambda rb: rb[0])
    return best if room > 0 else None


def sortie_cycle(ac: Aircraft, ctx: FleetContext) -> Generator[simpy.Event, Any, None]:
    """The life of one aircraft. Yields timeouts, spot requests and slot waits; emits records."""
    env, tl, rule, rec = ctx.env, ctx.timeline, ctx.rule, ctx.records
    spec = ac.spec
    max_ground = rule.max_ground_hours
    if ac.available_from > env.now:
        yield env.timeout(ac.available_from - env.now)
    duty_start = env.now
    # when each staged crew (other than the one flying) is rested and ready
    rested_at = [env.now] * (spec.crews_per_aircraft - 1)
    while True:
        flight = ac.location.flight_hours
        if env.now + flight > ac.last_landing:
            return
        # crew duty: the next sortie must fit before the crew runs out of duty time
        sortie = 2 * flight + spec.ground_fixed_min / 60.0 + max_ground
        if env.now + sortie - duty_start > spec.crew_duty_hours and env.now > duty_start:
            if rested_at:  # swap for the crew that is rested first; the tired one goes to rest
                i = min(range(len(rested_at)), key=rested_at.__getitem__)
                ready = rested_at[i]
                rested_at[i] = max(env.now, ready) + spec.crew_rest_hours
                if ready > env.now:
                    yield env.timeout(ready - env.now)
            else:
                yield env.timeout(spec.crew_rest_hours)
            duty_start = env.now
            continue
        # clearance: a spot on the ramp, then a landing slot
        asked = env.now
        req = ctx.ramp.request(spec.size_class)
        give_up = env.timeout(max(0.0, ac.last_landing - flight - env.now))
        got = yield req | give_up
        if req not in got:
            req.cancel()
            return
        rec.waits["ramp"] += env.now - asked
        land = ctx.runway.book(env.now + flight, "landing", ac.ident)
        if land > ac.last_landing or land + spec.ground_fixed_min / 60.0 > tl.boarding_deadline:
            ctx.runway.cancel(land, ac.ident)
            ctx.ramp.release(spec.size_class, req)
            return
        rec.waits["runway"] += land - (env.now + flight)
        yield env.timeout(land - env.now)  # waits at the base, then flies in on its slot
        ctx.ramp.on_ground += 1
        yield env.timeout(spec.ground_fixed_min / 60.0)
        groups, troops, dest = yield from _board(ac, ctx, land, max_ground)
        ctx.runway.forget_before(env.now)
        takeoff = ctx.runway.book(env.now, "takeoff", ac.ident)
        rec.waits["runway"] += takeoff - env.now
        yield env.timeout(takeoff - env.now)
        ctx.ramp.on_ground -= 1
        ctx.ramp.release(spec.size_class, req)
        status = ctx.holding.pop.status
        evacuees = 0
        for g in groups:
            status[g] = Status.FLOWN
            evacuees += ctx.holding.pop.size[g]
        rec.departures.append(
            Departure(
                takeoff,
                ac.ident,
                ac.fleet,
                spec.operator,
                dest.name if dest else "",
                evacuees,
                troops,
                spec.seats,
                land,
                tuple(groups),
            )
        )
        target = dest or ac.location
        yield env.timeout(target.flight_hours)
        if dest is not None:
            dest.arrive(evacuees, env.now)
        ac.location = target
        yield env.timeout(spec.turnaround_hours)


def _board(
    ac: Aircraft, ctx: FleetContext, land: float, max_ground: float
) -> Generator[simpy.Event, Any, tuple[list[int], int, StagingBase | None]]:
    """Board chalks until the departure rule releases the aircraft.

    Returns the families aboard, the troops aboard and the staging base they are bound for."""
    env, tl, rule, holding, rec = ctx.env, ctx.timeline, ctx.rule, ctx.holding, ctx.records
    spec = ac.spec
    per_person = spec.boarding_min_per_person / 60.0
    # the latest the aircraft may board; a take-off slot before the last take-off time is then certain
    deadline = tl.boarding_deadline
    groups: list[int] = []
    load = troops = 0
    dest: StagingBase | None = None
    full_at = math.ceil(rule.min_load_fraction * spec.seats)
    while True:
        now = env.now
        holding.sync(now)
        seats = spec.seats
        if spec.surge_seats and holding.fill_fraction() > ctx.surge_when_holding_over:
            seats = spec.surge_seats
        # time left lets only so many more people board
        if per_person > 0:
            room_in_time = (deadline - now) / per_person
            if room_in_time < seats - load:
                seats = load + max(0, int(room_in_time))
        took = 0
        if ac.carries_troops and now >= tl.retrograde_start and holding.troops_waiting:
            t = holding.board_troops(seats - load)
            troops += t
            load += t
            took += t
        blocked_by_base = False
        if load < seats and holding.has_eligible(ac.cohorts):
            if dest is None:
                dest = _pick_base(ac, now, seats - load)
            room = dest.room(now) if dest is not None else 0
            boarded = 0
            if dest is not None and room > 0:
                taken = holding.board(now, ac.cohorts, min(seats - load, room))
                boarded = sum(holding.pop.size[g] for g in taken)
                dest.commit(boarded)
                groups.extend(taken)
                load += boarded
                took += boarded
            # the base, not the passengers, is what keeps this aircraft from filling up
            blocked_by_base = load < seats and room - boarded <= 0 and holding.has_eligible(ac.cohorts)
        if took and per_person > 0:
            yield env.timeout(took * per_person)
        now = env.now
        on_ground = now - land
        if now >= deadline or load >= full_at or load >= seats and not blocked_by_base:
            break
        if on_ground >= max_ground and not (blocked_by_base and rule.wait_for_base_room):
            break
        wait = min(ctx.chalk_interval_hours, deadline - now)
        if on_ground < max_ground:
            wait = min(wait, land + max_ground - now)
        if wait <= 0:
            break
        rec.waits["staging" if blocked_by_base else "evacuees"] += wait
        yield env.timeout(wait)
    return groups, troops, dest
