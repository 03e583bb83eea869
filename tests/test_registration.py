"""Registration-driven demand (``cohorts.<c>.registration``): who travels, who turns back, when the
others reach a gate, and that every person ends in exactly one final status.

Known answers: the journey of hand-made families (:func:`sim.model.access.journeys`); a cohort
that does not travel at all; a cohort that all travels and never turns back, which must be the same
run, record for record, as a crowd cohort whose arrival profile is shifted by the journey time; the
shares that do not travel and turn back against their probabilities, within binomial confidence
intervals (fixed seeds), also where an ``arrival_factor`` disruption changes them for a while.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import sim
from sim.description.errors import ScenarioError
from sim.description.evacuees import Registration
from sim.model.access import journey_hours, journeys
from sim.model.population import Population
from sim.model.records import Status
from sim.model.streams import Streams
from sim.model.timeline import Timeline
from sim.model.world import World

from .record_checks import check_all

CONFIDENCE = 0.999
"""Level of the binomial intervals the shares are checked against (fixed seeds: deterministic)."""


def registered(small: sim.Scenario, **keys: object) -> sim.Scenario:
    """The small scenario with the Afghans registered (``keys`` as the registration table), no curfew."""
    overrides: dict[str, object] = {f"cohorts.afghans.registration.{k}": v for k, v in keys.items()}
    overrides["cohorts.afghans.arrival.curfew_factor"] = 1.0
    return small.with_overrides(overrides)


def run(s: sim.Scenario, seed: int = 3) -> World:
    w = World(s, seed, 0)
    w.run()
    return w


def population(s: sim.Scenario, seed: int = 5) -> tuple[Population, np.ndarray]:
    """The population of ``s`` and when each family reaches a gate (its journeys decided)."""
    tl = Timeline.from_scenario(s)
    pop = Population(s, tl, Streams(seed, 0))
    return pop, pop.reach_gates(tl.end)


def contains(successes: int, trials: int, p: float) -> bool:
    """Whether ``p`` lies in the exact binomial interval of ``successes`` in ``trials``."""
    ci = stats.binomtest(successes, trials, p).proportion_ci(confidence_level=CONFIDENCE)
    return bool(ci.low <= p <= ci.high)


# -- the journey of hand-made families ------------------------------------------------------


def test_journeys_of_hand_made_families():
    reg = Registration(travel_probability=0.5, turn_back_probability=0.25, travel_hours=3.0)
    set_out = np.array([1.0, 2.0, 3.0, 4.0, 50.0, 46.0])
    factor = np.array([1.0, 1.0, 0.5, 1.0, 1.0, 1.0])
    u_travel = np.array([0.1, 0.6, 0.2, 0.3, 0.1, 0.4])
    u_through = np.array([0.7, 0.0, 0.4, 0.8, 0.0, 0.1])
    way = journeys(reg, set_out, factor, (u_travel, u_through, np.zeros(6)), end=48.0)
    # 0: travels, 0.7 < 0.75 gets through, at a gate at 1 + 3; 1: does not travel (0.6 >= 0.5);
    # 2: 0.4 >= 0.75 * 0.5 (the access factor halves the chance): turned back; 3: 0.8 >= 0.75:
    # turned back; 4: would set out after the end; 5: on its way when the airport closes (46 + 3 > 48)
    assert way.reached.tolist() == [4.0, math.inf, math.inf, math.inf, math.inf, math.inf]
    assert way.did_not_travel.tolist() == [False, True, False, False, False, False]
    assert way.turned_back.tolist() == [False, False, True, True, False, False]


def test_journey_hours_fixed_and_lognormal():
    assert journey_hours(Registration(travel_hours=6.0), np.array([-2.0, 0.0, 3.0])).tolist() == [6.0, 6.0, 6.0]
    assert journey_hours(Registration(travel_hours=0.0, travel_cv=1.0), np.array([1.0])).tolist() == [0.0]
    reg = Registration(travel_hours=6.0, travel_cv=0.5)
    # the median of a lognormal with mean 6 and CV 0.5 is 6 / sqrt(1 + 0.25)
    assert journey_hours(reg, np.array([0.0]))[0] == pytest.approx(6.0 / math.sqrt(1.25), rel=1e-12)
    hours = journey_hours(reg, np.random.default_rng(11).standard_normal(200_000))
    se = 6.0 * 0.5 / math.sqrt(len(hours))
    assert abs(hours.mean() - 6.0) < 4 * se
    assert hours.std() / hours.mean() == pytest.approx(0.5, rel=0.02)


# -- the scenario keys -------------------------------------------------------------------------


def test_registration_keys_are_checked(small):
    s = registered(small, travel_probability=0.7, turn_back_probability=0.1, travel_hours=6, travel_cv=0.3)
    assert s.cohorts["afghans"].registration == Registration(
        travel_probability=0.7, turn_back_probability=0.1, travel_hours=6.0, travel_cv=0.3
    )
    assert small.cohorts["afghans"].registration is None
    for key, value, words in (
        ("travel_probability", 1.5, "less than or equal to 1"),
        ("turn_back_probability", -0.1, "greater than or equal to 0"),
        ("travel_hours", -1, "greater than or equal to 0"),
        ("travel_cv", 11, "less than or equal to 10"),
        ("walk_hours", 2, "unknown key 'walk_hours'"),
    ):
        with pytest.raises(ScenarioError) as e:
            small.with_overrides({f"cohorts.afghans.registration.{key}": value})
        assert any(f"registration.{key}" in where or f"'{key}'" in problem for where, problem in e.value.problems), key
        assert words in str(e.value), key


# -- known answers of whole runs -------------------------------------------------------------------


def test_nobody_travels_nobody_arrives(small):
    w = run(registered(small, travel_probability=0.0, travel_hours=2))
    m = w.summary()["metrics"]
    assert m["cohort.afghans.did_not_travel"] == m["did_not_travel_total"] == 8000
    for key in ("evacuated", "stranded", "stranded_never_arrived", "stranded_turned_back", "stranded_at_gates"):
        assert m[f"cohort.afghans.{key}"] == 0, key
    afghans = list(w.scenario.cohorts).index("afghans")
    assert afghans not in w.records.screened.column("cohort").tolist()  # nobody in a gate crowd
    assert set(w.population.status[w.population.cohort_arr == afghans].tolist()) == {int(Status.DID_NOT_TRAVEL)}
    # the US citizens are as without the Afghans' choice
    assert m["stranded_total"] == m["population_total"] - m["evacuated_total"] - 8000
    assert m["cohort.us_citizens.evacuated"] > 0


def test_everyone_travels_is_a_crowd_shifted_by_the_journey(small):
    """All travel, nobody turns back, a fixed 6-hour journey: the same run, record for record, as
    crowd cohorts whose arrival profile and end of arrivals are 6 hours (0.25 day) later."""
    one_step = {"cohorts.afghans.arrival.profile": [[0, 1.0]], "cohorts.afghans.arrival.until": 1.5}
    base = small.with_overrides(one_step)
    travelling = registered(base, travel_probability=1.0, turn_back_probability=0.0, travel_hours=6.0)
    crowd = base.with_overrides(
        {
            "cohorts.afghans.arrival.profile": [[0.25, 1.0]],
            "cohorts.afghans.arrival.until": 1.75,
            "cohorts.afghans.arrival.curfew_factor": 1.0,
        }
    )
    a, b = run(travelling), run(crowd)
    assert a.summary()["metrics"] == b.summary()["metrics"]
    for field in ("departures", "movements", "boardings", "arrivals", "waits", "gate_stops"):
        assert getattr(a.records, field) == getattr(b.records, field), field
    assert list(a.records.screened) == list(b.records.screened)
    assert a.population.status.tolist() == b.population.status.tolist()
    # not a trivial agreement: Afghans were flown, and they set out 6 hours before they reached a gate
    assert a.summary()["metrics"]["cohort.afghans.evacuated"] > 0
    pop, reached = population(travelling)
    afghans = np.flatnonzero((pop.cohort_arr == 1) & np.isfinite(reached))
    assert len(afghans) > 100
    assert reached[afghans] == pytest.approx(pop.first_attempt[afghans] + 6.0, abs=1e-9)


def test_shares_match_their_probabilities(small):
    """Of many one-person families: those not travelling ~ Binomial(n, 1 - 0.7); of those who set
    out, those turned back ~ Binomial(travellers, 0.2)."""
    s = registered(small, travel_probability=0.7, turn_back_probability=0.2, travel_hours=1.0)
    s = s.with_overrides(
        {
            "cohorts.afghans.people": 50_000,
            "cohorts.afghans.group_size": {"distribution": "categorical", "sizes": [1], "weights": [1]},
            "cohorts.afghans.arrival.until": 2.0,  # everyone would set out before the end
        }
    )
    pop, _ = population(s)
    status = pop.status[pop.cohort_arr == 1]
    n = len(status)
    stayed = int((status == Status.DID_NOT_TRAVEL).sum())
    turned = int((status == Status.TURNED_BACK).sum())
    assert n == 50_000
    assert contains(stayed, n, 0.3)
    assert contains(turned, n - stayed, 0.2)
    assert not contains(turned, n - stayed, 0.21)  # the intervals are narrow enough to tell


def test_turn_back_follows_the_access_factor_in_time(small):
    """An ``arrival_factor`` of 0.5 from day 0.5 to day 1: families setting out then get through
    with 0.8 * 0.5, the others with 0.8."""
    s = registered(small, travel_probability=1.0, turn_back_probability=0.2, travel_hours=1.0)
    s = s.with_overrides(
        {
            "cohorts.afghans.people": 40_000,
            "cohorts.afghans.group_size": {"distribution": "categorical", "sizes": [1], "weights": [1]},
            "cohorts.afghans.arrival.until": 2.0,
            "disruptions": [{"kind": "arrival_factor", "target": "afghans", "start": 0.5, "end": 1.0, "value": 0.5}],
        }
    )
    pop, _ = population(s)
    afghans = pop.cohort_arr == 1
    during = afghans & (pop.first_attempt >= 12.0) & (pop.first_attempt < 24.0)
    outside = afghans & ~during
    for where, p_back in ((during, 0.6), (outside, 0.2)):
        turned = int((pop.status[where] == Status.TURNED_BACK).sum())
        assert contains(turned, int(where.sum()), p_back), p_back


def test_everyone_ends_in_exactly_one_status(small):
    """A mixed run (registered Afghans with a lognormal journey, crowd US citizens): per cohort,
    from the families' final statuses, evacuated + every not-evacuated category = people, and the
    metrics say the same; the run's other invariants hold."""
    s = registered(small, travel_probability=0.6, turn_back_probability=0.3, travel_hours=5.0, travel_cv=0.5)
    w = run(s)
    check_all(w)
    m = w.summary()["metrics"]
    by = w.population.people_by_status()
    for i, (name, cohort) in enumerate(s.cohorts.items()):
        assert by[i].sum() == cohort.people, name
        assert m[f"cohort.{name}.evacuated"] == by[i, Status.FLOWN]
        assert m[f"cohort.{name}.did_not_travel"] == by[i, Status.DID_NOT_TRAVEL]
        assert m[f"cohort.{name}.stranded_turned_back"] == by[i, Status.TURNED_BACK]
    assert m["cohort.afghans.did_not_travel"] > 0 and m["cohort.afghans.stranded_turned_back"] > 0
    assert m["cohort.us_citizens.did_not_travel"] == m["cohort.us_citizens.stranded_turned_back"] == 0


