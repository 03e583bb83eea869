"""The model's shared vocabulary: where a family is, the facts a replication records, why aircraft wait.

Both the model (:mod:`sim.model`) and the pure summaries (:mod:`sim.model.metrics`) import this module;
it imports neither, nor SimPy. Records are append-only facts with named fields: a row, once
appended, is never changed or deleted (a cancelled runway slot is a second row saying so).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Literal, NamedTuple

import numpy as np

from sim.description.metric_catalog import LIMIT_CAUSES

__all__ = [
    "Status",
    "STATUS_NAMES",
    "HOURLY_COLUMNS",
    "Departure",
    "Movement",
    "MovementKind",
    "Screened",
    "Boarding",
    "TroopsFlown",
    "Arrival",
    "Wait",
    "GateStop",
    "AIRCRAFT_CAUSES",
    "Hourly",
    "Records",
    "ScreenedRows",
]


class Status(IntEnum):
    """Where a family is. :class:`sim.model.population.Population` owns it: its methods change
    it, except entering the holding area and boarding, which the compiled state of the people on
    the ground (:mod:`sim.model.perimeter_core`) writes on its behalf."""

    NOT_ARRIVED = 0  # has not reached a gate yet (or was turned back on the way and will retry, or gave up on the way)
    IN_CROWD = 1  # waiting in a gate crowd
    SCREENING = 2  # in a screening lane
    GAVE_UP = 3  # left a gate crowd, or was turned back on the way (may come back)
    HOLDING = 4  # inside the airfield holding area
    BOARDED = 5  # on an aircraft still on the ground
    FLOWN = 6  # on an aircraft that took off
    DID_NOT_TRAVEL = 7  # registered, chose not to set out (a registered cohort's, see Cohort.registration)
    TURNED_BACK = 8  # registered, set out and turned back on the way for good


STATUS_NAMES = tuple(s.name.lower() for s in Status)

HOURLY_COLUMNS: tuple[str, ...] = (
    "evacuated_cumulative",
    "departures_cumulative",
    "gate_queue_people",
    "screening_people",
    "airfield_people",
    "aircraft_on_ground",
    "aircraft_waiting_for_spot",
    "staging_people",
    "gates_blocked",
    *(f"limit_{c}_hours" for c in LIMIT_CAUSES),
)
"""Hourly levels; the ``limit_*`` columns are cumulative people-hours held back by cause (see LIMIT_CAUSES).
Beside the two cumulative totals, :meth:`Records.hourly_columns` adds ``evacuated_cumulative.<operator>`` and
``departures_cumulative.<operator>`` for every operator of the scenario."""


class Departure(NamedTuple):
    """One take-off with its load; ``landed`` is when the aircraft landed for this sortie."""

    takeoff: float
    aircraft: str
    fleet: str
    operator: str
    base: str
    evacuees: int
    troops: int
    seats: int
    landed: float
    groups: tuple[int, ...]
    size_class: str = ""


MovementKind = Literal["landing", "takeoff"]


class Movement(NamedTuple):
    """One runway booking, occupying ``[start, end)``. A booking that is given back is followed
    by a second row with the same ``start``, ``kind`` and ``aircraft`` and ``cancelled=True``."""

    start: float
    end: float
    kind: MovementKind
    aircraft: str
    cancelled: bool = False


class Screened(NamedTuple):
    """A family starts screening at ``start`` after ``wait_hours`` in a gate crowd."""

    start: float
    wait_hours: float
    people: int
    gate: int
    cohort: int


class Boarding(NamedTuple):
    """A chalk boards an aircraft at ``at``: ``people`` evacuees bound for ``base``, and troops."""

    at: float
    aircraft: str
    people: int
    troops: int
    base: str


class TroopsFlown(NamedTuple):
    """Troops of one withdrawal (its index in the scenario's withdrawals) aboard a take-off at ``takeoff``."""

    takeoff: float
    aircraft: str
    withdrawal: int
    troops: int


class Arrival(NamedTuple):
    """A load of ``people`` lands at staging ``base``; ``level_after`` is the base's people then."""

    at: float
    base: str
    people: int
    level_after: float


AIRCRAFT_CAUSES = ("evacuees", "staging", "ramp", "runway", "crew")
"""Why an aircraft waits (a :class:`Wait` row): for passengers it may carry, staging room, a parking
spot, a runway slot, a rested crew. Aircraft-hours, whether or not anyone waited for the aircraft:
the limits (LIMIT_CAUSES) count only waits that hold someone back."""


class Wait(NamedTuple):
    """An aircraft waits ``hours`` from ``start`` for ``cause`` (one of AIRCRAFT_CAUSES). Rows are
    appended when the wait is known, in time order of that."""

    start: float
    cause: str
    hours: float
    aircraft: str = ""


class GateStop(NamedTuple):
    """Gate number ``gate`` (in the scenario's order) stopped at ``start``, the holding area having
    no room for its next family, until ``end``, when boarding freed room (or the run ended).
    Rows are appended when the stop ends, in that order. The exact gate-hours stopped
    (``Records.wait_hours()["holding"]``); the ``holding`` limit cause itself counts people held back."""

    start: float
    end: float
    gate: int


class Hourly(NamedTuple):
    """Levels sampled on the hour (the people-hours held back up to each are
    :attr:`Records.held_back`)."""

    hours: float
    evacuated_cumulative: int
    departures_cumulative: int
    gate_queue_people: int
    screening_people: int
    airfield_people: int
    aircraft_on_ground: int
    aircraft_waiting_for_spot: int
    staging_people: int
    gates_blocked: int


class ScreenedRows:
    """The :class:`Screened` rows of a replication, append-only, kept as columns.

    Tens of thousands of families start screening in a replication. The rows come either in
    batches of arrays (:meth:`extend_columns`, :meth:`append`) or from arrays that their
    writer fills in order and never rewrites (:meth:`follow`: the perimeter's, read as they
    grow, with nothing copied while it runs). Summaries read whole columns (:meth:`column`);
    iterating or indexing gives :class:`Screened` rows like a list.
    """

    def __init__(self) -> None:
        self._times: list[np.ndarray] = []  # chunks of (start, wait_hours), float
        self._ints: list[np.ndarray] = []  # chunks of (people, gate, cohort), int
        self._n = 0
        self._source: tuple[np.ndarray, np.ndarray, Callable[[], int]] | None = None

    def follow(self, times: np.ndarray, ints: np.ndarray, count: Callable[[], int]) -> None:
        """The rows are the first ``count()`` rows of ``times`` (float64: start, wait_hours) and
        ``ints`` (int64: people, gate, cohort), which their writer fills in order and never
        rewrites. The arrays are read where they are, never copied (so other types are refused)."""
        if self._n or self._source is not None:
            raise ValueError("screened rows follow one source, and only when they have no rows of their own")
        if len(times) != len(ints):
            raise ValueError("columns of different lengths")
        if times.dtype != np.float64 or ints.dtype != np.int64:
            raise ValueError("screened rows follow float64 times and int64 integers")
        self._source = (times, ints, count)

    def extend_columns(self, times: np.ndarray, ints: np.ndarray) -> None:
        """Append rows: ``times[:, 0:2]`` = start, wait_hours; ``ints[:, 0:3]`` = people, gate, cohort.

        The arrays are kept as they are (not copied) when their types fit: rows once appended
        are facts, so the caller must not change them afterwards."""
        if self._source is not None:
            raise ValueError("these screened rows follow their writer's arrays")
        if len(times) != len(ints):
            raise ValueError("columns of different lengths")
        if len(times):
            self._times.append(np.asarray(times, dtype=float))
            self._ints.append(np.asarray(ints, dtype=np.int64))
            self._n += len(times)

    def _columns(self) -> tuple[np.ndarray, np.ndarray]:
        """All rows as two arrays (views of the source's, or the chunks appended so far, joined
        once when read)."""
        if self._source is not None:
            times, ints, count = self._source
            n = int(count())
            return times[:n], ints[:n]
        if len(self._times) > 1:
            self._times, self._ints = [np.concatenate(self._times)], [np.concatenate(self._ints)]
        return self._times[0], self._ints[0]

    def append(self, row: Screened) -> None:
        self.extend_columns(np.array([row[:2]], dtype=float), np.array([row[2:]], dtype=np.int64))

    def column(self, name: str) -> np.ndarray:
        """One field of every row, in order, as an array (a copy)."""
        i = Screened._fields.index(name)
        if not len(self):
            return np.zeros(0, dtype=float if i < 2 else np.int64)
        times, ints = self._columns()
        return times[:, i].copy() if i < 2 else ints[:, i - 2].copy()

    def __len__(self) -> int:
        return int(self._source[2]()) if self._source is not None else self._n

    def __iter__(self) -> Iterator[Screened]:
        if not len(self):
            return iter(())
        times, ints = self._columns()
        t, i = times.T.tolist(), ints.T.tolist()
        return map(Screened._make, zip(t[0], t[1], i[0], i[1], i[2]))

    def __getitem__(self, k: int) -> Screened:
        n = len(self)
        if not -n <= k < n:
            raise IndexError("screened row out of range")
        times, ints = self._columns()
        t, i = times[k].tolist(), ints[k].tolist()
        return Screened(t[0], t[1], i[0], i[1], i[2])


@dataclass
class Records:
    """Everything one replication leaves behind, appended to as it runs (never rewritten)."""

    departures: list[Departure] = field(default_factory=list)
    movements: list[Movement] = field(default_factory=list)
    screened: ScreenedRows = field(default_factory=ScreenedRows)
    boardings: list[Boarding] = field(default_factory=list)
    arrivals: list[Arrival] = field(default_factory=list)
    waits: list[Wait] = field(default_factory=list)
    gate_stops: list[GateStop] = field(default_factory=list)
    hourly: list[Hourly] = field(default_factory=list)
    troops_flown: list[TroopsFlown] = field(default_factory=list)
    """Per take-off with troops, the troops of each withdrawal aboard (a departure's ``troops`` is their sum)."""
    held_back: np.ndarray = field(default_factory=lambda: np.zeros((0, len(LIMIT_CAUSES))))
    """People-hours held back by each cause of LIMIT_CAUSES (the columns, in that order) from time 0
    to each hourly sample (the rows, as ``hourly``): written once, when the run ends, from what the
    recorder kept (see :mod:`sim.model.held_back`)."""

    def wait(self, start: float, cause: str, hours: float, aircraft: str = "") -> None:
        """Record a wait (zero-length waits are not recorded)."""
        if hours > 0:
            self.waits.append(Wait(start, cause, hours, aircraft))

    def wait_hours(self) -> dict[str, float]:
        """Total waiting hours by cause, every cause present: aircraft-hours by AIRCRAFT_CAUSES, and
        gate-hours stopped for ``holding`` (all waits, whether or not they held anyone back)."""
        out = dict.fromkeys((*AIRCRAFT_CAUSES, "holding"), 0.0)
        for w in self.waits:
            out[w.cause] += w.hours
        for stop in self.gate_stops:
            out["holding"] += stop.end - stop.start
        return out

    def gate_hours_stopped(self, until: np.ndarray) -> np.ndarray:
        """Gate-hours stopped for want of room in the holding area from time 0 to each time of ``until``."""
        until = np.asarray(until, dtype=float)
        if not self.gate_stops:
            return np.zeros(len(until))
        # the hours stopped by u: the sum over stops begun before u of (u - start), less the
        # sum over stops ended before u of (u - end)
        out = np.zeros(len(until))
        for sign, times in (
            (1.0, sorted(stop.start for stop in self.gate_stops)),
            (-1.0, sorted(stop.end for stop in self.gate_stops)),
        ):
            before = np.searchsorted(times, until, side="left")
            prefix = np.concatenate([[0.0], np.cumsum(times)])
            out += sign * (before * until - prefix[before])
        return np.maximum(out, 0.0)

    def movements_flown(self) -> list[Movement]:
        """Bookings not given back, in booking order."""
        gone: dict[tuple[float, str, str], int] = {}
        for m in self.movements:
            if m.cancelled:
                key = (m.start, m.kind, m.aircraft)
                gone[key] = gone.get(key, 0) + 1
        out = []
        for m in self.movements:
            if m.cancelled:
                continue
            key = (m.start, m.kind, m.aircraft)
            if gone.get(key, 0):
                gone[key] -= 1
                continue
            out.append(m)
        return out

    def held_back_hours(self) -> dict[str, float]:
        """People-hours held back by each cause of LIMIT_CAUSES up to the last hourly sample."""
        last = self.held_back[-1].tolist() if len(self.held_back) else [0.0] * len(LIMIT_CAUSES)
        return dict(zip(LIMIT_CAUSES, last, strict=True))

    def hourly_columns(self, operators: Sequence[str] = ()) -> dict[str, np.ndarray]:
        """The hourly samples as columns: ``hours``, every name in HOURLY_COLUMNS and, beside the
        two cumulative totals, one column per operator of ``operators`` (:func:`operator_columns`)."""
        rows = self.hourly
        columns = zip(*rows, strict=True) if rows else [()] * len(Hourly._fields)
        totals = {
            name: np.asarray(column, dtype=float if name == "hours" else np.int64)
            for name, column in zip(Hourly._fields, columns, strict=True)
        }
        by_operator = self.operator_cumulative(totals["departures_cumulative"], operators)
        out: dict[str, np.ndarray] = {}
        for name, column in totals.items():
            out[name] = column
            out.update((f"{name}.{op}", v) for op, v in by_operator.get(name, {}).items())
        held = self.held_back if len(self.held_back) == len(rows) else np.zeros((len(rows), len(LIMIT_CAUSES)))
        for i, cause in enumerate(LIMIT_CAUSES):
            out[f"limit_{cause}_hours"] = np.ascontiguousarray(held[:, i])
        return out

    def operator_cumulative(self, departed: np.ndarray, operators: Sequence[str]) -> dict[str, dict[str, np.ndarray]]:
        """``{"evacuated_cumulative": {operator: column}, "departures_cumulative": {...}}``: at each
        sample, the evacuees and take-offs of each operator among the first ``departed[i]``
        departure rows (the rows the recorder had counted then), so the operators' columns add up
        to the totals at every hour. Every operator gets its columns, zeros if it never flew; a
        departure of an operator not listed raises ``ValueError``."""
        index = {op: k for k, op in enumerate(operators)}
        if any(d.operator not in index for d in self.departures):
            raise ValueError("a departure of an operator not among the scenario's operators")
        flown = np.zeros((len(operators), len(self.departures) + 1), dtype=np.int64)  # cumulative, row 0 = none yet
        took_off = np.zeros_like(flown)
        for j, d in enumerate(self.departures, start=1):
            flown[index[d.operator], j] = d.evacuees
            took_off[index[d.operator], j] = 1
        flown, took_off = np.cumsum(flown, axis=1), np.cumsum(took_off, axis=1)
        departed = np.asarray(departed, dtype=np.int64)
        return {
            "evacuated_cumulative": {op: flown[k, departed] for op, k in index.items()},
            "departures_cumulative": {op: took_off[k, departed] for op, k in index.items()},
        }
