"""The people on the ground, compiled: gate crowds, lanes, the calendar and the holding area
as arrays (numba); this module owns their layout (every column and code is named here once).

:func:`build` lays out a :class:`Core` (every array the loop reads or writes) from what
:class:`sim.model.perimeter.Perimeter` tells it of the families, gates and cohorts; the
perimeter calls :func:`advance` to move it to a time, and :class:`sim.model.holding.Holding`,
another view of the same state, calls :func:`board` to take families aboard. Nothing here knows about SimPy, the scenario or the
records; it writes one thing of the population's, on its behalf: a family's status when it
enters the holding area and when it boards (the array and the two status codes are handed in
with the state, so compiled code cached on disk never keeps an old numbering). The functions
are plain Python over numpy arrays, compiled by numba; with ``NUMBA_DISABLE_JIT=1`` they run
as they are (slowly), which is how the tests check that the compiled and the plain path agree.

The calendar is a 4-ary heap of (time, kind, sequence) over parallel arrays; each gate has
one queue per priority rank, and the holding area one per cohort, kept as doubly linked lists
through the families (a family is in at most one queue: its current visit's, or its cohort's
in the holding area), so a family that comes back is taken out of the old queue at once.
Giving up costs no event: a lane passes over families at the head of its queue whose
patience ran out, and the family's next visit was put on the calendar when it joined.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numba import njit

__all__ = [
    "Core",
    "Families",
    "Gates",
    "Cohorts",
    "Way",
    "way",
    "ways",
    "build",
    "advance",
    "board",
    "resize",
    "queued",
    "crowd_people",
    "NEED_DRAWS",
    "compiled",
    "direct",
]

_OPTIONS: dict[str, Any] = {"cache": True, "_nrt": False}
compiled = njit(**_OPTIONS)
"""How every function here is compiled: cached next to the source, and without numba's reference
counting (``_nrt=False``). Nothing here allocates an array, so counting references to the arrays
passed around only costs time: with it, the atomic increments and decrements on every call were
about two-thirds of the loop's time (0.18 s against 0.055 s for the 125,000 events of a reference
replication)."""
inlined = njit(**_OPTIONS, forceinline=True)
"""The helpers of the entry points (:func:`advance`, :func:`board`, ...): compiled the same way,
and inlined into them. Every helper takes the whole :class:`Core`, and a call that is not
inlined copies its forty array descriptors; inlined, an event costs about a sixth less."""


def _type_key(a: Any) -> Any:
    """What numba's type of an argument depends on, cheaply: an array's dtype, dimensions and
    flags (its layout, whether it is writable and aligned), a tuple's class and fields, else
    the Python type."""
    if isinstance(a, np.ndarray):
        f = a.flags
        return (a.dtype, a.ndim, f.c_contiguous, f.f_contiguous, f.writeable, f.aligned)
    if isinstance(a, tuple):
        return (type(a), *(_type_key(x) for x in a))
    return type(a)


_ENTRIES: dict[Any, Any] = {}


def direct(fn: Any, *args: Any) -> Any:
    """``fn`` compiled for the types of ``args`` (loaded from the cache when it can be), as a
    callable that skips numba's dispatch on argument types: about 4 µs a call saved, thousands
    of calls a replication. Call it only with arguments of exactly those types. When compiling
    is off (``NUMBA_DISABLE_JIT=1``), ``fn`` itself.

    The entry point is kept per process for arguments of the same types (found by
    :func:`_type_key`): asking numba for the types of a :class:`Core`'s forty fields took
    about 2 ms, four times a replication."""
    if not hasattr(fn, "compile"):
        return fn
    key = (fn, _type_key(args))
    entry = _ENTRIES.get(key)
    if entry is None:
        from numba import typeof

        entry = _ENTRIES[key] = fn.compile(tuple(typeof(a) for a in args))
    return entry


# -- the layout: every column and code, named once -------------------------------------------
# event kinds, in the order they are processed at equal times
CHANGE, DONE, REJOIN = 0, 1, 2
# a family's state as the perimeter sees it
AWAY, CROWD, SCREENING, INSIDE = 0, 1, 2, 3
# how screening times are drawn (a gate's DIST column)
DISTRIBUTIONS = ("fixed", "exponential", "lognormal")
FIXED, EXPONENTIAL, LOGNORMAL = range(len(DISTRIBUTIONS))
# the columns of the families' (fam_i, fam_f) and the gates' (gate_i, gate_f) arrays
FAMILY_INTS = ("cohort", "size", "rank", "state", "visits", "prev", "next", "queue")
COH, SIZE, RANK, STATE, VISITS, PREV, NEXT, QUEUE = range(len(FAMILY_INTS))
FAMILY_FLOATS = ("deadline", "joined", "screen_e", "screen_z")
DEADLINE, JOINED, SCREEN_E, SCREEN_Z = range(len(FAMILY_FLOATS))
GATE_INTS = ("lanes", "busy", "open", "blocked", "dist")
LANES, BUSY, OPEN, BLOCKED, DIST = range(len(GATE_INTS))
GATE_FLOATS = ("base_min", "per_person_min", "log_sigma", "stopped_since")  # stopped_since: while BLOCKED
BASE_MIN, PER_PERSON_MIN, LOG_SIGMA, STOPPED_SINCE = range(len(GATE_FLOATS))
# the columns of the screening rows (screened_f, screened_i): those of records.Screened
SCREENED_FLOATS = ("start", "wait_hours")
SCREENED_INTS = ("people", "gate", "cohort")
COUNTERS = (
    "heap_n",  # events on the calendar
    "seq",  # events ever put on it (their order at equal times)
    "next_arrival",  # the next first arrival to process
    "reserved",  # people in screening lanes, for whom the holding area keeps room
    "inside_people",  # people in the holding area
    "peak",  # the most inside and reserved at once
    "n_screened",  # screening rows written
    "boarded_people",  # people the last call of board took
    "crowd_people",  # people in the gate crowds, as of hour DRAINED
    "drained",  # the last whole hour whose leavers were taken off CROWD_PEOPLE
    "events",  # events processed
    "capacity",  # the holding area's capacity (people)
    "n_draws",  # visit rows of the families' draws made so far
    "max_visits",  # the most visits of any family so far
    "restarts",  # gates the last call of board let start again (their stops are in ``restarted``)
    "left_eligible",  # 1 if the last call of board left families of its cohorts in the holding area
)
(
    HEAP_N,
    SEQ,
    NEXT_ARRIVAL,
    RESERVED,
    INSIDE_PEOPLE,
    PEAK,
    N_SCREENED,
    BOARDED_PEOPLE,
    CROWD_PEOPLE,
    DRAINED,
    EVENTS,
    CAPACITY,
    N_DRAWS,
    MAX_VISITS,
    RESTARTS,
    LEFT_ELIGIBLE,
) = range(len(COUNTERS))
FIT_SCAN = 8
"""How far past an oversized family at the head of a holding queue boarding looks for one
that fits the seats left."""
# the draws a family takes at each visit, in the order of the last axis of ``draws``
DRAWS = ("gate_choice", "patience", "way_retry", "way_time", "way_through")
D_CHOICE, D_PATIENCE, D_RETRY, D_TIME, D_THROUGH = range(len(DRAWS))
# calendar keys: the kind above the sequence number (at most 2**56 events a run)
_KIND_SHIFT = 56
# return codes of advance
DONE_OK, NEED_DRAWS = 0, 1


class Way(NamedTuple):
    """Per cohort, the step tables of the way back to the gates (built by :mod:`sim.model.access`):
    from segment ``i``'s start ``seg_t[c, i]`` on, the way ends at rate ``seg_rate[c, i]``, with the
    family at a gate with chance ``seg_through[c, i]``; ``seg_cum`` is the cumulative rate at
    each start, then at ``end``. Rows are padded beyond ``seg_n[c]`` segments."""

    seg_t: np.ndarray  # float64 [cohorts, segments]
    seg_cum: np.ndarray  # float64 [cohorts, segments + 1]
    seg_rate: np.ndarray  # float64 [cohorts, segments]
    seg_through: np.ndarray  # float64 [cohorts, segments]
    seg_n: np.ndarray  # int64 [cohorts]
    retry_p: np.ndarray  # float64 [cohorts]: the chance that a family tries again at all
    end: float  # the security end: no way ends after it


class Core(NamedTuple):
    """Every array of the perimeter and the holding area (see the module docstring); made by :func:`build`."""

    fam_i: np.ndarray  # int64 [families, FAMILY_INTS]
    fam_f: np.ndarray  # float64 [families, FAMILY_FLOATS]
    gate_i: np.ndarray  # int64 [gates, GATE_INTS]
    gate_f: np.ndarray  # float64 [gates, GATE_FLOATS]
    q_head: np.ndarray  # int64 [gates * ranks + cohorts]: gate queues, then the holding area's
    q_tail: np.ndarray  # int64 [gates * ranks + cohorts]
    n_ranks: int
    hold_q: int  # the first holding queue (gates * ranks); cohort c's is hold_q + c
    admit_gate: np.ndarray  # int64 [cohorts, gates]: gates admitting each cohort (-1 pads)
    admit_weight: np.ndarray  # float64 [cohorts, gates]
    patience_h: np.ndarray  # float64 [cohorts]
    max_visits: np.ndarray  # int64 [cohorts]
    way: Way  # the way back to the gates (sim.model.access)
    change_lanes: np.ndarray  # int64 [gates, changes]
    change_open: np.ndarray  # int64 [gates, changes]
    draws: np.ndarray  # float32 [visits, families, DRAWS]: the families' draws (rows < N_DRAWS made)
    heap_t: np.ndarray  # float64 [capacity]: the calendar's times
    heap_k: np.ndarray  # int64 [capacity]: kind << _KIND_SHIFT | sequence (the order at equal times)
    heap_p: np.ndarray  # int64 [capacity]: the event's arguments, a << 32 | b (a < 2**31, 0 <= b < 2**32)
    arrival_t: np.ndarray  # first arrivals in time order
    arrival_g: np.ndarray
    leaving: np.ndarray  # int64 [whole hours]: people whose patience runs out by then
    screened_f: np.ndarray  # float64 [families, SCREENED_FLOATS]
    screened_i: np.ndarray  # int64 [families, SCREENED_INTS]
    status: np.ndarray  # int64 [families]: the population's statuses
    holding_code: int  # the status of a family in the holding area (sim.model.records.Status.HOLDING)
    boarded_code: int  # ... and of one aboard an aircraft still on the ground (Status.BOARDED)
    taken: np.ndarray  # int64 [families]: the families the last call of board took, in order
    inside_by_cohort: np.ndarray  # int64 [cohorts]: people in the holding area, by cohort
    restarted: np.ndarray  # float64 [gates]: when the stop the last call of board ended began (NaN: none ended)
    counters: np.ndarray  # int64 [COUNTERS]
    clock: np.ndarray  # float64 [1]: now


class Families(NamedTuple):
    """What the core is told of the families (one entry each)."""

    cohort: np.ndarray  # int64
    size: np.ndarray  # int64: people
    screen_e: np.ndarray  # float64: standard exponential, the screening time's if exponential
    screen_z: np.ndarray  # float64: standard normal, the screening time's if lognormal
    status: np.ndarray  # int64: the population's status array, which the core writes in place


class Gates(NamedTuple):
    """What the core is told of the gates (one entry each, in the scenario's order)."""

    lanes: np.ndarray  # int64: lanes at the start
    open: np.ndarray  # int64: 1 if open at the start
    distribution: np.ndarray  # int64: FIXED, EXPONENTIAL or LOGNORMAL
    base_min: np.ndarray  # float64: mean screening minutes of a family ...
    per_person_min: np.ndarray  # ... plus these per person
    log_sigma: np.ndarray  # float64: the lognormal's sigma
    change_times: list[list[float]]  # when its lanes or opening change, in time order
    change_lanes: np.ndarray  # int64 [gates, changes]: lanes from each change on
    change_open: np.ndarray  # int64 [gates, changes]


class Cohorts(NamedTuple):
    """What the core is told of the cohorts (one row each)."""

    rank: np.ndarray  # int64: the rank of its priority among the cohorts' (0 is served first)
    admit_gate: np.ndarray  # int64 [cohorts, gates]: the gates admitting it (-1 pads)
    admit_weight: np.ndarray  # float64 [cohorts, gates]: their weights
    patience_h: np.ndarray  # float64: mean patience in a crowd (hours)
    max_visits: np.ndarray  # int64: visits to the gates at most


def _family_columns(families: Families, cohorts: Cohorts) -> tuple[np.ndarray, np.ndarray]:
    """The families' integer and float columns at the start: away, in no queue."""
    n = len(families.size)
    fam_i = np.zeros((n, len(FAMILY_INTS)), dtype=np.int64)
    fam_i[:, COH], fam_i[:, SIZE], fam_i[:, RANK] = families.cohort, families.size, cohorts.rank[families.cohort]
    fam_i[:, PREV:] = -1
    fam_f = np.zeros((n, len(FAMILY_FLOATS)))
    fam_f[:, SCREEN_E], fam_f[:, SCREEN_Z] = families.screen_e, families.screen_z
    return fam_i, fam_f


def _gate_columns(gates: Gates) -> tuple[np.ndarray, np.ndarray]:
    """The gates' integer and float columns at the start: no lane busy, none blocked."""
    gate_i = np.zeros((len(gates.lanes), len(GATE_INTS)), dtype=np.int64)
    gate_i[:, LANES], gate_i[:, OPEN], gate_i[:, DIST] = gates.lanes, gates.open, gates.distribution
    gate_f = np.zeros((len(gates.lanes), len(GATE_FLOATS)))
    gate_f[:, BASE_MIN], gate_f[:, PER_PERSON_MIN], gate_f[:, LOG_SIGMA] = gates.base_min, gates.per_person_min, gates.log_sigma
    return gate_i, gate_f


def _calendar(n_families: int, gates: Gates, counters: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The calendar's arrays, with room for every event that can be on it at once (a visit per
    family, a screening per lane, the gates' changes), and the gates' changes on it."""
    n_gates = len(gates.lanes)
    # an event packs its two arguments (a gate or a family, then a family, 0 or a change's
    # index) in one int64: a << 32 | b
    if max(n_families, n_gates) >= 2**31 or max((len(c) for c in gates.change_times), default=0) >= 2**32:
        raise ValueError(f"{n_families:,} families and {n_gates} gates: the perimeter's calendar takes fewer than 2**31")
    lanes_ever = int(np.maximum(gates.lanes, gates.change_lanes.max(axis=1, initial=0)).sum())
    size = n_families + lanes_ever + sum(len(c) for c in gates.change_times) + 8
    heap_t, heap_k, heap_p = np.zeros(size), np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int64)
    for g, times in enumerate(gates.change_times):
        for j, t in enumerate(times):
            _push(heap_t, heap_k, heap_p, counters, t, CHANGE, g, j)
    return heap_t, heap_k, heap_p


def build(
    families: Families,
    gates: Gates,
    cohorts: Cohorts,
    way: Way,
    draws: np.ndarray,
    draw_rows: int,
    arrivals: tuple[np.ndarray, np.ndarray],
    capacity: int,
    codes: tuple[int, int],
) -> Core:
    """The state at time 0: every array laid out as :class:`Core` says, the gates' changes on
    the calendar. ``way``: its step tables (sim.model.access); ``draws``: the families'
    whole reserved block of draws, of which ``draw_rows`` rows are made (the others are made in
    place when the core asks, see N_DRAWS); ``arrivals``: when and who first reaches a gate, in
    time order; ``capacity``: the holding area's (people); ``codes``: the population's HOLDING
    and BOARDED statuses."""
    n, n_ranks = len(families.size), int(cohorts.rank.max(initial=0)) + 1
    fam_i, fam_f = _family_columns(families, cohorts)
    gate_i, gate_f = _gate_columns(gates)
    counters = np.zeros(len(COUNTERS), dtype=np.int64)
    counters[CAPACITY], counters[DRAINED], counters[N_DRAWS] = capacity, -1, draw_rows
    heap_t, heap_k, heap_p = _calendar(n, gates, counters)
    hold_q = len(gate_i) * n_ranks  # the gates' queues, one per rank, then the holding area's, one per cohort
    return Core(
        fam_i=fam_i,
        fam_f=fam_f,
        gate_i=gate_i,
        gate_f=gate_f,
        q_head=np.full(hold_q + len(cohorts.rank), -1, dtype=np.int64),
        q_tail=np.full(hold_q + len(cohorts.rank), -1, dtype=np.int64),
        n_ranks=n_ranks,
        hold_q=hold_q,
        admit_gate=cohorts.admit_gate,
        admit_weight=cohorts.admit_weight,
        patience_h=cohorts.patience_h,
        max_visits=cohorts.max_visits,
        way=way,
        change_lanes=gates.change_lanes,
        change_open=gates.change_open,
        draws=draws,
        heap_t=heap_t,
        heap_k=heap_k,
        heap_p=heap_p,
        arrival_t=arrivals[0],
        arrival_g=arrivals[1],
        leaving=np.zeros(int(math.ceil(max(way.end, 0.0))) + 2, dtype=np.int64),
        screened_f=np.zeros((n, len(SCREENED_FLOATS))),
        screened_i=np.zeros((n, len(SCREENED_INTS)), dtype=np.int64),
        status=families.status,
        holding_code=int(codes[0]),
        boarded_code=int(codes[1]),
        taken=np.zeros(n, dtype=np.int64),
        inside_by_cohort=np.zeros(len(cohorts.rank), dtype=np.int64),
        restarted=np.full(len(gate_i), np.nan),
        counters=counters,
        clock=np.zeros(1),
    )


@inlined
def _before(t1: float, k1: int, t2: float, k2: int) -> bool:
    return t1 < t2 or (t1 == t2 and k1 < k2)


@inlined
def _push(ht: np.ndarray, hk: np.ndarray, hp: np.ndarray, cnt: np.ndarray, t: float, kind: int, a: int, b: int) -> None:
    """Put an event on the calendar: a 4-ary heap over (time, kind and sequence), with its
    two arguments packed in one integer. Sifting moves a hole, not the new entry."""
    cnt[SEQ] += 1
    k = (kind << _KIND_SHIFT) | cnt[SEQ]
    p = (a << 32) | b
    i = cnt[HEAP_N]
    cnt[HEAP_N] = i + 1
    while i > 0:
        parent = (i - 1) >> 2
        if not _before(t, k, ht[parent], hk[parent]):
            break
        ht[i], hk[i], hp[i] = ht[parent], hk[parent], hp[parent]
        i = parent
    ht[i], hk[i], hp[i] = t, k, p


@inlined
def _pop(ht: np.ndarray, hk: np.ndarray, hp: np.ndarray, cnt: np.ndarray) -> None:
    """Take the first event off the calendar (read it at index 0 before)."""
    n = cnt[HEAP_N] - 1
    cnt[HEAP_N] = n
    t, k, p = ht[n], hk[n], hp[n]
    i = 0
    while True:
        first = 4 * i + 1
        if first >= n:
            break
        best = first
        last = min(first + 4, n)
        for c in range(first + 1, last):
            if _before(ht[c], hk[c], ht[best], hk[best]):
                best = c
        if not _before(ht[best], hk[best], t, k):
            break
        ht[i], hk[i], hp[i] = ht[best], hk[best], hp[best]
        i = best
    ht[i], hk[i], hp[i] = t, k, p


@inlined
def _unlink(fi: np.ndarray, q_head: np.ndarray, q_tail: np.ndarray, gid: int) -> None:
    q = fi[gid, QUEUE]
    if q < 0:
        return
    p, nx = fi[gid, PREV], fi[gid, NEXT]
    if p >= 0:
        fi[p, NEXT] = nx
    else:
        q_head[q] = nx
    if nx >= 0:
        fi[nx, PREV] = p
    else:
        q_tail[q] = p
    fi[gid, QUEUE] = -1


@inlined
def _append(fi: np.ndarray, q_head: np.ndarray, q_tail: np.ndarray, q: int, gid: int) -> None:
    tail = q_tail[q]
    fi[gid, PREV], fi[gid, NEXT], fi[gid, QUEUE] = tail, -1, q
    if tail >= 0:
        fi[tail, NEXT] = gid
    else:
        q_head[q] = gid
    q_tail[q] = gid


@inlined
def _last_at_or_before(a: np.ndarray, m: int, x: float) -> int:
    """The last index i < m with a[i] <= x (a sorted), or -1: np.searchsorted(a[:m], x, "right") - 1."""
    lo, hi = 0, m
    while lo < hi:
        mid = (lo + hi) // 2
        if a[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1


@inlined
def way(w: Way, c: int, t0: float, u_retry: float, e: float, u_through: float) -> float:
    """When a family of cohort ``c`` that left (or was turned back) at ``t0`` is next at a gate,
    from its own draws for the way: ``u_retry`` and ``u_through`` uniform, ``e`` standard
    exponential (see sim.model.access). ``inf``: not before the security end."""
    if u_retry >= w.retry_p[c] or t0 >= w.end:
        return math.inf
    times, cum, m = w.seg_t[c], w.seg_cum[c], w.seg_n[c]
    i = _last_at_or_before(times, m, t0)
    if i < 0:
        i = 0
    target = cum[i] + w.seg_rate[c, i] * (t0 - times[i]) + e
    j = _last_at_or_before(cum, m + 1, target)
    if j >= m or u_through >= w.seg_through[c, j]:
        return math.inf  # not before the end, or turned back one time too many: gave up for good
    return max(times[j] + (target - cum[j]) / w.seg_rate[c, j], t0)


@compiled
def ways(
    w: Way, cohort: np.ndarray, t0: np.ndarray, u_retry: np.ndarray, e: np.ndarray, u_through: np.ndarray, out: np.ndarray
) -> None:
    """:func:`way` for many families at once, into ``out``."""
    for i in range(len(t0)):
        out[i] = way(w, cohort[i], t0[i], u_retry[i], e[i], u_through[i])


@inlined
def _pick_gate(s: Core, c: int, u: float) -> int:
    """Among the gates admitting the cohort that are open, by weight; if none is open, among all."""
    gates, weights = s.admit_gate[c], s.admit_weight[c]
    total, any_open = 0.0, False
    for j in range(len(gates)):
        g = gates[j]
        if g < 0:
            break
        if s.gate_i[g, OPEN]:
            total += weights[j]
            any_open = True
    if not any_open:
        for j in range(len(gates)):
            if gates[j] < 0:
                break
            total += weights[j]
    u *= total
    last = gates[0]
    for j in range(len(gates)):
        g = gates[j]
        if g < 0:
            break
        if any_open and not s.gate_i[g, OPEN]:
            continue
        last = g
        u -= weights[j]
        if u < 0:
            return g
    return last


@inlined
def _hour(leaving: np.ndarray, t: float) -> int:
    return min(int(math.ceil(t)), len(leaving) - 1)


@inlined
def _join(s: Core, gid: int, t: float) -> None:
    """A family reaches a gate and joins its crowd; its next visit, if any, goes on the calendar."""
    fi, ff, cnt = s.fam_i, s.fam_f, s.counters
    _unlink(fi, s.q_head, s.q_tail, gid)  # its previous visit, if it is still queued there
    c, k = fi[gid, COH], fi[gid, VISITS]
    fi[gid, VISITS] = k + 1
    if k + 1 > cnt[MAX_VISITS]:
        cnt[MAX_VISITS] = k + 1
    g = _pick_gate(s, c, s.draws[k, gid, D_CHOICE])
    ff[gid, JOINED] = t
    fi[gid, STATE] = CROWD
    _append(fi, s.q_head, s.q_tail, g * s.n_ranks + fi[gid, RANK], gid)
    deadline = t + s.draws[k, gid, D_PATIENCE] * s.patience_h[c]
    ff[gid, DEADLINE] = deadline
    hour = _hour(s.leaving, deadline)
    if hour > cnt[DRAINED]:
        cnt[CROWD_PEOPLE] += fi[gid, SIZE]
        s.leaving[hour] += fi[gid, SIZE]
    if k + 1 < s.max_visits[c]:
        dr = s.draws
        back = way(s.way, c, deadline, dr[k + 1, gid, D_RETRY], dr[k + 1, gid, D_TIME], dr[k + 1, gid, D_THROUGH])
        if back < s.way.end:
            _push(s.heap_t, s.heap_k, s.heap_p, cnt, back, REJOIN, gid, 0)
    gi = s.gate_i
    if gi[g, BUSY] < gi[g, LANES] and gi[g, OPEN] and not gi[g, BLOCKED]:
        _start(s, g, t)


@inlined
def _screening_hours(s: Core, g: int, gid: int) -> float:
    mean_min = s.gate_f[g, BASE_MIN] + s.gate_f[g, PER_PERSON_MIN] * s.fam_i[gid, SIZE]
    dist = s.gate_i[g, DIST]
    if dist == FIXED:
        return mean_min / 60.0
    if dist == EXPONENTIAL:
        return mean_min * s.fam_f[gid, SCREEN_E] / 60.0
    sigma = s.gate_f[g, LOG_SIGMA]
    return mean_min * math.exp(sigma * s.fam_f[gid, SCREEN_Z] - 0.5 * sigma * sigma) / 60.0


@inlined
def _start(s: Core, g: int, t: float) -> None:
    """Free lanes of gate ``g`` take the first families still waiting, if the holding area has room."""
    fi, ff, gi, cnt = s.fam_i, s.fam_f, s.gate_i, s.counters
    if not gi[g, OPEN]:
        return
    while gi[g, BUSY] < gi[g, LANES]:
        gid = -1
        for r in range(s.n_ranks):
            q = g * s.n_ranks + r
            while s.q_head[q] >= 0:
                head = s.q_head[q]
                if ff[head, DEADLINE] >= t:
                    gid = head
                    break
                _unlink(fi, s.q_head, s.q_tail, head)  # its patience ran out before a lane was free: it left then
            if gid >= 0:
                break
        if gid < 0:
            return
        n = fi[gid, SIZE]
        if cnt[INSIDE_PEOPLE] + cnt[RESERVED] + n > cnt[CAPACITY]:
            if not gi[g, BLOCKED]:  # the gate stops: no room for its next family
                gi[g, BLOCKED] = 1
                s.gate_f[g, STOPPED_SINCE] = t
            return
        cnt[RESERVED] += n
        if cnt[INSIDE_PEOPLE] + cnt[RESERVED] > cnt[PEAK]:
            cnt[PEAK] = cnt[INSIDE_PEOPLE] + cnt[RESERVED]
        _unlink(fi, s.q_head, s.q_tail, gid)
        fi[gid, STATE] = SCREENING
        hour = _hour(s.leaving, ff[gid, DEADLINE])
        if hour > cnt[DRAINED]:
            cnt[CROWD_PEOPLE] -= n
            s.leaving[hour] -= n
        gi[g, BUSY] += 1
        r = cnt[N_SCREENED]
        cnt[N_SCREENED] = r + 1
        s.screened_f[r, 0], s.screened_f[r, 1] = t, t - ff[gid, JOINED]
        s.screened_i[r, 0], s.screened_i[r, 1], s.screened_i[r, 2] = n, g, fi[gid, COH]
        _push(s.heap_t, s.heap_k, s.heap_p, cnt, t + _screening_hours(s, g, gid), DONE, g, gid)


@inlined
def _done(s: Core, g: int, gid: int, t: float) -> None:
    cnt = s.counters
    s.gate_i[g, BUSY] -= 1
    n = s.fam_i[gid, SIZE]
    cnt[RESERVED] -= n
    cnt[INSIDE_PEOPLE] += n
    s.inside_by_cohort[s.fam_i[gid, COH]] += n
    s.fam_i[gid, STATE] = INSIDE
    s.status[gid] = s.holding_code
    _append(s.fam_i, s.q_head, s.q_tail, s.hold_q + s.fam_i[gid, COH], gid)
    _start(s, g, t)


@inlined
def _arrives_first(t_arrival: float, t_event: float, k_event: int) -> bool:
    """A first arrival comes before a calendar event, unless at the same time (as returns would)."""
    return t_arrival < t_event or (t_arrival == t_event and k_event >> _KIND_SHIFT > REJOIN)


@compiled
def advance(s: Core, t: float) -> int:
    """Process every event up to and including ``t``; NEED_DRAWS: give the families more draws first."""
    cnt, fi, ht, hk, hp = s.counters, s.fam_i, s.heap_t, s.heap_k, s.heap_p
    n_draws = cnt[N_DRAWS]
    arr_t, arr_g = s.arrival_t, s.arrival_g
    while True:
        i = cnt[NEXT_ARRIVAL]
        heap_n = cnt[HEAP_N]
        if i < len(arr_t) and arr_t[i] <= t and (heap_n == 0 or _arrives_first(arr_t[i], ht[0], hk[0])):
            gid = arr_g[i]
            if fi[gid, VISITS] + 2 > n_draws:
                return NEED_DRAWS
            cnt[NEXT_ARRIVAL] = i + 1
            cnt[EVENTS] += 1
            s.clock[0] = arr_t[i]
            _join(s, gid, arr_t[i])
            continue
        if heap_n == 0 or ht[0] > t:
            break
        when, kind, a, b = ht[0], hk[0] >> _KIND_SHIFT, hp[0] >> 32, hp[0] & 0xFFFFFFFF
        if kind == REJOIN and fi[a, STATE] == CROWD and fi[a, VISITS] + 2 > n_draws:
            return NEED_DRAWS
        _pop(ht, hk, hp, cnt)
        cnt[EVENTS] += 1
        s.clock[0] = when
        if kind == REJOIN:
            if fi[a, STATE] == CROWD:  # back at the gates, unless screened meanwhile
                _join(s, a, when)
        elif kind == DONE:
            _done(s, a, b, when)
        else:
            s.gate_i[a, LANES] = s.change_lanes[a, b]
            s.gate_i[a, OPEN] = s.change_open[a, b]
            _start(s, a, when)
    s.clock[0] = max(s.clock[0], t)
    return DONE_OK


@inlined
def _room_freed(s: Core, t: float) -> None:
    """Room was freed in the holding area: stopped gates try again. The stops that end (the
    gate is not stopped again at once for want of room) are written to ``restarted``."""
    gi, since = s.gate_i, s.gate_f[:, STOPPED_SINCE]
    ended = 0
    for g in range(len(gi)):
        s.restarted[g] = math.nan
        if gi[g, BLOCKED]:
            began = since[g]
            gi[g, BLOCKED] = 0
            _start(s, g, t)
            if gi[g, BLOCKED]:
                since[g] = began  # still no room for its next family: the same stop goes on
            else:
                s.restarted[g] = began
                ended += 1
    s.counters[RESTARTS] = ended


@compiled
def resize(s: Core, t: float, capacity: int) -> None:
    """The holding area's capacity changes at ``t`` (a relief; the core advanced to ``t`` first):
    stopped gates try again (RESTARTS and ``restarted`` say which stops ended, as for :func:`board`)."""
    s.counters[CAPACITY] = capacity
    _room_freed(s, t)


@compiled
def board(s: Core, t: float, cohorts: np.ndarray, seats: int) -> int:
    """Take whole families for up to ``seats`` people from the holding queues of ``cohorts`` (in
    that order: priority), first come first served; past a family too big for the seats left,
    look up to FIT_SCAN further for one that fits. The families go to ``taken``, their people to
    the BOARDED_PEOPLE counter, whether any of these cohorts are left to LEFT_ELIGIBLE; returns
    how many families. Freed room restarts stopped gates (RESTARTS says how many stops ended,
    ``restarted`` when they began)."""
    fi, cnt, q_head = s.fam_i, s.counters, s.q_head
    k, left = 0, seats
    for j in range(len(cohorts)):
        q = s.hold_q + cohorts[j]
        while q_head[q] >= 0 and left > 0:
            g = q_head[q]
            if fi[g, SIZE] > left:
                x, looked, g = fi[g, NEXT], 0, -1
                while x >= 0 and looked < FIT_SCAN:
                    if fi[x, SIZE] <= left:
                        g = x
                        break
                    x = fi[x, NEXT]
                    looked += 1
                if g < 0:
                    break
            _unlink(fi, q_head, s.q_tail, g)
            s.inside_by_cohort[fi[g, COH]] -= fi[g, SIZE]
            s.status[g] = s.boarded_code
            s.taken[k] = g
            k += 1
            left -= fi[g, SIZE]
        if left == 0:
            break
    n = seats - left
    cnt[BOARDED_PEOPLE] = n
    cnt[LEFT_ELIGIBLE] = _any_queued(s, cohorts)
    cnt[RESTARTS] = 0
    if n:
        cnt[INSIDE_PEOPLE] -= n
        _room_freed(s, t)
    return k


@inlined
def _any_queued(s: Core, cohorts: np.ndarray) -> bool:
    for j in range(len(cohorts)):
        if s.q_head[s.hold_q + cohorts[j]] >= 0:
            return True
    return False


@compiled
def queued(heads: np.ndarray, cohorts: np.ndarray) -> bool:
    """Anyone in the holding queues of these cohorts? ``heads``: the holding queues' heads
    (``q_head[hold_q:]``): a call with a few arrays, not the whole state, costs a sixth."""
    for j in range(len(cohorts)):
        if heads[cohorts[j]] >= 0:
            return True
    return False


@compiled
def crowd_people(s: Core) -> int:
    """People waiting in the gate crowds now (exact at whole hours, when the recorder asks)."""
    cnt = s.counters
    hour = min(int(math.floor(s.clock[0])), len(s.leaving) - 1)
    for h in range(cnt[DRAINED] + 1, hour + 1):
        cnt[CROWD_PEOPLE] -= s.leaving[h]
        s.leaving[h] = 0
    cnt[DRAINED] = max(cnt[DRAINED], hour)
    return cnt[CROWD_PEOPLE]
