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
from collections.abc import Sequence
from typing import Literal

import numpy as np

__all__ = ["FamilyDraws", "Streams", "VisitDraws"]


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

    def __init__(
        self,
        streams: Streams,
        name: str,
        n: int,
        kind: Literal["uniform", "exponential"],
        rows: int,
        block: np.ndarray | None = None,
    ):
        """``block``: where to keep the rows, a float32 ``[rows, n]`` array (a view into a larger
        block, see :class:`VisitDraws`); by default, one of its own."""
        self._streams, self._name, self._n, self._kind = streams, name, n, kind
        if block is None:
            block = np.empty((rows, n), dtype=np.float32)  # untouched rows take no memory
        elif block.shape != (rows, n) or block.dtype != np.float32:
            raise ValueError(f"{name}: a block of shape {(rows, n)} and type float32 is needed")
        self._block = block
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

    def __call__(self, k: int) -> np.ndarray:
        """Row ``k``: the value of every family at its ``k``-th visit."""
        return self.table(k + 1)[k]

    def _fill(self, k: int) -> None:
        gen = self._streams.fresh(f"{self._name}/{k}")
        row = self._block[k]
        out = row if row.flags.c_contiguous else np.empty(self._n, dtype=np.float32)
        if self._kind == "uniform":
            gen.random(self._n, dtype=np.float32, out=out)
        else:
            gen.standard_exponential(self._n, dtype=np.float32, out=out)
        if out is not row:
            row[:] = out


class VisitDraws:
    """The draws of several decisions a family takes at each visit, in one block
    ``block[visit, family, decision]``.

    Each decision is a :class:`FamilyDraws` (same streams, same values) whose rows are a view
    into the block, so the values one family needs at one visit lie side by side: one memory
    access instead of one per decision, which is what a loop over families waiting for memory
    spends its time on once the population outgrows the processor's caches.
    """

    def __init__(self, streams: Streams, n: int, decisions: Sequence[tuple[str, Literal["uniform", "exponential"]]], rows: int):
        self.names = tuple(name for name, _ in decisions)
        self.block = np.empty((rows, n, len(decisions)), dtype=np.float32)  # rows are written when made
        self._draws = {
            name: FamilyDraws(streams, name, n, kind, rows, block=self.block[:, :, j]) for j, (name, kind) in enumerate(decisions)
        }

    def __getitem__(self, name: str) -> FamilyDraws:
        return self._draws[name]

    def make(self, rows: int) -> None:
        """Make rows ``0 .. rows - 1`` of every decision (those not made yet)."""
        for d in self._draws.values():
            d.table(rows)
