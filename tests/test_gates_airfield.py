"""Gates and the holding area: scripted timelines, priority, eligibility, capacity, Erlang C."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from sim.model import perimeter_core as core
from sim.model.holding import Holding
from sim.model.perimeter import Perimeter
from sim.model.population import Population
from sim.model.records import Records, Status
from sim.model.streams import Streams
from sim.model.timeline import Timeline

H = 1 / 6  # ten minutes of screening


def one_gate(small, closed=(), holding=1000, lanes=1, afghans=6):
    o = {
        "gates": {
            "abbey": {
                "lanes": lanes,
                "screening_base_min": 10,
                "screening_per_person_min": 0,
                "screening_distribution": "fixed",
                "closed": list(closed),
            }
        },
        "cohorts.us_citizens.people": 6,
        "cohorts.afghans.people": afghans,
        "cohorts.us_citizens.group_size": {"distribution": "categorical", "sizes": [2], "weights": [1]},
        "cohorts.afghans.group_size": {"distribution": "categorical", "sizes": [2], "weights": [1]},
        "cohorts.afghans.arrival.curfew_factor": 1.0,
        "cohorts.us_citizens.patience.mean_hours": 1e6,
        "cohorts.afghans.patience.mean_hours": 1e6,
        "airfield.holding_capacity_people": holding,
    }
    s = small.with_overrides(o)
    tl = Timeline.from_scenario(s)
    pop = Population(s, tl, Streams(1, 0))
    # groups 0-2 are US citizens (priority 1), 3-5 Afghans (priority 2); with more Afghans, nobody comes
    if afghans == 6:
        pop.first_attempt = np.array([1.0, 1.05, 1.3, 0.95, 1.01, 1.02])
    else:
        pop.first_attempt = np.full(pop.n_groups, np.inf)
    rec = Records()
    perimeter = Perimeter(s, tl, pop, rec)
    hold = Holding(perimeter, rec)
    return perimeter, pop, hold, rec


def starts(rec):
    return [(round(t, 4), cohort) for t, _, _, _, cohort in rec.screened]


def test_gate_serves_priority_then_first_come(small):
    per, pop, hold, rec = one_gate(small)
    per.advance_to(10.0)
    assert starts(rec) == [
        (0.95, 1),
        (round(0.95 + H, 4), 0),
        (round(0.95 + 2 * H, 4), 0),
        (round(0.95 + 3 * H, 4), 0),
        (round(0.95 + 4 * H, 4), 1),
        (round(0.95 + 5 * H, 4), 1),
    ]
    # waits are exact: the US citizen who came at 1.0 waited until 0.95 + 10 min
    assert rec.screened[1][1] == pytest.approx(0.95 + H - 1.0)
    assert hold.people_inside == 12 and all(s == Status.HOLDING for s in pop.status)


def test_closed_gate_admits_nobody(small):
    closed = [{"start": "2021-08-14T01:00:00+04:30", "end": "2021-08-14T02:00:00+04:30"}]
    per, pop, hold, rec = one_gate(small, closed=closed)
    per.advance_to(10.0)
    times = [t for t, *_ in rec.screened]
    assert not any(1.0 <= t < 2.0 for t in times)
    assert times == pytest.approx([0.95, 2.0, 2.0 + H, 2.0 + 2 * H, 2.0 + 3 * H, 2.0 + 4 * H])


def test_full_holding_blocks_gates_and_boarding_reopens_them(small):
    per, pop, hold, rec = one_gate(small, holding=4)
    per.advance_to(5.0)
    assert len(rec.screened) == 2  # 2 families of 2 fill the area; the gate waits
    assert hold.people_inside == 4 and per.blocked_gates() == 1
    taken, _, _ = hold.board(5.0, cohorts=[0, 1], seats=2)
    assert [pop.cohort[g] for g in taken] == [0]  # priority first
    assert len(rec.screened) == 3  # the freed room restarted the gate at once, inside boarding
    per.advance_to(5.0)
    assert rec.screened[2][0] == pytest.approx(5.0)
    assert hold.people_inside + hold.reserved <= 4 and hold.peak_people == 4


def test_the_holding_area_records_the_stops_of_the_gates_it_filled_as_they_happen(small):
    """A stop begins when a free lane finds no room for the next family and ends when boarding
    frees room for it; boarding that frees too little leaves the same stop going on."""
    per, pop, hold, rec = one_gate(small, holding=4)
    per.advance_to(5.0)
    full = 0.95 + 2 * H  # the second family entered the area; the third may not start
    assert rec.gate_stops == [] and per.blocked_gates() == 1
    assert hold.board(4.5, cohorts=[0, 1], seats=1) == ([], 0, True)  # families of 2: nobody boards, the stop goes on
    assert rec.gate_stops == [] and per.blocked_gates() == 1
    taken, people, _ = hold.board(5.0, cohorts=[0, 1], seats=2)
    assert people == 2 and len(rec.gate_stops) == 1
    (stop,) = rec.gate_stops
    assert stop.gate == 0 and stop.start == pytest.approx(full) and stop.end == 5.0
    per.advance_to(10.0)  # the restarted family is screened at 5 + H: the gate stops again
    hold.settle(10.0)
    assert [(round(s.start, 6), s.end) for s in rec.gate_stops[1:]] == [(round(5.0 + H, 6), 10.0)]
    assert rec.wait_hours()["holding"] == pytest.approx((5.0 - full) + (10.0 - 5.0 - H))
    cumulative = rec.gate_hours_stopped(np.array([0.0, 1.0, 2.0, 5.0, 6.0, 10.0]))
    assert cumulative == pytest.approx([0.0, 0.0, 2.0 - full, 5.0 - full, 5.0 - full + 1.0 - H, 5.0 - full + 5.0 - H])


def test_boarding_respects_priority_and_eligibility(small):
    per, pop, hold, rec = one_gate(small)
    per.advance_to(10.0)
    # an operator allowed to carry only Afghans (cohort 1) takes none of the US citizens
    taken, _, more = hold.board(10.0, cohorts=[1], seats=100)
    assert sorted(taken) == [3, 4, 5] and not more and hold.ready(10.0, hold.cohort_set([0]))
    # whole families only: 3 seats take one family of 2
    taken, _, more = hold.board(10.0, cohorts=[0], seats=3)
    assert len(taken) == 1 and pop.size[taken[0]] == 2 and more
    assert hold.people_inside == 4


def test_boarding_takes_whole_families_in_order_and_looks_at_most_eight_past_one_too_big(small):
    """The compiled boarding: first come first served within a cohort; past a family too big
    for the seats left, the next FIT_SCAN (8) families are looked at, not the ninth."""
    per, pop, hold, rec = one_gate(small, afghans=24)  # families 0-2: US citizens; 3-14: Afghans
    st = per.state
    sizes = {3: 5, **dict.fromkeys(range(4, 12), 4), 12: 1, 13: 2, 14: 2}
    for g, n in sizes.items():
        st.fam_i[g, core.SIZE] = n
        st.status[g] = Status.HOLDING
        core._append(st.fam_i, st.q_head, st.q_tail, st.hold_q + 1, g)
    st.counters[core.INSIDE_PEOPLE] = sum(sizes.values())
    # the family of 1 is the ninth past the head: not seen, so nobody boards
    assert hold.board(0.0, cohorts=[1], seats=3) == ([], 0, True)
    st.fam_i[11, core.SIZE] = 3  # the eighth past the head now fits
    assert hold.board(0.0, cohorts=[1], seats=3) == ([11], 3, True)
    # in order: the head (5), the next (4), then past a 4 the family of 1
    assert hold.board(0.0, cohorts=[0, 1], seats=10) == ([3, 4, 12], 10, True)
    assert [int(pop.status[g]) for g in (3, 4, 11, 12, 5)] == [Status.BOARDED] * 4 + [Status.HOLDING]
    assert hold.people_inside == sum(sizes.values()) - 3 - 10
    with pytest.raises(ValueError, match="2 cohorts"):
        hold.board(0.0, cohorts=[2], seats=1)


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    a = lam / mu
    top = a**c / math.factorial(c) * c / (c - a)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


@pytest.mark.slow
def test_gate_as_mmc_matches_erlang_c(small):
    """Poisson arrivals, exponential screening, c lanes, no closures, room for all: M/M/c."""
    lam, mu, c, hours = 24.0, 10.0, 3, 200.0
    o = {
        "gates": {
            "abbey": {
                "lanes": c,
                "screening_base_min": 60 / mu,
                "screening_per_person_min": 0,
                "screening_distribution": "exponential",
            }
        },
        "cohorts": {
            "afghans": {
                "people": int(lam * hours),
                "priority": 1,
                "group_size": {"distribution": "categorical", "sizes": [1], "weights": [1]},
                "arrival": {"profile": [[0, 1.0]], "until": hours / 24},
                "patience": {"mean_hours": 1e9},
            }
        },
        "retrograde.troops": 0,
        "fleets.us_c17.count": 0,
        "fleets.de_a400m.count": 0,
        "airfield.holding_capacity_people": 10**7,
        "disruptions": [],
        "security.end": hours / 24 + 2,
        "security.gate_close_lead_hours": 0,
    }
    s = small.with_overrides(o)
    result = sim.run(s, replications=40, seed=7)
    stats = result.metrics["gate_wait_mean_hours"]
    expected = erlang_c_wait(lam, mu, c)
    # the Erlang C mean wait lies in the 95% interval of the replication means
    assert stats["ci95_low"] <= expected <= stats["ci95_high"], (stats["mean"], expected)
    # and the interval is tight enough for the check to mean something (±10%)
    assert stats["ci95_high"] - stats["ci95_low"] < 0.2 * expected
