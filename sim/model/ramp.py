"""The ramp: parking spots by aircraft size class.

An aircraft is cleared to leave its staging base only once it holds a spot, and keeps the spot
until it takes off, so no aircraft ever holds over the city waiting for parking. The working
"maximum on ground" is therefore the number of spots, less those held by aircraft still
inbound. This is conservative: real slot planning can re-use a spot whose occupant will leave
before the inbound aircraft lands (see the README's assumptions).
"""

from __future__ import annotations

import simpy

__all__ = ["Ramp"]


class Ramp:
    """One FIFO ``simpy.Resource`` of spots per size class, plus a count on the ground."""

    def __init__(self, env: simpy.Environment, spots: dict[str, int]):
        self.env = env
        self.spots = {cls: simpy.Resource(env, capacity=max(n, 1)) for cls, n in spots.items()}
        self.on_ground = 0

    def request(self, size_class: str) -> simpy.resources.resource.Request:
        """A request for a spot of this class; ``yield`` it, and ``release`` it at take-off."""
        return self.spots[size_class].request()

    def release(self, size_class: str, req: simpy.resources.resource.Request) -> None:
        self.spots[size_class].release(req)

    def waiting(self) -> int:
        """Aircraft waiting at their staging bases for a spot."""
        return sum(len(r.queue) for r in self.spots.values())
