"""Evacuee cohorts as data: families (groups) with sizes, first attempt times and random draws.

People are never SimPy processes. Each cohort becomes arrays of groups whose sizes add up to the
cohort exactly; each group's first attempt to reach the gates is drawn from the cohort's
arrival profile. Group state (where each group is) lives in plain lists owned by
:class:`Population`; the gates and the airfield move groups between states.
"""

from __future__ import annotations

import math

import numpy as np

from sim.model.security import Timeline, in_hours_window
from sim.records import Status
from sim.rng import Streams
from sim.scenario import Cohort, Scenario

__all__ = ["Population", "Status", "DrawBuffer"]


class DrawBuffer:
    """Sequential draws from one named stream, fetched from numpy in blocks for speed."""

    def __init__(self, gen: np.random.Generator, kind: str = "uniform", block: int = 4096):
        self._gen, self._kind, self._block = gen, kind, block
        self._buf: list[float] = []
        self._i = block  # empty: the first call fetches a block

    def __call__(self) -> float:
        i = self._i
        if i >= self._block:
            arr = self._gen.random(self._block) if self._kind == "uniform" else self._gen.standard_exponential(self._block)
            self._buf, i = arr.tolist(), 0
        self._i = i + 1
        return self._buf[i]


def group_sizes(cohort: Cohort, gen: np.random.Generator) -> np.ndarray:
    """Family sizes that add up to ``cohort.people`` exactly (the last family is cut to fit)."""
    n_people = cohort.people
    if n_people == 0:
        return np.zeros(0, dtype=np.int64)
    gs = cohort.group_size
    mean = gs.mean if gs.distribution == "poisson" else float(np.average(gs.sizes, weights=gs.weights))
    n = int(n_people / max(mean, 1.0) * 1.3) + 16
    sizes = np.zeros(0, dtype=np.int64)
    while sizes.sum() < n_people:
        if gs.distribution == "poisson":
            more = np.minimum(1 + gen.poisson(gs.mean - 1.0, n), gs.max)
        else:
            p = np.asarray(gs.weights, dtype=float)
            more = gen.choice(np.asarray(gs.sizes), size=n, p=p / p.sum())
        sizes = np.concatenate([sizes, more.astype(np.int64)])
    cut = int(np.searchsorted(np.cumsum(sizes), n_people))
    sizes = sizes[: cut + 1].copy()
    sizes[-1] -= int(sizes.sum()) - n_people
    return sizes


def first_attempts(cohort: Cohort, scenario: Scenario, horizon: float, gen: np.random.Generator, n: int) -> np.ndarray:
    """First attempt times (hours): i.i.d. from the piecewise-constant profile up to ``horizon``."""
    prof = sorted((scenario.hours(t), w) for t, w in cohort.arrival.profile)
    starts = np.array([max(0.0, t) for t, _ in prof])
    ends = np.append(starts[1:], max(horizon, starts[-1]))
    lengths = np.maximum(ends - starts, 0.0)
    mass = lengths * np.array([w for _, w in prof])
    u = gen.random(n)
    if mass.sum() <= 0:
        return np.full(n, math.inf)
    cdf = np.cumsum(mass) / mass.sum()
    seg = np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)
    lo = np.where(seg > 0, cdf[seg - 1], 0.0)
    within = (u - lo) / np.maximum(cdf[seg] - lo, 1e-300)
    return starts[seg] + within * lengths[seg]


