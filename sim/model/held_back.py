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

import bisect
import math
from collections.abc import Collection, Sequence
from typing import Protocol

import numpy as np

from sim.description.metric_catalog import LIMIT_CAUSES
from sim.model.perimeter_core import compiled

__all__ = ["DOINGS", "Carrier", "HeldBackAccount", "SteppedHeldBack", "doing_at", "held_back"]

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
_CAUSES = len(LIMIT_CAUSES)
_GONE, _OTHER, _RETIRED = _CAUSES, _CAUSES + 1, _CAUSES + 2
_CODES = {what: _CAUSE_INDEX[cause] for what, cause in DOINGS.items() if what != "cycling"} | {"gone": _GONE, "retired": _RETIRED}
"""What an aircraft is doing (neither boarding nor cycling) -> its code: a cause's index in
LIMIT_CAUSES, or not in service yet (_GONE), out of service for good (_RETIRED); anything else
is _OTHER."""


class _Kind:
    """Aircraft that may carry the same cohorts, counted by what they are doing. Those not in
    service yet are looked at again only once their joining time has come, and those out of
    service for good are not looked at again."""

    def __init__(self, cohorts: frozenset[int], aircraft: list[tuple[int, Carrier]]):
        self.cohorts = cohorts
        self.looked_at = aircraft  # (number, aircraft)
        self.joining: list[tuple[float, int, Carrier]] = []  # (when, number, aircraft), the soonest last
        self.retired = 0

    def count(self, t: float, inside: list[int], boarding: list[int]) -> list[int]:
        """Its aircraft at ``t`` by code (a cause's index in LIMIT_CAUSES, _GONE, _OTHER, _RETIRED);
        each aircraft boarding that may carry someone ``inside`` (by cohort) appended to
        ``boarding`` with its free seats and room."""
        joining = self.joining
        while joining and joining[-1][0] <= t:
            self.looked_at.append(joining.pop()[1:])
        row = [0] * (_RETIRED + 1)
        row[_GONE], row[_RETIRED] = len(joining), self.retired
        codes, cycling, leaving, carries_someone = _CODES, _CAUSE_INDEX, False, None
        for a, ac in self.looked_at:
            what, until = ac.doing  # doing_at, written out
            if t >= until or what == "cycling":
                row[cycling[ac.cycling_for]] += 1
            elif what != "boarding":
                code = codes.get(what, _OTHER)
                row[code] += 1
                leaving = leaving or code == _RETIRED or code == _GONE
            else:
                if carries_someone is None:
                    carries_someone = any(inside[c] > 0 for c in self.cohorts)
                if carries_someone:
                    boarding.extend((a, *ac.seats_and_room(t)))
        if leaving:
            self._set_aside(t)
        return row

    def _set_aside(self, t: float) -> None:
        """Aircraft not in service yet wait until they join; those out of service for good leave."""
        kept = []
        for a, ac in self.looked_at:
            what, until = ac.doing
            if t < until and what == "gone":
                self.joining.append((until, a, ac))
            elif what == "retired" and until == math.inf:
                self.retired += 1
            else:
                kept.append((a, ac))
        self.looked_at = kept
        self.joining.sort(key=lambda j: -j[0])


