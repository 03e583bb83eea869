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
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CUTOFF",
    "Observation",
    "Emulator",
    "fit_emulators",
    "fit_emulator",
    "implausibility",
    "kth_largest",
    "cut_rank",
    "not_implausible",
    "loo_errors",
    "heldout_errors",
    "validation",
    "pooled_variance",
    "spread_order",
    "walk",
]

CUTOFF = 3.0
"""Implausibility cut-off: Pukelsheim's 3-sigma rule (at least 95% of any unimodal distribution)."""
VALIDATION_LIMIT = 0.10
"""An emulator fails its validation when more than this share of its standardized errors exceed 3
in absolute value (about 0.3% would for a correct Gaussian emulator; 10% leaves room for heavy
tails but not for an emulator that is wrong or overconfident)."""
MAX_TRAINING = 400
"""Most points an emulator is fitted to (the latest ones: they lie where the search now is); a
Gaussian process costs the cube of its points, and this keeps a wave's fits to minutes on Kabul."""

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


TREND_PENALTIES = np.logspace(-3, 3, 13)
"""Ridge penalties the trend of an emulator chooses among (by generalised cross-validation)."""
ACTIVE = 8
"""Most inputs an emulator uses (its *active variables*, Vernon et al. 2010); the others' effect is
left to the white-noise term, which widens the emulator's variance instead of being ignored."""


@dataclass
class Emulator:
    """One target over the unit cube: a linear trend in every input plus a Gaussian process of what
    the trend leaves, over the active inputs (``gp`` ``None``: the target never varied)."""

    name: str
    gp: object | None
    y_mean: float
    y_scale: float
    active: tuple[int, ...] = ()
    trend: object | None = None
    """A fitted ridge regression on every input (``None``: no trend)."""

    def predict(self, u: Array) -> tuple[Array, Array]:
        """Mean and variance of the target's replication mean at points ``u`` (rows in the unit cube)."""
        if self.gp is None:
            return np.full(len(u), self.y_mean), np.zeros(len(u))
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            mean, std = self.gp.predict(u[:, list(self.active)], return_std=True)  # type: ignore[attr-defined]
            if self.trend is not None:
                mean = mean + self.trend.predict(u)  # type: ignore[attr-defined]
        return self.y_mean + self.y_scale * mean, (self.y_scale * std) ** 2

    def reads(self, inputs: int) -> tuple[int, ...]:
        """The inputs (of ``inputs``) whose value changes the prediction."""
        if self.gp is None:
            return ()
        return tuple(range(inputs)) if self.trend is not None else self.active


