"""The way back to the gates has one implementation, the compiled one (``perimeter_core.way``):
checked against a plain walk over the segments on random step tables, and in distribution
against a family simulated attempt by attempt."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.model import perimeter_core as core
from sim.model.access import CohortAccess, way_tables


def compiled_way(times: list[float], factors: list[float], p: float, h: float, end: float, draws: np.ndarray) -> np.ndarray:
    """The compiled way of one cohort for rows of (t0, u_retry, e, u_through)."""
    w = way_tables([CohortAccess(times, factors, p, h, end)], end)
    out = np.empty(len(draws))
    columns = (np.ascontiguousarray(draws[:, k]) for k in range(4))
    core.ways(w, np.zeros(len(draws), dtype=np.int64), *columns, out)
    return out


def walked_way(
    times: list[float],
    factors: list[float],
    p: float,
    h: float,
    end: float,
    t0: float,
    u_retry: float,
    e: float,
    u_through: float,
) -> tuple[float, float]:
    """The same way, walked segment by segment from ``t0`` until the exponential ``e`` is spent
    on the hazard of "the way ends" (at a gate, or given up for good); no cumulative tables.
    Also returns how close the walk came to a segment's end when it stopped (hazard units)."""
    if u_retry >= p or t0 >= end:
        return math.inf, math.inf
    t, left, margin = t0, e, math.inf
    for start, stop, f in zip(times, [*times[1:], end], factors, strict=True):
        if stop <= t:
            continue
        t = max(t, start)
        ends = f + (1.0 - f) * (1.0 - p)  # an attempt gets through, or the family gives up for good
        spent = ends / h * (stop - t)
        margin = min(margin, abs(spent - left))
        if spent > left:
            at_gate = f / ends
            return (t + left / (ends / h) if u_through < at_gate else math.inf), margin
        left -= spent
        t = stop
    return math.inf, margin


@st.composite
def step_tables(draw: st.DrawFn) -> tuple[list[float], list[float], float, float, float]:
    end = draw(st.floats(1.0, 500.0))
    inner = draw(st.lists(st.floats(0.0, end, exclude_min=True, exclude_max=True), max_size=6, unique=True))
    times = [0.0, *sorted(inner)]
    factor = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0))
    factors = [draw(factor) for _ in times]
    p = draw(st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0)))
    return times, factors, p, draw(st.floats(0.05, 50.0)), end


@settings(max_examples=400, deadline=None)
@given(
    tables=step_tables(),
    t0_share=st.floats(0.0, 1.1),
    u_retry=st.floats(0.0, 1.0, exclude_max=True),
    e=st.floats(0.0, 30.0),
    u_through=st.floats(0.0, 1.0, exclude_max=True),
)
def test_the_compiled_way_is_the_walk_over_the_segments(
    tables: tuple[list[float], list[float], float, float, float], t0_share: float, u_retry: float, e: float, u_through: float
) -> None:
    times, factors, p, h, end = tables
    t0 = t0_share * end
    want, margin = walked_way(times, factors, p, h, end, t0, u_retry, e, u_through)
    assume(margin > 1e-9 * max(1.0, e))  # not within rounding of a segment's end (either segment is right)
    got = compiled_way(times, factors, p, h, end, np.array([[t0, u_retry, e, u_through]]))[0]
    if math.isinf(want):
        assert math.isinf(got)
    else:
        assert got == want or abs(got - want) <= 1e-9 * max(1.0, abs(want)), (got, want)
        assert t0 <= got < end


def simulated_way(
    times: list[float], factors: list[float], p: float, h: float, end: float, t0: float, rng: np.random.Generator
) -> float:
    """One family's way, attempt by attempt: it tries again with chance ``p`` after each turn
    back (and at the start), an exponential time (mean ``h``) later, and an attempt at ``s`` gets
    through with the access factor at ``s``."""
    if rng.random() >= p:
        return math.inf
    s = t0
    while True:
        s += rng.exponential(h)
        if s >= end:
            return math.inf
        if rng.random() < factors[int(np.searchsorted(times, s, side="right")) - 1]:
            return s
        if rng.random() >= p:
            return math.inf


def test_the_compiled_way_has_the_distribution_of_a_family_turned_back_attempt_by_attempt() -> None:
    # a night curfew letting one attempt in five through, a checkpoint closed for a day, then open
    times = [0.0, 5.0, 8.0, 20.0, 29.0, 44.0, 53.0, 56.0]
    factors = [1.0, 0.2, 1.0, 0.5, 0.0, 1.0, 0.2, 1.0]
    p, h, end, n = 0.8, 3.0, 72.0, 20_000
    rng = np.random.default_rng(11)
    t0 = rng.uniform(0.0, 60.0, n)
    brute = np.array([simulated_way(times, factors, p, h, end, t, rng) for t in t0])
    draws = np.column_stack([t0, rng.random(n), rng.exponential(1.0, n), rng.random(n)])
    fast = compiled_way(times, factors, p, h, end, draws)
    # as many families never reach a gate, and those who do get there at the same times
    never = np.array([[np.isinf(brute).sum(), np.isfinite(brute).sum()], [np.isinf(fast).sum(), np.isfinite(fast).sum()]])
    assert stats.chi2_contingency(never).pvalue > 0.001
    assert stats.ks_2samp(brute[np.isfinite(brute)], fast[np.isfinite(fast)]).pvalue > 0.001
    assert np.all(fast[np.isfinite(fast)] >= t0[np.isfinite(fast)])
    # nobody is through while the checkpoint is closed: the way ends there only by giving up
    assert not np.any((fast >= 29.0) & (fast < 44.0))
