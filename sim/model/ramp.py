"""The ramp: parking spots by aircraft size class.

An aircraft is cleared to leave its staging base only once it holds a spot, and keeps the spot
until it takes off, so no aircraft ever holds over the city waiting for parking. The working
"maximum on ground" is therefore the number of spots, less those held by aircraft still
inbound. This is conservative: real slot planning can re-use a spot whose occupant will leave
before the inbound aircraft lands (see the README's assumptions). A class with no spots admits
no aircraft: they wait at their base until they give up.
"""

from __future__ import annotations

from collections.abc import Mapping

import simpy

__all__ = ["Ramp"]


class Ramp:
    """One FIFO ``simpy.Resource`` of spots per size class (none for a class without spots),
    and the number of aircraft on the ground."""

    def __init__(self, env: simpy.Environment, spots: Mapping[str, int]):
        self.env = env
        self._spots = {cls: simpy.Resource(env, capacity=n) for cls, n in spots.items() if n > 0}
        self._never: dict[str, list[simpy.Event]] = {cls: [] for cls, n in spots.items() if n <= 0}
        self.on_ground = 0

    def request(self, size_class: str) -> simpy.Event:
        """A request for a spot of this class; ``yield`` it, and ``release`` it at take-off.

        With no spots of the class, an event that never fires (the caller gives up)."""
        if size_class in self._never:
            ev = self.env.event()
            self._never[size_class].append(ev)
            return ev
        return self._spots[size_class].request()

    def release(self, size_class: str, req: simpy.Event) -> None:
        """Give the spot back, or withdraw a request not yet granted."""
        if size_class in self._never:
            self._never[size_class].remove(req)
            return
        assert isinstance(req, simpy.resources.resource.Request)
        if req.triggered:
            self._spots[size_class].release(req)
        else:
            req.cancel()

    def landed(self) -> None:
        self.on_ground += 1

    def took_off(self) -> None:
        self.on_ground -= 1

    def waiting(self) -> int:
        """Aircraft waiting at their staging bases for a spot."""
        return sum(len(r.queue) for r in self._spots.values()) + sum(len(w) for w in self._never.values())