def active_variables(u: Array, y: Array, k: int = ACTIVE) -> tuple[int, ...]:
    """The ``k`` inputs most correlated (Pearson, in absolute value) with ``y``, in input order."""
    from sklearn.feature_selection import r_regression

    if u.shape[1] <= k:
        return tuple(range(u.shape[1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.nan_to_num(np.abs(r_regression(u, y)))
    return tuple(sorted(int(i) for i in np.argsort(-r, kind="stable")[:k]))


def fit_emulators(
    u: Array,
    y: Array,
    noise_of_mean: Array,
    names: Sequence[str],
    seed: int,
    active_sets: Sequence[Sequence[int]] | None = None,
    executor: Executor | None = None,
) -> list[Emulator]:
    """One Gaussian process per column of ``y`` (replication means at the points ``u``), each by
    :func:`fit_emulator`, on ``executor`` if given (the same emulators on any executor: each fit
    has its own seed). At most :data:`MAX_TRAINING` points, the last ones."""
    from sim.experiments.tasks import run_tasks

    u, y = u[-MAX_TRAINING:], y[-MAX_TRAINING:]
    tasks = [
        (j, (u, y[:, j], float(noise_of_mean[j]), name, seed + j, None if active_sets is None else tuple(active_sets[j])))
        for j, name in enumerate(names)
    ]
    fitted: dict[int, Emulator] = {}
    failures = run_tasks(_fit_task, tasks, on_result=fitted.__setitem__, executor=executor)
    if failures:
        raise RuntimeError(f"fitting the emulator of {names[failures[0].task]} failed: {failures[0].error}")
    return [fitted[j] for j in range(len(names))]


def _fit_task(args: tuple[Array, Array, float, str, int, tuple[int, ...] | None]) -> Emulator:
    return fit_emulator(*args)


def fit_emulator(u: Array, col: Array, noise_of_mean: float, name: str, seed: int, active: Sequence[int] | None) -> Emulator:
    """A Gaussian process of one target's replication means ``col`` at the points ``u``.

    First a linear trend in every input (ridge regression, its penalty by generalised
    cross-validation) when there are inputs the process will not read and at least twice as many
    points as inputs: the first-order effect of the many inputs that each matter a little
    (Vernon et al. 2010 put a regression on the inputs under the process for the same reason),
    which would otherwise all land in the white-noise term and keep the emulator too unsure to
    rule anything out. Then the process, of what the trend leaves, over the target's ``active``
    inputs (from the screening), else the most correlated ones (:func:`active_variables`).
    Kernel: a constant times an anisotropic Matérn 5/2 (one length scale per input, so an input that
    does not matter gets a long one), plus a white-noise term for the inactive inputs and for
    roughness the smooth kernel cannot follow. ``noise_of_mean`` (the variance of a replication
    mean) enters as the known noise ``alpha``; hyperparameters by maximum likelihood with one
    restart.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
    from sklearn.linear_model import RidgeCV
    from threadpoolctl import threadpool_limits

    scale = float(np.std(col))
    centre = float(np.mean(col))
    if scale <= 1e-9 * max(1.0, abs(centre)):
        return Emulator(name, None, centre, 1.0)
    chosen = tuple(sorted(int(i) for i in active)) if active is not None else active_variables(u, col)
    z = (col - centre) / scale
    trend = None
    if u.shape[1] > len(chosen) and len(u) > 2 * u.shape[1]:  # inputs the process does not read, and points to fit them
        trend = RidgeCV(alphas=TREND_PENALTIES).fit(u, z)
        z = z - trend.predict(u)
    kernel = ConstantKernel(1.0, (1e-2, 1e2)) * Matern(
        length_scale=np.full(len(chosen), 0.5), length_scale_bounds=(0.05, 50.0), nu=2.5
    ) + WhiteKernel(1e-3, (1e-8, 1.0))
    alpha = noise_of_mean / scale**2 + 1e-8
    gp = GaussianProcessRegressor(kernel, alpha=alpha, n_restarts_optimizer=1, random_state=seed)
    with warnings.catch_warnings(), threadpool_limits(1):
        # a length scale at its bound (a parameter with no effect) is an answer, not a failure;
        # one BLAS thread: these matrices are small and threads only fight over shared cores
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(u[:, list(chosen)], z)
    return Emulator(name, gp, centre, scale, chosen, trend)


def loo_errors(emulator: Emulator) -> Array:
    """Standardized leave-one-out errors of an emulator on its own training points: for each point,
    (its value - the prediction from all the others) / the sd of that prediction, from the fitted
    Gaussian process in closed form (Rasmussen and Williams 2006, eq. 5.12; hyperparameters as
    fitted). A sound emulator gives errors like a standard normal's; empty for a constant one."""
    from scipy.linalg import cho_solve

    if emulator.gp is None:
        return np.zeros(0)
    lower = emulator.gp.L_  # type: ignore[attr-defined]
    k_inv = cho_solve((lower, True), np.eye(len(lower)))
    weights = k_inv @ emulator.gp.y_train_  # type: ignore[attr-defined]
    diagonal = np.diag(k_inv)
    return np.asarray(weights / np.sqrt(diagonal), dtype=float)


def heldout_errors(emulator: Emulator, u: Array, y: Array, noise_of_y: Array | float) -> Array:
    """Standardized errors of an emulator on points it was not fitted to: (simulated - predicted) /
    sqrt(emulator variance + the noise of the simulated value)."""
    mean, var = emulator.predict(u)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.asarray(y, dtype=float) - mean) / np.sqrt(var + noise_of_y)
    return np.nan_to_num(z, nan=0.0, posinf=np.inf, neginf=-np.inf)


def validation(errors: Array, limit: float = VALIDATION_LIMIT) -> dict[str, float | int | bool]:
    """An emulator's verdict from its standardized errors: how many, the share beyond 3 in absolute
    value, the largest, and whether it passed (a share at most ``limit``). Fewer than 5 errors, or
    none (a target that never varied), pass: there is nothing to judge the emulator by."""
    e = np.abs(np.asarray(errors, dtype=float))
    share = float(np.mean(e > CUTOFF)) if len(e) else 0.0
    return {
        "points": int(len(e)),
        "share_beyond_3": round(share, 4),
        "largest": round(float(e.max()), 3) if len(e) else 0.0,
        "passed": bool(len(e) < 5 or share <= limit),
    }


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


def cut_rank(requested: int, targets: int) -> int:
    """Which largest implausibility an early wave cuts on: ``requested`` (2: the second largest, as in
    Vernon et al. 2010), but the largest while there are fewer than ``2 * requested`` targets (with
    few targets, ignoring one's misfit would ignore too much)."""
    return requested if targets >= 2 * requested else 1


def kth_largest(imp: Array, k: int) -> Array:
    """Each row's ``k``-th largest implausibility (1: the largest); 0 for a row with fewer than ``k``."""
    imp = np.asarray(imp, dtype=float)
    if imp.shape[1] < k:
        return np.zeros(len(imp))
    return np.sort(imp, axis=1)[:, -k]


def not_implausible(
    u: Array, emulators: Sequence[Emulator | None], observations: Sequence[Observation], var_stoch: Array, rank: int
) -> Array:
    """Which rows of ``u`` pass one wave's emulators: fewer than ``rank`` targets with an emulated
    implausibility at or above :data:`CUTOFF` (``rank`` 1: none). ``emulators[j]`` of ``None``
    (one that failed its validation) does not cut. Target by target, predicting only for the
    rows still in, so a wave's screening costs what its survivors do."""
    misses = np.zeros(len(u), dtype=int)
    alive = np.ones(len(u), dtype=bool)
    for j, (em, obs) in enumerate(zip(emulators, observations, strict=True)):
        if em is None or not alive.any():
            continue
        idx = np.flatnonzero(alive)
        mean, var = em.predict(u[idx])
        imp = implausibility(mean[:, None], var[:, None], [obs], var_stoch[j : j + 1])[:, 0]
        misses[idx] += imp >= CUTOFF
        alive[idx] = misses[idx] < rank
    return alive


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


WALK_STEPS = 60
"""Steps of each random walk of :func:`walk` (the first half adapts the step size)."""


def walk(
    seeds: Array, inside: Callable[[Array], Array], used: Sequence[int], n: int, rng: np.random.Generator, steps: int = WALK_STEPS
) -> Array:
    """``n`` draws from the uniform distribution on a region of the unit cube known only through
    ``inside`` (rows -> which are in it), starting from ``seeds`` (rows in it): one random-walk
    Metropolis chain per draw, with a symmetric Gaussian proposal reflected at the cube's faces, so
    a proposal is accepted exactly when it is inside. Only the ``used`` inputs (those some emulator
    reads) move; the region does not depend on the others, which are drawn uniformly. The step of
    each input starts at the seeds' spread (at least 0.02) and is halved or doubled over the first
    half of the walk to keep about a quarter of the proposals."""
    chains = seeds[rng.integers(len(seeds), size=n)].copy()
    cols = np.asarray(sorted(used), dtype=int)
    if len(cols):
        step = np.maximum(seeds[:, cols].std(axis=0) if len(seeds) > 1 else 0.1, 0.02)
        for t in range(steps):
            proposal = chains.copy()
            proposal[:, cols] = chains[:, cols] + rng.normal(size=(n, len(cols))) * step
            proposal[:, cols] = 1 - np.abs(1 - np.abs(proposal[:, cols]) % 2)  # reflected into 0..1
            ok = inside(proposal)
            chains[ok] = proposal[ok]
            if t < steps // 2:
                rate = float(ok.mean())
                step = step * (2.0 if rate > 0.4 else 0.5 if rate < 0.1 else 1.0)
                step = np.clip(step, 1e-4, 1.0)
    free = np.setdiff1d(np.arange(seeds.shape[1]), cols)
    chains[:, free] = rng.random((n, len(free)))
    return chains