@pytest.mark.parametrize(
    ("seed", "keys", "more"),
    [
        (1, {"travel_probability": 1.0, "travel_hours": 30.0, "travel_cv": 2.0}, {}),
        (2, {"travel_probability": 0.5, "turn_back_probability": 1.0}, {}),
        (
            3,
            {"travel_probability": 0.9, "turn_back_probability": 0.2, "travel_hours": 2.0},
            {
                "cohorts.us_citizens.registration.travel_hours": 1.0,
                "cohorts.afghans.patience.mean_hours": 0.5,
                "disruptions": [{"kind": "arrival_factor", "target": "*", "start": 0.2, "end": 0.9, "value": 0.0}],
            },
        ),
    ],
)
def test_registered_runs_keep_every_invariant(small, seed, keys, more):
    """Long spread-out journeys, everyone turning back, both cohorts registered with the roads
    closed for a while: the record checks (conservation per cohort included) hold."""
    w = run(registered(small, **keys).with_overrides(more), seed)
    check_all(w)
    m = w.summary()["metrics"]
    if keys.get("turn_back_probability") == 1.0:
        assert m["cohort.afghans.evacuated"] == m["cohort.afghans.stranded_at_gates"] == 0
        assert m["cohort.afghans.stranded_turned_back"] > 0


