"""The ramp: parking spots by aircraft size class.

An aircraft is cleared to leave its staging base only once it holds a spot, and keeps the spot
until it takes off, so no aircraft ever holds over the city waiting for parking. The working
"maximum on ground" is therefore the number of spots, less those held by aircraft still
inbound. This is conservative: real slot planning can re-use a spot whose occupant will leave
before the inbound aircraft lands (see the README's assumptions). A class with no spots admits
no aircraft: they wait at their base until they give up. A ``relief`` of spots changes their
number at dated times.

Spots are counted: a free spot is taken at once and given back at take-off without an event;
an aircraft that finds none waits on an event, and a take-off passes its spot to the first
waiting, in as many steps as SimPy's resource takes (so the order of what happens at one
instant is SimPy's).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping

import simpy

from sim.model.timeline import Steps

__all__ = ["Ramp"]


class Ramp:
    """Spots in use and a FIFO line of waiting aircraft per size class, as SimPy's ``Resource``
    keeps them, and the aircraft on the ground."""

    def __init__(self, env: simpy.Environment, spots: Mapping[str, int], changes: Mapping[str, Steps] | None = None):
        self.env = env
        self._spots = {cls: max(n, 0) for cls, n in spots.items()}
        self._in_use = dict.fromkeys(spots, 0)
        self._line: dict[str, deque[simpy.Event]] = {cls: deque() for cls in spots}
        self.on_ground = 0
        for cls, steps in (changes or {}).items():
            for t, n in zip(steps.times, steps.values[1:], strict=True):
                change = env.timeout(t)
                change.callbacks.append(self._resize(cls, max(int(n), 0)))

    def _resize(self, size_class: str, spots: int) -> Callable[[simpy.Event], None]:
        """Spots of a class change (a relief): more are given out at once; with fewer, spots
        given back are kept until those in use fit."""

        def resize(_: simpy.Event) -> None:
            self._spots[size_class] = spots
            self._give_out(size_class)

        return resize

    def request(self, size_class: str) -> simpy.Event | None:
        """A spot of this class: ``None`` if one was free for the aircraft at once (it holds it
        now), else an event that fires when it gets one. ``release`` it at take-off, or to give up."""
        line = self._line[size_class]
        if not line and self._in_use[size_class] < self._spots[size_class]:
            self._in_use[size_class] += 1
            return None
        wait = self.env.event()
        line.append(wait)
        self._give_out(size_class)  # a spot given back this instant goes to those waiting first
        return wait

    def release(self, size_class: str, held: simpy.Event | None) -> None:
        """Give the spot back, or withdraw a wait not yet answered. A spot given back goes to the
        first aircraft waiting one step later, as SimPy's release event would give it, so that
        what else happens at this instant happens in SimPy's order."""
        if held is not None and not held.triggered:
            self._line[size_class].remove(held)
            return
        self._in_use[size_class] -= 1
        if self._line[size_class]:
            handover = self.env.event()
            handover.callbacks.append(self._handover(size_class))
            handover.succeed()

    def _handover(self, size_class: str) -> Callable[[simpy.Event], None]:
        return lambda _: self._give_out(size_class)

    def _give_out(self, size_class: str) -> None:
        """Free spots go to the aircraft waiting, first come first served."""
        line = self._line[size_class]
        while line and self._in_use[size_class] < self._spots[size_class]:
            self._in_use[size_class] += 1
            line.popleft().succeed()

    def landed(self) -> None:
        self.on_ground += 1

    def took_off(self) -> None:
        self.on_ground -= 1

    def waiting(self) -> int:
        """Aircraft waiting at their staging bases for a spot."""
        return sum(len(line) for line in self._line.values())
