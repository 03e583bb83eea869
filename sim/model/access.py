"""The way to the gates: which attempts get through, and when a family turned back gets there.

Every reason an attempt to reach the gates is turned back (``arrival_factor`` disruptions, the
cohort's night curfew) is one piecewise-constant *access factor* per cohort, built here once and
read by everything that needs it. Nothing here depends on the state of the airfield.

A family that is turned back, or gives up in a crowd, tries again with the cohort's
``retry_probability`` after an exponential delay (mean ``retry_after_hours``), and each new
attempt gets through with the access factor at that time. Because the delays are exponential,
the attempts form a Poisson process, and by thinning the family's next arrival at a gate is the
first event of two Poisson processes with piecewise-constant rates: "gets through" at rate
``f(t) / h`` and "gives up for good" at rate ``(1 - f(t)) (1 - p) / h``. The compiled
:func:`sim.model.perimeter_core.way` draws it exactly from three numbers (whether to try at all,
an exponential, and which of the two happened), however many times the family is turned back
on the way: the cost of the way does not grow with the number of attempts, and each family's
way uses its own draws. This module builds the step tables it reads (:attr:`Access.way`).

A *registered* cohort (``cohorts.<c>.registration``) makes no attempts of that kind: each family
decides once whether to travel, sets out at its first attempt time, gets through with
``(1 - turn_back_probability)`` times the access factor when it sets out, and reaches a gate
after its journey time; a family turned back does not try again (:func:`journeys`).
"""

from __future__ import annotations

import bisect
import math
from typing import NamedTuple

import numpy as np

from sim.description.evacuees import Arrival, Registration
from sim.description.scenario import Scenario
from sim.model import perimeter_core as core
from sim.model.timeline import Timeline, in_hours_window

__all__ = ["Access", "CohortAccess", "Journeys", "journeys", "journey_hours", "way_tables"]


def _factor_at(t: float, disruptions: list[tuple[float, float, float]], a: Arrival, until: float, tl: Timeline) -> float:
    """The access factor at ``t``, from its definition: every active disruption, and the curfew."""
    f = 1.0
    for lo, hi, v in disruptions:
        if lo <= t < hi:
            f *= v
    if t < until and in_hours_window(tl.hour_of_day(t), a.curfew_start_hour, a.curfew_end_hour):
        f *= a.curfew_factor
    return f


class CohortAccess:
    """One cohort's access factor and way-to-the-gates hazard on ``[0, end)``, as step tables."""

    def __init__(self, times: list[float], factors: list[float], p: float, h: float, end: float):
        self.times = times  # segment starts, times[0] == 0
        self.factors = factors  # access factor on each segment
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


def way_tables(cohorts: list[CohortAccess], end: float) -> core.Way:
    """The cohorts' step tables as the compiled way (:func:`sim.model.perimeter_core.way`) reads
    them: one row per cohort, padded (times with ``inf``, rates with 0)."""
    width = max([len(w.times) for w in cohorts] + [1])
    seg_t = np.full((len(cohorts), width), np.inf)
    seg_cum = np.full((len(cohorts), width + 1), np.inf)
    seg_rate = np.zeros((len(cohorts), width))
    seg_through = np.zeros((len(cohorts), width))
    for c, w in enumerate(cohorts):
        m = len(w.times)
        seg_t[c, :m], seg_cum[c, : m + 1], seg_rate[c, :m], seg_through[c, :m] = w.times, w.cum, w.rates, w.through
    return core.Way(
        seg_t=seg_t,
        seg_cum=seg_cum,
        seg_rate=seg_rate,
        seg_through=seg_through,
        seg_n=np.array([len(w.times) for w in cohorts], dtype=np.int64),
        retry_p=np.array([w.p for w in cohorts], dtype=float),
        end=float(end),
    )


class Access:
    """Access factors of every cohort and the way to the gates (see the module docstring)."""

    def __init__(self, scenario: Scenario, timeline: Timeline):
        end = timeline.end
        self.cohorts: list[CohortAccess] = []
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
            self.cohorts.append(CohortAccess(times, factors, c.patience.retry_probability, c.patience.retry_after_hours, end))
        self.way = way_tables(self.cohorts, end)
        """The way's step tables, for the compiled way (:func:`sim.model.perimeter_core.way`)."""

    def factor(self, cohort: int, t: float) -> float:
        """Fraction of attempts by this cohort at ``t`` that get through to the gates."""
        return self.cohorts[cohort].factor(t)

    def factor_vector(self, cohort: int, t: np.ndarray) -> np.ndarray:
        """:meth:`factor` for many times at once."""
        return self.cohorts[cohort].factor_vector(t)


class Journeys(NamedTuple):
    """What became of the families of a registered cohort on their way to the gates."""

    reached: np.ndarray  # when each reached a gate; inf: not before the end
    did_not_travel: np.ndarray  # bool: chose not to set out
    turned_back: np.ndarray  # bool: set out before the end and turned back for good


def journey_hours(reg: Registration, z: np.ndarray) -> np.ndarray:
    """Journey times from standard normal draws ``z``: exactly ``travel_hours`` when ``travel_cv``
    is 0, else lognormal with mean ``travel_hours`` and that coefficient of variation."""
    if reg.travel_cv == 0 or reg.travel_hours == 0:
        return np.full(len(z), reg.travel_hours)
    sigma = math.sqrt(math.log1p(reg.travel_cv**2))
    return np.exp(math.log(reg.travel_hours) - sigma**2 / 2 + sigma * np.asarray(z, dtype=float))


def journeys(
    reg: Registration,
    set_out: np.ndarray,
    factor: np.ndarray,
    draws: tuple[np.ndarray, np.ndarray, np.ndarray],
    end: float,
) -> Journeys:
    """The journeys of a registered cohort's families that would set out at ``set_out`` (hours),
    the cohort's access factor being ``factor`` then, with each family's own draws (``u_travel``
    and ``u_through`` uniform on [0, 1), ``z`` standard normal): it travels if
    ``u_travel < travel_probability``; one that sets out before ``end`` gets through if
    ``u_through < (1 - turn_back_probability) * factor``, and reaches a gate after its
    :func:`journey_hours`. A family setting out or arriving at ``end`` or later never reaches a
    gate (it is neither turned back nor counted as not travelling)."""
    u_travel, u_through, z = draws
    travels = u_travel < reg.travel_probability
    left = travels & (set_out < end)
    through = u_through < (1.0 - reg.turn_back_probability) * factor
    reached = np.where(left & through, set_out + journey_hours(reg, z), np.inf)
    reached[reached >= end] = np.inf
    return Journeys(reached=reached, did_not_travel=~travels, turned_back=left & ~through)