def test_registration_leaves_other_cohorts_draws_alone(small):
    """A registered cohort's decisions have streams of their own: the other cohort's families,
    and every family's size and first attempt, are drawn as without it."""
    plain, _ = population(small)
    reg, _ = population(registered(small, travel_probability=0.5, turn_back_probability=0.5, travel_hours=3))
    assert plain.size_arr.tolist() == reg.size_arr.tolist()
    assert plain.first_attempt.tolist() == reg.first_attempt.tolist()
    assert plain.screen_e.tolist() == reg.screen_e.tolist() and plain.access_u.tolist() == reg.access_u.tolist()


def test_registered_outcomes_are_printed_and_drawn(small, capsys):
    """The run's print and the stranded-by-cohort figure show who turned back and who did not
    travel when a cohort is registered, and nothing new otherwise."""
    from sim.cli.run import print_run
    from sim.outputs.run_figures import stranded

    s = registered(small, travel_probability=0.6, turn_back_probability=0.3, travel_hours=5.0)
    result = sim.run(s, replications=2, seed=1)
    print_run(result, None)
    out = capsys.readouterr().out
    assert "turned back on the way" in out and "did not travel" in out and "not stranded" in out
    header = next(line for line in out.splitlines() if "stranded by cohort" in line)
    assert header.rstrip().endswith("turned back  did not travel")
    labels = [t.get_text() for t in stranded(result).legends[0].get_texts()]
    assert "turned back on the way" in labels and "did not travel (not stranded)" in labels
    plain = sim.run(small, replications=2, seed=1)
    print_run(plain, None)
    assert "turned back" not in capsys.readouterr().out
    labels = [t.get_text() for t in stranded(plain).legends[0].get_texts()]
    assert labels == ["never reached the perimeter", "at the entry points", "inside the perimeter"]
