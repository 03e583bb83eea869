"""The way to the gates: which attempts get through, and when a family turned back gets there.

Every reason an attempt to reach the gates is turned back (``arrival_factor`` disruptions, the
cohort's night curfew) is one piecewise-constant *access factor* per cohort, built here once and
read by everything that needs it. Nothing here depends on the state of the airfield.

A family that is turned back, or gives up in a crowd, tries again with the cohort's
``retry_probability`` after an exponential delay (mean ``retry_after_hours``), and each new
attempt gets through with the access factor at that time. Because the delays are exponential,
the attempts form a Poisson process, and by thinning the family's next arrival at a gate is the
first event of two Poisson processes with piecewise-constant rates: "gets through" at rate
``f(t) / h`` and "gives up for good" at rate ``(1 - f(t)) (1 - p) / h``. :meth:`Access.way`
draws it exactly from three numbers (whether to try at all, an exponential, and which of the
two happened), however many times the family is turned back on the way: the cost of the way
does not grow with the number of attempts, and each family's way uses its own draws.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from sim.description.evacuees import Arrival
from sim.description.scenario import Scenario
from sim.model.timeline import Timeline, in_hours_window

__all__ = ["Access"]


def _factor_at(t: float, disruptions: list[tuple[float, float, float]], a: Arrival, until: float, tl: Timeline) -> float:
    """The access factor at ``t``, from its definition: every active disruption, and the curfew."""
    f = 1.0
    for lo, hi, v in disruptions:
        if lo <= t < hi:
            f *= v
    if t < until and in_hours_window(tl.hour_of_day(t), a.curfew_start_hour, a.curfew_end_hour):
        f *= a.curfew_factor
    return f


class _CohortAccess:
    """One cohort's access factor and way-to-the-gates hazard on ``[0, end)``, as step tables."""

    def __init__(self, times: list[float], factors: list[float], p: float, h: float, end: float):
        self.times = times  # segment starts, times[0] == 0
        self.factors = factors  # access factor on each segment
        self.end = end
        self.p = p
        # rate of "the way ends" (through or given up for good) on each segment, and the
        # chance that it ended with the family at a gate
        self.rates = [(f + (1.0 - f) * (1.0 - p)) / h for f in factors]
        self.through = [f / (f + (1.0 - f) * (1.0 - p)) if f + (1.0 - f) * (1.0 - p) > 0 else 0.0 for f in factors]
        bounds = [*times[1:], end]
        cum = [0.0]
        for a, b, r in zip(times, bounds, self.rates, strict=True):
            cum.append(cum[-1] + r * (b - a))
        self.cum = cum  # cumulative hazard at each segment start, then at ``end``
        self._times_arr = np.asarray(times)
        self._factors_arr = np.asarray(factors)

    def factor(self, t: float) -> float:
        return self.factors[max(bisect.bisect_right(self.times, t) - 1, 0)]

    def factor_vector(self, t: np.ndarray) -> np.ndarray:
        i = np.maximum(np.searchsorted(self._times_arr, t, side="right") - 1, 0)
        return self._factors_arr[i]

    def way(self, t0: float, u_retry: float, e: float, u_through: float) -> float:
        """When a family that left at ``t0`` next reaches a gate (``inf``: not before the end)."""
        if u_retry >= self.p or t0 >= self.end:
            return math.inf
        times, cum = self.times, self.cum
        i = max(bisect.bisect_right(times, t0) - 1, 0)
        target = cum[i] + self.rates[i] * (t0 - times[i]) + e
        j = bisect.bisect_right(cum, target) - 1
        if j >= len(times):
            return math.inf
        if u_through >= self.through[j]:
            return math.inf  # turned back one time too many: gave up for good
        return max(times[j] + (target - cum[j]) / self.rates[j], t0)

    def way_vector(self, t0: np.ndarray, u_retry: np.ndarray, e: np.ndarray, u_through: np.ndarray) -> np.ndarray:
        """:meth:`way` for many families at once."""
        times, cum, rates = self._times_arr, np.asarray(self.cum), np.asarray(self.rates)
        through = np.asarray(self.through)
        out = np.full(len(t0), np.inf)
        go = (u_retry < self.p) & (t0 < self.end)
        t, e_go, u_go = t0[go], e[go], u_through[go]
        i = np.maximum(np.searchsorted(times, t, side="right") - 1, 0)
        target = cum[i] + rates[i] * (t - times[i]) + e_go
        j = np.searchsorted(cum, target, side="right") - 1
        inside = j < len(times)
        jj = np.minimum(j, len(times) - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            when = np.maximum(times[jj] + (target - cum[jj]) / rates[jj], t)
        ok = inside & (u_go < through[jj])
        out[np.flatnonzero(go)[ok]] = when[ok]
        return out


class Access:
    """Access factors of every cohort and the way to the gates (see the module docstring)."""

    def __init__(self, scenario: Scenario, timeline: Timeline):
        end = timeline.end
        self.cohorts: list[_CohortAccess] = []
        for name, c in scenario.cohorts.items():
            a = c.arrival
            until = min(scenario.hours(a.curfew_until) if a.curfew_until is not None else math.inf, end)
            disruptions = timeline.arrival_factors.get(name, [])
            edges = {0.0} | {x for lo, hi, _ in disruptions for x in (lo, hi) if 0.0 < x < end}
            if a.curfew_factor < 1.0 and until > 0:
                if until < end:
                    edges.add(until)
                for hour in (a.curfew_start_hour, a.curfew_end_hour):
                    t = (hour - timeline.start_hour_of_day) % 24.0
                    while t < until:
                        if t > 0:
                            edges.add(t)
                        t += 24.0
            times = sorted(edges)
            bounds = [*times[1:], end]

            factors = [_factor_at((lo + hi) / 2, disruptions, a, until, timeline) for lo, hi in zip(times, bounds, strict=True)]
            self.cohorts.append(_CohortAccess(times, factors, c.patience.retry_probability, c.patience.retry_after_hours, end))

    def factor(self, cohort: int, t: float) -> float:
        """Fraction of attempts by this cohort at ``t`` that get through to the gates."""
        return self.cohorts[cohort].factor(t)

    def factor_vector(self, cohort: int, t: np.ndarray) -> np.ndarray:
        """:meth:`factor` for many times at once."""
        return self.cohorts[cohort].factor_vector(t)

    def way(self, cohort: int, t0: float, u_retry: float, e: float, u_through: float) -> float:
        """When a family of ``cohort`` that left (or was turned back) at ``t0`` next reaches a gate.

        ``u_retry`` and ``u_through`` are uniform, ``e`` standard exponential: the family's own
        draws for this way. ``inf``: it does not reach a gate before the security end.
        """
        return self.cohorts[cohort].way(t0, u_retry, e, u_through)
