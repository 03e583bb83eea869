"""Evacuee cohorts as data: families (groups) with sizes, first attempt times and random draws.

People are never SimPy processes. Each cohort becomes arrays of groups whose sizes add up to the
cohort exactly; each group's first attempt to reach the gates is drawn from the cohort's
arrival profile (for a registered cohort, the time it would set out; whether it travels and how
its journey ends are drawn from streams of their own, :func:`registration_draws`). Group state
(where each group is) lives in arrays owned by :class:`Population`; its methods write every
status change, except the two the compiled perimeter and holding area make on its behalf, in its
``status`` array, inside their loop: entering the holding area and boarding (see
:mod:`sim.model.perimeter_core`).
"""

from __future__ import annotations

import math

import numpy as np

from sim.description.evacuees import Cohort
from sim.description.scenario import Scenario
from sim.model import perimeter_core as core
from sim.model.access import Access, journeys
from sim.model.records import Status
from sim.model.streams import Streams, VisitDraws
from sim.model.timeline import Timeline

__all__ = ["Population", "Status"]

_FLOWN = int(Status.FLOWN)


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


def registration_draws(name: str, streams: Streams, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A registered cohort's ``n`` families' draws for their journeys, each decision from a stream
    of its own and of the cohort's (so that no other stream, nor another cohort's draws, shift):
    whether it travels and whether it gets through (uniform), and its journey time (standard normal)."""
    return (
        streams(f"registration_travel/{name}").random(n),
        streams(f"registration_through/{name}").random(n),
        streams(f"registration_journey/{name}").standard_normal(n),
    )


class Population:
    """All groups of all cohorts, as parallel lists indexed by group id."""

    def __init__(self, scenario: Scenario, timeline: Timeline, streams: Streams):
        self.cohort_names = list(scenario.cohorts)
        self.cohorts = [scenario.cohorts[c] for c in self.cohort_names]
        self.timeline = timeline
        sizes, cohort_idx, attempts = [], [], []
        # per registered cohort (by index), its families' draws for the way (registration_draws)
        self.journey_draws: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for i, (name, c) in enumerate(zip(self.cohort_names, self.cohorts)):
            s = group_sizes(c, streams(f"group_sizes/{name}"))
            horizon = scenario.hours(c.arrival.until) if c.arrival.until is not None else timeline.end
            t = first_attempts(c, scenario, horizon, streams(f"arrivals/{name}"), len(s))
            if c.registration is not None:
                self.journey_draws[i] = registration_draws(name, streams, len(s))
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
        self.status: np.ndarray = np.full(n, int(Status.NOT_ARRIVED), dtype=np.int64)
        # one standard exponential per group: its screening difficulty, kept across retries
        self.screen_e: np.ndarray = streams("screening").standard_exponential(n)
        self.screen_z: np.ndarray = streams("screening_lognormal").standard_normal(n)
        # every decision a family takes has its own stream, indexed by the family and its visit
        # to the gates, so that what happens to one family never shifts another's draws
        self.access_u: np.ndarray = streams("access").random(n)  # its first attempt gets through?
        # a family visits the gates at most max_attempts times; its way back after the last is drawn too
        rows = max([c.patience.max_attempts for c in self.cohorts] + [1]) + 1
        self.visit_draws = VisitDraws(
            streams,
            n,
            [
                ("gate_choice", "uniform"),
                ("patience", "exponential"),
                ("way_retry", "uniform"),
                ("way_time", "exponential"),
                ("way_through", "uniform"),
            ],
            rows,
        )
        self.way_retry = self.visit_draws["way_retry"]
        self.way_time = self.visit_draws["way_time"]
        self.way_through = self.visit_draws["way_through"]
        self.access = Access(scenario, timeline)

    def reach_gates(self, horizon: float) -> np.ndarray:
        """When each family first reaches a gate (``inf``: never, before ``horizon``).

        On the way, the first attempt gets through with the cohort's access factor at that time
        (curfew, checkpoints); a family turned back tries again (see :mod:`sim.model.access`,
        with its draws for visit 0). A registered cohort's families travel or not, and turn back
        for good or arrive after their journey (:meth:`_journeys`). None of this depends on the
        state of the airfield, so it is drawn for all families at once, before the run.
        """
        t = self.first_attempt
        reached = np.full(len(t), np.inf)
        turned = []
        for c in range(len(self.cohorts)):
            if c in self.journey_draws:
                self._journeys(c, horizon, reached)
                continue
            sel = np.flatnonzero((self.cohort_arr == c) & (t < horizon))
            through = self.access_u[sel] < self.access.factor_vector(c, t[sel])
            reached[sel[through]] = t[sel[through]]
            turned.append(sel[~through])
        back = np.concatenate(turned) if turned else np.zeros(0, dtype=np.int64)
        draws = (self.way_retry(0)[back], self.way_time(0)[back], self.way_through(0)[back])
        args = (self.access.way, self.cohort_arr[back], t[back], *draws, np.empty(len(back)))
        core.direct(core.ways, *args)(*args)
        reached[back] = args[-1]
        reached[reached >= horizon] = np.inf
        return reached

    def _journeys(self, c: int, horizon: float, reached: np.ndarray) -> None:
        """Registered cohort ``c``'s journeys (:func:`sim.model.access.journeys`): when its families
        reach a gate, into ``reached``; those that did not travel or turned back for good get that
        status, their final one (nothing later changes it)."""
        sel = np.flatnonzero(self.cohort_arr == c)
        registration = self.cohorts[c].registration
        assert registration is not None
        set_out = self.first_attempt[sel]
        way = journeys(registration, set_out, self.access.factor_vector(c, set_out), self.journey_draws[c], horizon)
        reached[sel] = way.reached
        self.status[sel[way.did_not_travel]] = int(Status.DID_NOT_TRAVEL)
        self.status[sel[way.turned_back]] = int(Status.TURNED_BACK)

    def people(self) -> int:
        return int(self.size_arr.sum())

    def people_by_status(self) -> np.ndarray:
        """People by (cohort, status) as an array of shape (n_cohorts, len(Status))."""
        out = np.zeros((len(self.cohorts), len(Status)), dtype=np.int64)
        np.add.at(out, (self.cohort_arr, self.status), self.size_arr)
        return out

    # -- status changes after the gates (entering the holding area and boarding are written
    # -- by the compiled holding area, see the module docstring) --------------------------
    def fly(self, groups: tuple[int, ...] | list[int]) -> int:
        """Families on an aircraft that took off; returns the people aboard."""
        if not groups:
            return 0
        flown = np.fromiter(groups, np.int64, len(groups))
        self.status[flown] = _FLOWN
        return int(self.size_arr[flown].sum())

    def outside_at_end(self, in_crowd: np.ndarray, gave_up: np.ndarray, screening: np.ndarray) -> None:
        """Where the families still outside the airfield are when the airport closes (the
        perimeter says): in a gate crowd, given up, or in a screening lane."""
        for groups, where in ((in_crowd, Status.IN_CROWD), (gave_up, Status.GAVE_UP), (screening, Status.SCREENING)):
            self.status[groups] = int(where)
