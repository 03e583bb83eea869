"""The first step of a calibration: Morris screening of its inputs against its targets.

A Morris design (SALib, as ``airlift sensitivity`` runs it, :mod:`sim.analysis.sensitivity`) is run
as a sweep in ``DIR/screening/`` with the calibration's replications (replication ``r`` of every
point shares its random streams, so the elementary effects are paired). For each target, an input
is *active* when its mean absolute elementary effect ``mu*`` is at least ``THRESHOLD`` of the
target's tolerance (the denominator of the implausibility without the emulator:
``sqrt(V_obs + V_stoch)``) and above the noise of a difference of two replication means
(``NOISE_FLOOR * sqrt(2 V_stoch / n)``). The emulator of a target uses its active inputs; the
calibration's active inputs are those active for some target. Inactive inputs are not fixed: they
are drawn over their whole ranges in every wave and in the final sample, and their effect is left
to each emulator's white-noise term. The screening runs are also the first training points of the
emulators.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.analysis import history_matching as hm
from sim.analysis.sensitivity import Design, analyse, design
from sim.description.uncertainty import Parameter

__all__ = ["THRESHOLD", "NOISE_FLOOR", "TRAJECTORIES", "MAX_PER_TARGET", "Screening", "screening_design", "screen"]

THRESHOLD = 0.25
"""An input is active for a target when ``mu*`` is at least this share of the target's tolerance."""
NOISE_FLOOR = 2.0
"""... and above this many sds of the difference of two replication means (independent replications;
the paired ones of a Morris design differ less, so this errs towards inactive only for effects too
small to move an implausibility by more than about one)."""
TRAJECTORIES = 4
"""Morris trajectories of the screening (``(k + 1)`` points each), fewer when the budget is small."""
MAX_PER_TARGET = 12
"""Most inputs one target's emulator uses (the largest ``mu*``); more make its fit slow and its
length scales poorly determined by a few hundred points."""


@dataclass
class Screening:
    """The outcome of the screening: the active inputs per target and overall, and the indices."""

    active_by_target: list[tuple[int, ...]]
    active: tuple[int, ...]
    mu_star: np.ndarray
    """``mu_star[i, j]``: input ``i``'s mean absolute elementary effect on target ``j``."""
    capped: tuple[int, ...] = ()
    """Inputs found active but left out (the budget affords 10 wave-0 points per active input only)."""

    def report(self, params: Sequence[Parameter], names: Sequence[str]) -> dict[str, Any]:
        """The screening as ``calibration.json`` records it."""
        if not self.active_by_target:
            why = "none (fewer than 3 inputs, or a budget too small for 2 trajectories): every input is active"
            return {"method": why, "active_inputs": [p.name for p in params], "inactive_inputs": [], "capped_inputs": []}
        return {
            "method": "Morris elementary effects (SALib); active: mu* >= "
            f"{THRESHOLD:g} x the target's tolerance and > {NOISE_FLOOR:g} x the replication noise of a difference",
            "active_inputs": [params[i].name for i in self.active],
            "inactive_inputs": [p.name for i, p in enumerate(params) if i not in self.active and i not in self.capped],
            "capped_inputs": [params[i].name for i in self.capped],
            "active_by_target": {n: [params[i].name for i in a] for n, a in zip(names, self.active_by_target, strict=True)},
        }


def screening_design(params: Sequence[Parameter], trajectories: int, seed: int) -> Design:
    """The Morris design of a calibration's screening (a stream apart from the waves')."""
    return design(params, "morris", trajectories=trajectories, seed=seed + 0x5C2E)


def screen(
    d: Design,
    means: np.ndarray,
    observations: Sequence[hm.Observation],
    v_stoch: np.ndarray,
    replications: int,
    most_active: int,
) -> Screening:
    """The active inputs from the replication means ``means[point, target]`` of the design ``d``;
    at most ``most_active`` overall (those with the largest effect relative to the tolerance)."""
    k, t = len(d.params), len(observations)
    mu_star = np.zeros((k, t))
    for j in range(t):
        mu_star[:, j] = analyse(d, means[:, j])["mu_star"]
    v_obs = np.array([o.variance for o in observations])
    tolerance = np.sqrt(v_obs + v_stoch)
    noise = NOISE_FLOOR * np.sqrt(2 * v_stoch / replications)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.nan_to_num(mu_star / tolerance[None, :])
    is_active = (mu_star >= THRESHOLD * tolerance[None, :]) & (mu_star > noise[None, :])
    score = np.where(is_active, relative, 0.0).max(axis=1)
    ranked = [int(i) for i in np.argsort(-score, kind="stable") if score[i] > 0]
    kept, capped = ranked[: max(most_active, 1)], ranked[max(most_active, 1) :]
    by_target = []
    for j in range(t):
        mine = [i for i in np.argsort(-mu_star[:, j], kind="stable") if is_active[i, j] and i in kept][:MAX_PER_TARGET]
        if not mine:  # insensitive to every kept input: its emulator follows the most influential one
            mine = [int(np.argmax(mu_star[:, j]))]
        by_target.append(tuple(sorted(int(i) for i in mine)))
    active = tuple(sorted(kept))
    return Screening(by_target, active, mu_star, tuple(sorted(capped)))
