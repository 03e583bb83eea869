"""Named random streams: one independent numpy ``Generator`` per (seed, replication, name).

Streams are derived with :class:`numpy.random.SeedSequence` from the seed, the replication
number and a stable hash of the stream name, so adding a stream or drawing more from one never
shifts another. Two scenarios run with the same seed and replication see the same numbers in
each stream (common random numbers). There is no global random state anywhere in ``sim``.

Decisions taken during the run draw through :class:`FamilyDraws`: the value a family gets for
its *k*-th visit is fixed in advance, whatever other families do, so a change that affects some
families late never shifts the draws of the others.
"""

from __future__ import annotations

import zlib
from typing import Literal

import numpy as np

__all__ = ["FamilyDraws", "Streams"]


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
            gen = self.fresh(name)
            self._cache[name] = gen
        return gen

    def fresh(self, name: str) -> np.random.Generator:
        """A new generator for ``name``, not kept: the same numbers as ``self(name)`` would give."""
        ss = np.random.SeedSequence([self.seed, self.replication, _name_key(name)])
        return np.random.Generator(np.random.PCG64(ss))


class FamilyDraws:
    """One decision's draws, indexed by (visit, family): ``table(k)[visit, family]``.

    Row *k* (one value per family) comes from its own stream ``"<name>/<k>"`` and is made when
    some family first needs it, so its values do not depend on when, or whether, other families
    need theirs. Stored as 32-bit floats (enough for decisions; half the memory of 64-bit), in
    one block reserved for ``rows`` rows at most: memory is only used by the rows made, and a
    new row never copies the others.
    """

    def __init__(self, streams: Streams, name: str, n: int, kind: Literal["uniform", "exponential"], rows: int):
        self._streams, self._name, self._n, self._kind = streams, name, n, kind
        self._block = np.empty((rows, n), dtype=np.float32)  # untouched rows take no memory
        self._made = 0

    def table(self, rows: int) -> np.ndarray:
        """Rows ``0 .. rows - 1`` (at least; no more than reserved): row *k* holds every family's
        value at its *k*-th visit."""
        if rows > len(self._block):
            raise ValueError(f"{self._name}: {rows} rows asked, {len(self._block)} reserved")
        for k in range(self._made, rows):
            self._fill(k)
        self._made = max(self._made, rows)
        return self._block[: self._made]

    def reserved_block(self) -> np.ndarray:
        """The whole reserved block, ``[rows, families]``, for a reader that keeps it for the run
        and reads only rows already made (by :meth:`table`): the other rows are not yet
        numbers."""
        return self._block

    def __call__(self, k: int) -> np.ndarray:
        """Row ``k``: the value of every family at its ``k``-th visit."""
        return self.table(k + 1)[k]

    def _fill(self, k: int) -> None:
        gen = self._streams.fresh(f"{self._name}/{k}")
        if self._kind == "uniform":
            gen.random(self._n, dtype=np.float32, out=self._block[k])
        else:
            gen.standard_exponential(self._n, dtype=np.float32, out=self._block[k])
