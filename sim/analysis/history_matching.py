"""History matching: Gaussian-process emulators of each target, implausibility, and the choice of
the next wave's points. Pure numerics over arrays in the unit cube; knows nothing of the model.

The method is the one of Craig et al. (1997) and Vernon et al. (2010), as in the R package hmer:
a point ``x`` is *implausible* when, for some target ``j``,
``I_j(x) = |E[f_j(x)] - z_j| / sqrt(V_obs_j + V_stoch_j + V_em_j(x))`` (for a one-sided target,
the distance outside its bound, 0 inside; ``V_obs`` includes the model discrepancy) exceeds a cut-off (3, by
Pukelsheim's three-sigma rule for unimodal distributions). ``E[f_j(x)]`` and ``V_em_j(x)`` come from
a scikit-learn Gaussian process fitted to the replication means of the runs so far; ``V_stoch_j``
is the variance of one replication around its mean (pooled over runs), because the published
figure is one realisation of the real, stochastic airlift.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["CUTOFF", "Observation", "Emulator", "fit_emulators", "implausibility", "pooled_variance", "spread_order"]

CUTOFF = 3.0
"""Implausibility cut-off: Pukelsheim's 3-sigma rule (at least 95% of any unimodal distribution)."""

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Observation:
    """One target: its name, observed value and variance (observation error plus model discrepancy).
    A one-sided target has a ``floor`` and/or a ``ceiling``: any value between them fits exactly."""

    name: str
    value: float
    variance: float
    floor: float | None = None
    ceiling: float | None = None

    def distance(self, mean: Array) -> Array:
        """How far ``mean`` is from the observation: ``|mean - value|``, or for a one-sided target
        how far outside its bounds (0 inside)."""
        if self.floor is None and self.ceiling is None:
            return np.abs(mean - self.value)
        below = np.maximum(self.floor - mean, 0.0) if self.floor is not None else np.zeros_like(mean)
        above = np.maximum(mean - self.ceiling, 0.0) if self.ceiling is not None else np.zeros_like(mean)
        return below + above


ACTIVE = 8
"""Most inputs an emulator uses (its *active variables*, Vernon et al. 2010); the others' effect is
left to the white-noise term, which widens the emulator's variance instead of being ignored."""


@dataclass
class Emulator:
    """A Gaussian process of one target over the unit cube (``None``: the target never varied)."""

    name: str
    gp: object | None
    y_mean: float
    y_scale: float
    active: tuple[int, ...] = ()

    def predict(self, u: Array) -> tuple[Array, Array]:
        """Mean and variance of the target's replication mean at points ``u`` (rows in the unit cube)."""
        if self.gp is None:
            return np.full(len(u), self.y_mean), np.zeros(len(u))
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            mean, std = self.gp.predict(u[:, list(self.active)], return_std=True)  # type: ignore[attr-defined]
        return self.y_mean + self.y_scale * mean, (self.y_scale * std) ** 2


def active_variables(u: Array, y: Array, k: int = ACTIVE) -> tuple[int, ...]:
    """The ``k`` inputs most correlated (Pearson, in absolute value) with ``y``, in input order."""
    from sklearn.feature_selection import r_regression

    if u.shape[1] <= k:
        return tuple(range(u.shape[1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.nan_to_num(np.abs(r_regression(u, y)))
    return tuple(sorted(int(i) for i in np.argsort(-r, kind="stable")[:k]))


def fit_emulators(u: Array, y: Array, noise_of_mean: Array, names: Sequence[str], seed: int) -> list[Emulator]:
    """One Gaussian process per column of ``y`` (replication means at the points ``u``).

    Inputs: the target's active variables (:func:`active_variables`). Kernel: a constant times an
    anisotropic Matérn 5/2 (one length scale per input, so an input that does not matter gets a
    long one), plus a white-noise term for the inactive inputs and for roughness the smooth kernel
    cannot follow. ``noise_of_mean`` (the variance of each column's replication
    mean) enters as the known noise ``alpha``; hyperparameters by maximum likelihood with restarts.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
    from threadpoolctl import threadpool_limits

    out = []
    for j, name in enumerate(names):
        col = y[:, j]
        scale = float(np.std(col))
        centre = float(np.mean(col))
        if scale <= 1e-9 * max(1.0, abs(centre)):
            out.append(Emulator(name, None, centre, 1.0))
            continue
        active = active_variables(u, col)
        kernel = ConstantKernel(1.0, (1e-2, 1e2)) * Matern(
            length_scale=np.full(len(active), 0.5), length_scale_bounds=(0.05, 50.0), nu=2.5
        ) + WhiteKernel(1e-3, (1e-8, 1.0))
        alpha = float(noise_of_mean[j]) / scale**2 + 1e-8
        gp = GaussianProcessRegressor(kernel, alpha=alpha, n_restarts_optimizer=1, random_state=seed + j)
        with warnings.catch_warnings(), threadpool_limits(1):
            # a length scale at its bound (a parameter with no effect) is an answer, not a failure;
            # one BLAS thread: these matrices are small and threads only fight over shared cores
            warnings.simplefilter("ignore", ConvergenceWarning)
            gp.fit(u[:, list(active)], (col - centre) / scale)
        out.append(Emulator(name, gp, centre, scale, active))
    return out


def implausibility(mean: Array, var_emulator: Array, observations: Sequence[Observation], var_stoch: Array) -> Array:
    """``I[i, j]`` for predicted (or simulated) means ``mean[i, j]`` of target ``j`` at point ``i``:
    the distance from the observation (0 inside a one-sided target's bounds) over the square root of
    the observation variance (with the model discrepancy) + the stochastic + the emulator variance."""
    mean = np.asarray(mean, dtype=float)
    distance = np.column_stack([o.distance(mean[:, j]) for j, o in enumerate(observations)]) if observations else mean
    v_obs = np.array([o.variance for o in observations])
    with np.errstate(divide="ignore", invalid="ignore"):
        imp = distance / np.sqrt(v_obs + var_stoch + var_emulator)
    return np.where(distance == 0, 0.0, imp)


def pooled_variance(values: Array, groups: Array) -> Array:
    """Within-group variance of each column of ``values`` (rows grouped by ``groups``), pooled over
    groups with at least two rows: the variance of one replication around its point's mean."""
    import pandas as pd

    df = pd.DataFrame(values)
    df["_g"] = groups
    g = df.groupby("_g")
    var = g.var(ddof=1)
    n = g.size()
    keep = n >= 2
    if not keep.any():
        return np.zeros(values.shape[1])
    w = (n[keep] - 1).to_numpy(dtype=float)
    return np.asarray((var[keep].to_numpy() * w[:, None]).sum(axis=0) / w.sum(), dtype=float)


def spread_order(u: Array, k: int, rng: np.random.Generator) -> list[int]:
    """Indices of ``k`` rows of ``u`` chosen greedily to be far apart (maximin), in that order,
    starting from a random row: any prefix of the result spreads over the set."""
    n = len(u)
    if n == 0 or k <= 0:
        return []
    chosen = [int(rng.integers(n))]
    dist = np.linalg.norm(u - u[chosen[0]], axis=1)
    while len(chosen) < min(k, n):
        nxt = int(np.argmax(dist))
        if dist[nxt] <= 0:
            break
        chosen.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(u - u[nxt], axis=1))
    return chosen
