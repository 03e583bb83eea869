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

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from sim.description.metric_catalog import LIMIT_CAUSES

__all__ = ["DOINGS", "Carrier", "doing_at", "held_back"]

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