class HeldBackAccount:
    """The rule of :func:`held_back` for one world's aircraft, sampled hour after hour: the people
    held back by each cause at every sample, and the people-hours up to it.

    A sample keeps only what the rule reads then: the people in gate crowds and inside by cohort,
    the stopped gates, each kind of aircraft (those that may carry the same cohorts) counted by
    what it is doing, and the seats and room of each aircraft boarding that may carry someone
    inside. :meth:`people` then applies the rule to every sample at once, compiled
    (:func:`_account`): the same arithmetic as :func:`held_back` in the same order, so the same
    floats. Each aircraft is looked at once a sample, and not at all when nobody is inside.

    ``cohorts_of[a]``: the cohorts aircraft ``a`` may carry; the carriers of a cohort are the
    aircraft that may carry it, in the order of ``aircraft``."""

    def __init__(self, aircraft: Sequence[Carrier], cohorts_of: Sequence[Collection[int]], cohorts: int, priority: Sequence[int]):
        kinds: dict[frozenset[int], list[tuple[int, Carrier]]] = {}  # the cohorts they may carry -> aircraft (numbered)
        for a, (ac, cs) in enumerate(zip(aircraft, cohorts_of, strict=True)):
            kinds.setdefault(frozenset(cs), []).append((a, ac))
        self._kinds = [_Kind(cs, members) for cs, members in kinds.items()]
        self._carries = np.zeros((len(aircraft), cohorts), dtype=np.bool_)  # aircraft a may carry cohort c
        self._kind_carries = np.zeros((len(kinds), cohorts), dtype=np.bool_)
        for k, (cs, members) in enumerate(kinds.items()):
            for c in cs:
                self._kind_carries[k, c] = True
                self._carries[[a for a, _ in members], c] = True
        carried = set().union(*kinds)  # nothing may carry the other cohorts: they hold back no one
        self._priority = np.array([c for c in priority if c in carried], dtype=np.int64)
        self._cohorts = cohorts
        self._none_inside = [0] * ((_RETIRED + 1) * len(kinds))
        self._levels: list[float] = []  # by sample: people in gate crowds, gates stopped, gates
        self._inside: list[int] = []  # by sample: people inside by cohort
        self._counts: list[int] = []  # by sample and kind: its aircraft by code (a cause, _GONE, _OTHER, _RETIRED)
        self._boarding: list[int] = []  # by sample: aircraft boarding, their free seats and room
        self._boarding_ends: list[int] = []  # by sample: where its aircraft boarding end in _boarding

    def sample(self, t: float, crowd: float, gates_stopped: tuple[int, int], waiting_inside: np.ndarray) -> None:
        """Keep what :func:`held_back` reads at ``t`` (its arguments, the aircraft as they are now)."""
        inside = waiting_inside.tolist()
        self._levels.extend((crowd, *gates_stopped))
        self._inside.extend(inside)
        if any(inside):
            for kind in self._kinds:
                self._counts.extend(kind.count(t, inside, self._boarding))
        else:
            self._counts.extend(self._none_inside)
        self._boarding_ends.append(len(self._boarding))

    def people(self) -> tuple[np.ndarray, np.ndarray]:
        """The people held back by each cause of LIMIT_CAUSES at each sample, and the people-hours
        held back from the first sample to each (each sample's people held until the next):
        two arrays, a row a sample, a column a cause."""
        n = len(self._boarding_ends)
        people, hours = np.zeros((n, _CAUSES)), np.zeros((n, _CAUSES))
        _account(
            np.array(self._levels, dtype=np.float64).reshape(n, 3),
            np.array(self._inside, dtype=np.int64).reshape(n, self._cohorts),
            np.array(self._counts, dtype=np.int64).reshape(n, len(self._kinds), _RETIRED + 1),
            np.array(self._boarding, dtype=np.int64).reshape(-1, 3),
            np.array(self._boarding_ends, dtype=np.int64) // 3,
            self._carries,
            self._kind_carries,
            self._priority,
            np.full((len(self._carries), 3), -1, dtype=np.int64),
            people,
            hours,
        )
        return people, hours


_HOLDING, _GATES, _STAGING, _FLEET = (_CAUSE_INDEX[c] for c in ("holding", "gates", "staging", "fleet"))


