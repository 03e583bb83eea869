"""Who is held back, and by what, at one instant: the rule behind the ``limit.<cause>_hours`` metrics.

A cause limits throughput only while it holds back someone waiting. People in a gate crowd wait
for a screening lane (``gates``), or for room inside when their gate is stopped (``holding``).
People inside wait for an aircraft that may carry them: those an aircraft on the ground can
still seat are not held back; the rest are shared equally among the other aircraft that may
carry them, by what each is doing (waiting for a crew, a spot, a runway slot or staging room,
or cycling: flying, turning round; ``staging`` if it left with seats its base had no room for),
``fleet`` when none is in service yet. Once every one has
left service at the end of the airlift, those still waiting are held back by nothing it has.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

import numpy as np

from sim.description.metric_catalog import LIMIT_CAUSES

__all__ = ["DOINGS", "Carrier", "HeldBackAccount", "doing_at", "held_back"]

DOINGS: dict[str, str] = {
    "crew": "crew",
    "ramp": "ramp",
    "runway": "runway",
    "staging": "staging",
    "cycling": "fleet",
}
"""What an aircraft in service is doing (other than boarding) -> the cause it stands for."""


class Carrier(Protocol):
    """An aircraft as the rule sees it: ``doing`` is ``(what, until)``: from ``until`` on it is
    cycling. ``what`` is ``boarding`` (on the ground), ``gone`` (not in service yet), ``retired``
    (out of service for good) or a key of :data:`DOINGS`. Cycling stands for ``cycling_for``:
    ``fleet``, or ``staging`` after a take-off with seats its base had no room for."""

    ident: str
    doing: tuple[str, float]
    cycling_for: str

    def seats_and_room(self, t: float) -> tuple[int, int]: ...


def doing_at(doing: tuple[str, float], t: float) -> str:
    """What an aircraft whose last change of activity was ``doing`` is doing at ``t``."""
    what, until = doing
    return what if t < until else "cycling"


def _gate_side(crowd: float, blocked_gates: int, gates: int) -> tuple[float, float]:
    """People in gate crowds held back by the holding area (their gate stopped) and by lanes."""
    stopped = crowd * blocked_gates / gates if gates else 0.0
    return stopped, crowd - stopped


def held_back(
    t: float,
    crowd: float,
    gates_stopped: tuple[int, int],
    waiting_inside: np.ndarray,
    carriers: Sequence[Sequence[Carrier]],
    priority: Sequence[int],
) -> dict[str, float]:
    """People held back at ``t`` by each cause of LIMIT_CAUSES.

    ``crowd``: people in gate crowds; ``gates_stopped``: (gates stopped for want of room, gates);
    ``waiting_inside[c]``: people of cohort ``c`` in the holding area; ``carriers[c]``: the aircraft
    that may carry cohort ``c``; ``priority``: the cohorts in boarding order (the first take the
    seats on the ground first)."""
    out = dict.fromkeys(LIMIT_CAUSES, 0.0)
    out["holding"], out["gates"] = _gate_side(crowd, *gates_stopped)
    seats: dict[str, tuple[int, int]] = {}  # free seats and room of aircraft on the ground, as cohorts take them
    for c in priority:
        waiting = int(waiting_inside[c])
        if waiting <= 0:
            continue  # nobody of this cohort to hold back
        causes: list[str] = []
        joining = False  # an aircraft that may carry them has not entered service yet
        for ac in carriers[c]:
            what, until = ac.doing  # doing_at, written out: this loop runs every hour for every carrier
            if t >= until:
                what = "cycling"
            if what == "boarding":
                free, room = seats.get(ac.ident) or ac.seats_and_room(t)
                seated = min(free, room, waiting)
                no_room = min(free, waiting) - seated  # seats it cannot fill for want of room at its base
                out["staging"] += no_room
                seats[ac.ident], waiting = (free - seated - no_room, room - seated), waiting - seated - no_room
            elif what in DOINGS:
                causes.append(ac.cycling_for if what == "cycling" else DOINGS[what])
            elif what == "gone":
                joining = True
        if causes:
            share = waiting / len(causes)
            for cause in causes:
                out[cause] += share
        elif joining or any(doing_at(ac.doing, t) != "retired" for ac in carriers[c]):
            out["fleet"] += waiting
    return out


_CAUSE_INDEX = {cause: i for i, cause in enumerate(LIMIT_CAUSES)}
_AIRCRAFT_CAUSES = sorted({_CAUSE_INDEX[cause] for cause in ("fleet", "staging", *DOINGS.values())})
"""The causes an aircraft may stand for (by index in LIMIT_CAUSES)."""
_GONE, _RETIRED, _OTHER = len(LIMIT_CAUSES), len(LIMIT_CAUSES) + 1, len(LIMIT_CAUSES) + 2
_CODES = {what: _CAUSE_INDEX[cause] for what, cause in DOINGS.items() if what != "cycling"} | {"gone": _GONE, "retired": _RETIRED}
"""What an aircraft is doing (neither boarding nor cycling) -> its code: a cause's index in
LIMIT_CAUSES, or not in service yet, out of service for good, or anything else."""


class HeldBackAccount:
    """The rule of :func:`held_back` for one world's aircraft, sampled hour after hour, with the
    people-hours held back by each cause added up between samples.

    Gives the numbers of :func:`held_back`, float for float, at a fraction of its cost: each
    aircraft is looked at once a sample (not once for every cohort it may carry), and only when
    someone is inside; aircraft that may carry the same cohorts (a kind) are counted together;
    a cohort's share is then added to a cause once for each of its carriers standing for it, as
    :func:`held_back` adds it (the same additions in the same order for every cause, so the sums
    round alike; adding a share of nobody, zero, changes no sum and is left out).

    ``cohorts_of[a]``: the cohorts aircraft ``a`` may carry; the carriers of a cohort are the
    aircraft that may carry it, in the order of ``aircraft``."""

    def __init__(self, aircraft: Sequence[Carrier], cohorts_of: Sequence[Collection[int]], cohorts: int, priority: Sequence[int]):
        kinds: dict[frozenset[int], list[tuple[int, Carrier]]] = {}  # the cohorts they may carry -> aircraft (numbered)
        for a, (ac, cs) in enumerate(zip(aircraft, cohorts_of, strict=True)):
            kinds.setdefault(frozenset(cs), []).append((a, ac))
        self._kinds = [(cs, members) for cs, members in kinds.items()]
        kinds_of = [tuple(k for k, (cs, _) in enumerate(self._kinds) if c in cs) for c in range(cohorts)]
        # a cohort nothing may carry holds back no one
        self._cohorts = [(c, kinds_of[c]) for c in priority if kinds_of[c]]
        self.held = [0.0] * len(LIMIT_CAUSES)
        """People-hours held back by each cause of LIMIT_CAUSES (in that order) up to the last sample."""
        self._last: list[float] = []  # people held back at the last sample

    def sample(self, t: float, crowd: float, gates_stopped: tuple[int, int], waiting_inside: np.ndarray) -> tuple[float, ...]:
        """The people-hours held back by each cause up to ``t``, from the people held back at the
        last sample (for the time since it); then the people held back at ``t`` become the last
        sample's (the arguments are those of :func:`held_back`)."""
        held = self.held
        for i, people in enumerate(self._last):
            held[i] += people
        self._last = self.now(t, crowd, gates_stopped, waiting_inside)
        return tuple(held)

    def _by_kind(self, t: float) -> tuple[list[list[int]], list[tuple[int, Carrier, frozenset[int]]]]:
        """At ``t``: each kind's aircraft counted by code (a cause's index, or _GONE, _RETIRED,
        _OTHER), and the aircraft on the ground boarding, numbered, in the order of the aircraft."""
        counts, boarding = [], []
        codes, cycling = _CODES, _CAUSE_INDEX
        for cohorts, members in self._kinds:
            row = [0] * (_OTHER + 1)
            for a, ac in members:
                what, until = ac.doing  # doing_at, written out
                if t >= until or what == "cycling":
                    row[cycling[ac.cycling_for]] += 1
                elif what == "boarding":
                    boarding.append((a, ac, cohorts))
                else:
                    row[codes.get(what, _OTHER)] += 1
            counts.append(row)
        if len(self._kinds) > 1:
            boarding.sort(key=lambda b: b[0])
        return counts, boarding

    def now(self, t: float, crowd: float, gates_stopped: tuple[int, int], waiting_inside: np.ndarray) -> list[float]:
        """People held back at ``t`` by each cause of LIMIT_CAUSES, in that order (as :func:`held_back`)."""
        out = [0.0] * len(LIMIT_CAUSES)
        out[_CAUSE_INDEX["holding"]], out[_CAUSE_INDEX["gates"]] = _gate_side(crowd, *gates_stopped)
        inside = waiting_inside.tolist()
        if not any(inside[c] > 0 for c, _ in self._cohorts):
            return out
        counts, boarding = self._by_kind(t)
        summed: dict[tuple[int, ...], list[int]] = {}  # kinds -> their aircraft counted by code
        staging, fleet = _CAUSE_INDEX["staging"], _CAUSE_INDEX["fleet"]
        seats: dict[str, tuple[int, int]] = {}  # free seats and room of aircraft on the ground, as cohorts take them
        for c, kinds in self._cohorts:
            waiting = int(inside[c])
            if waiting <= 0:
                continue  # nobody of this cohort to hold back
            any_boarding = False
            for _, ac, cohorts in boarding:
                if c in cohorts:
                    any_boarding = True
                    free, room = seats.get(ac.ident) or ac.seats_and_room(t)
                    seated = min(free, room, waiting)
                    no_room = min(free, waiting) - seated  # seats it cannot fill for want of room at its base
                    out[staging] += no_room
                    seats[ac.ident], waiting = (free - seated - no_room, room - seated), waiting - seated - no_room
            if waiting <= 0:
                continue  # all seated or held back by staging: shares of nobody add nothing
            by_code = summed.get(kinds)
            if by_code is None:
                by_code = summed[kinds] = [sum(n) for n in zip(*[counts[k] for k in kinds])]
            standing = sum(by_code[:_GONE])
            if standing:
                share = waiting / standing
                for i in _AIRCRAFT_CAUSES:
                    v = out[i]
                    for _ in range(by_code[i]):
                        v += share  # once for each carrier standing for cause i, as held_back adds it
                    out[i] = v
            elif any_boarding or by_code[_GONE] or by_code[_OTHER]:
                out[fleet] += waiting
        return out
