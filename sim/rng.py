"""Named random streams: one independent numpy ``Generator`` per (seed, replication, name).

Streams are derived with :class:`numpy.random.SeedSequence` from the seed, the replication
number and a stable hash of the stream name, so adding a stream or drawing more from one never
shifts another. Two scenarios run with the same seed and replication see the same numbers in
each stream (common random numbers). There is no global random state anywhere in ``sim``.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["Streams"]


def _name_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """A factory of named generators for one replication."""

    def __init__(self, seed: int, replication: int):
        self.seed = int(seed)
        self.replication = int(replication)
        self._cache: dict[str, np.random.Generator] = {}

    def __call__(self, name: str) -> np.random.Generator:
        """The generator for ``name`` (created on first use, then the same object)."""
        gen = self._cache.get(name)
        if gen is None:
            ss = np.random.SeedSequence([self.seed, self.replication, _name_key(name)])
            gen = np.random.Generator(np.random.PCG64(ss))
            self._cache[name] = gen
        return gen