class Population:
    """All groups of all cohorts, as parallel lists indexed by group id."""

    def __init__(self, scenario: Scenario, timeline: Timeline, streams: Streams):
        self.cohort_names = list(scenario.cohorts)
        self.cohorts = [scenario.cohorts[c] for c in self.cohort_names]
        self.timeline = timeline
        sizes, cohort_idx, attempts = [], [], []
        for i, (name, c) in enumerate(zip(self.cohort_names, self.cohorts)):
            s = group_sizes(c, streams(f"group_sizes/{name}"))
            horizon = scenario.hours(c.arrival.until) if c.arrival.until is not None else timeline.end
            t = first_attempts(c, scenario, horizon, streams(f"arrivals/{name}"), len(s))
            sizes.append(s)
            cohort_idx.append(np.full(len(s), i, dtype=np.int64))
            attempts.append(t)
        self.size_arr = np.concatenate(sizes) if sizes else np.zeros(0, dtype=np.int64)
        self.cohort_arr = np.concatenate(cohort_idx) if cohort_idx else np.zeros(0, dtype=np.int64)
        self.first_attempt = np.concatenate(attempts) if attempts else np.zeros(0)
        n = len(self.size_arr)
        self.n_groups = n
        self.size: list[int] = self.size_arr.tolist()
        self.cohort: list[int] = self.cohort_arr.tolist()
        self.status: list[int] = [Status.NOT_ARRIVED] * n
        self.priority: list[int] = [self.cohorts[c].priority for c in self.cohort]
        # one standard exponential per group: its screening difficulty, kept across retries
        self.screen_e: list[float] = streams("screening").standard_exponential(n).tolist()
        self.screen_z: list[float] = streams("screening_lognormal").standard_normal(n).tolist()
        self.patience = DrawBuffer(streams("patience"), "exponential")
        self.retry_delay = DrawBuffer(streams("retry_delay"), "exponential")
        self.retry_u = DrawBuffer(streams("retry_decision"))
        self.access_u = DrawBuffer(streams("access"))
        self.choice_u = DrawBuffer(streams("gate_choice"))
        self._curfew = [
            (
                c.arrival.curfew_factor,
                c.arrival.curfew_start_hour,
                c.arrival.curfew_end_hour,
                scenario.hours(c.arrival.curfew_until) if c.arrival.curfew_until is not None else math.inf,
            )
            for c in self.cohorts
        ]

    def access_vector(self, cohort: int, t: np.ndarray) -> np.ndarray:
        """:meth:`access` for many attempt times of one cohort at once."""
        factor, start, end, until = self._curfew[cohort]
        f = np.ones(len(t))
        for a, b, v in self.timeline.arrival_factors.get(self.cohort_names[cohort], ()):
            f[(t >= a) & (t < b)] *= v
        if factor < 1.0:
            hour = (self.timeline.start_hour_of_day + t) % 24.0
            night = (hour >= start) | (hour < end) if start > end else (hour >= start) & (hour < end)
            f[night & (t < until)] *= factor
        return f

    def reach_gates(self, streams: Streams, horizon: float) -> np.ndarray:
        """When each family first reaches a gate (``inf``: never, before ``horizon``).

        On the way, an attempt gets through with the cohort's access factor at that time
        (curfew, checkpoints); a family turned back tries again with the cohort's retry
        probability after an exponential delay. None of this depends on the state of the
        airfield, so it is drawn for all families at once, before the run.
        """
        gen_u, gen_r, gen_d = streams("access"), streams("access_retry"), streams("access_retry_delay")
        t = self.first_attempt.copy()
        reached = np.full(len(t), np.inf)
        retry_p = np.array([c.patience.retry_probability for c in self.cohorts])
        retry_h = np.array([c.patience.retry_after_hours for c in self.cohorts])
        alive = np.flatnonzero(t < horizon)
        while len(alive):
            f = np.empty(len(alive))
            coh = self.cohort_arr[alive]
            for c in np.unique(coh):
                sel = coh == c
                f[sel] = self.access_vector(int(c), t[alive[sel]])
            ok = gen_u.random(len(alive)) < f
            reached[alive[ok]] = t[alive[ok]]
            failed = alive[~ok]
            again = gen_r.random(len(failed)) < retry_p[self.cohort_arr[failed]]
            t[failed] = t[failed] + gen_d.standard_exponential(len(failed)) * retry_h[self.cohort_arr[failed]]
            alive = failed[again & (t[failed] < horizon)]
        return reached

    def people(self) -> int:
        return int(self.size_arr.sum())

    def access(self, cohort: int, t: float) -> float:
        """Fraction of attempts by this cohort at ``t`` that get through to the gates."""
        factor, start, end, until = self._curfew[cohort]
        f = self.timeline.access_factor(self.cohort_names[cohort], t)
        if factor < 1.0 and t < until and in_hours_window(self.timeline.hour_of_day(t), start, end):
            f *= factor
        return f

    def people_by_status(self) -> np.ndarray:
        """People by (cohort, status) as an array of shape (n_cohorts, len(Status))."""
        status = np.asarray(self.status, dtype=np.int64)
        out = np.zeros((len(self.cohorts), len(Status)), dtype=np.int64)
        np.add.at(out, (self.cohort_arr, status), self.size_arr)
        return out

    # -- status changes after the gates: the population is the only writer of ``status`` -------
    def admit_to_holding(self, group: int) -> None:
        """A screened family enters the holding area."""
        self.status[group] = Status.HOLDING

    def board(self, groups: list[int]) -> None:
        """Families walk onto an aircraft that is still on the ground."""
        status = self.status
        for g in groups:
            status[g] = Status.BOARDED

    def fly(self, groups: tuple[int, ...] | list[int]) -> int:
        """Families on an aircraft that took off; returns the people aboard."""
        status, size = self.status, self.size
        n = 0
        for g in groups:
            status[g] = Status.FLOWN
            n += size[g]
        return n