# long: the rule of held_back over every sample, in one compiled loop (its signature and docstring a third of it)
@compiled
def _account(
    levels: np.ndarray,
    inside: np.ndarray,
    counts: np.ndarray,
    boarding: np.ndarray,
    ends: np.ndarray,
    carries: np.ndarray,
    kind_carries: np.ndarray,
    priority: np.ndarray,
    seats: np.ndarray,
    people: np.ndarray,
    hours: np.ndarray,
) -> None:  # pragma: no cover - compiled (the tests run it, and its plain twin with NUMBA_DISABLE_JIT=1)
    """:func:`held_back` at every sample of a :class:`HeldBackAccount` into ``people`` (the
    same additions in the same order, so the same floats), and their sums over the samples
    before each into ``hours``. ``levels[h]``: people in gate crowds, gates stopped, gates;
    ``inside[h, c]``; ``counts[h, k, code]``: aircraft of kind ``k`` by code; ``boarding[ends[h - 1]:ends[h]]``:
    the aircraft boarding at sample ``h`` (number, free seats, room; sorted here into the order
    of the aircraft); ``carries[a, c]``, ``kind_carries[k, c]``: who may carry whom; ``priority``:
    the cohorts in boarding order; ``seats``: room for each aircraft's (sample, seats, room)."""
    n, kinds, causes = counts.shape[0], counts.shape[1], people.shape[1]
    start = 0
    for h in range(n):
        end = ends[h]
        for j in range(start + 1, end):  # a few aircraft: sorted by insertion
            k = j
            while k > start and boarding[k - 1, 0] > boarding[k, 0]:
                for x in range(3):
                    boarding[k - 1, x], boarding[k, x] = boarding[k, x], boarding[k - 1, x]
                k -= 1
        crowd, blocked, gates = levels[h, 0], levels[h, 1], levels[h, 2]
        stopped = crowd * blocked / gates if gates else 0.0
        people[h, _HOLDING], people[h, _GATES] = stopped, crowd - stopped
        for c in priority:
            waiting = inside[h, c]
            if waiting <= 0:
                continue
            any_boarding = False
            for j in range(start, end):
                a = boarding[j, 0]
                if not carries[a, c]:
                    continue
                any_boarding = True
                if seats[a, 0] != h:
                    seats[a, 0], seats[a, 1], seats[a, 2] = h, boarding[j, 1], boarding[j, 2]
                free, room = seats[a, 1], seats[a, 2]
                seated = min(free, room, waiting)
                no_room = min(free, waiting) - seated  # seats it cannot fill for want of room at its base
                people[h, _STAGING] += no_room
                seats[a, 1], seats[a, 2] = free - seated - no_room, room - seated
                waiting -= seated + no_room
            if waiting <= 0:
                continue  # all seated or held back by staging: shares of nobody add nothing
            standing = joining = 0
            for k in range(kinds):
                if kind_carries[k, c]:
                    for i in range(causes):
                        standing += counts[h, k, i]
                    joining += counts[h, k, _GONE] + counts[h, k, _OTHER]
            if standing:
                share = waiting / standing
                for k in range(kinds):
                    if kind_carries[k, c]:
                        for i in range(causes):
                            for _ in range(counts[h, k, i]):
                                people[h, i] += share  # once per carrier standing for cause i, as held_back adds it
            elif any_boarding or joining:
                people[h, _FLEET] += waiting
        start = end
    for i in range(causes):
        held = 0.0
        for h in range(n):
            hours[h, i] = held
            held += people[h, i]


class SteppedHeldBack:
    """The rule of :func:`held_back` applied sample by sample, for a world whose operators change
    who they board over time (``boarding`` steps): ``carriers[k][c]`` are the aircraft that may
    carry cohort ``c`` from ``carriers_from[k]`` on. The same interface as :class:`HeldBackAccount`,
    which serves the worlds whose carriers never change."""

    def __init__(self, carriers_from: Sequence[float], carriers: Sequence[Sequence[Sequence[Carrier]]], priority: Sequence[int]):
        self._from, self._carriers, self._priority = list(carriers_from), carriers, priority
        self._people: list[list[float]] = []

    def sample(self, t: float, crowd: float, gates_stopped: tuple[int, int], waiting_inside: np.ndarray) -> None:
        """Apply the rule now, with the carriers in force at ``t``."""
        carriers = self._carriers[bisect.bisect_right(self._from, t) - 1]
        now = held_back(t, crowd, gates_stopped, waiting_inside, carriers, self._priority)
        self._people.append([now[cause] for cause in LIMIT_CAUSES])

    def people(self) -> tuple[np.ndarray, np.ndarray]:
        """People held back by each cause at each sample, and the people-hours up to each (as
        :meth:`HeldBackAccount.people`)."""
        people = np.array(self._people, dtype=np.float64).reshape(-1, len(LIMIT_CAUSES))
        hours = np.zeros_like(people)
        hours[1:] = np.cumsum(people, axis=0)[:-1]  # sample by sample, the order _account adds in
        return people, hours
