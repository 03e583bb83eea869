"""Planning goals are parsed by a grammar over the metric catalogue: known answers, refusals, and
random expressions evaluated against the same arithmetic done by the test."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.description.errors import ScenarioError
from sim.description.goals import all_hold, parse_goal, parse_goals

KNOWN = ["cohort.siv.evacuated", "cohort.siv.people", "cohort.us_citizens.stranded", "evacuated_total", "cohort.my-group.people"]
METRICS = {
    "cohort.siv.evacuated": 45_000.0,
    "cohort.siv.people": 50_000.0,
    "cohort.us_citizens.stranded": 80.0,
    "evacuated_total": 120_000.0,
    "cohort.my-group.people": 7.0,
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cohort.siv.evacuated >= 50000", False),
        ("cohort.siv.evacuated >= 45_000", True),
        ("cohort.us_citizens.stranded <= 100", True),
        ("cohort.siv.evacuated >= 0.9 * cohort.siv.people", True),  # 45,000 >= 45,000
        ("cohort.siv.evacuated > 0.9 * cohort.siv.people", False),
        ("cohort.siv.evacuated / cohort.siv.people >= 0.9", True),
        ("evacuated_total - cohort.siv.evacuated < 1e5", True),  # 75,000
        ("-(cohort.siv.people - cohort.siv.evacuated) >= -5000", True),
        ("2 + 3 * 4 >= 14", True),  # precedence: 14, not 20
        ("(2 + 3) * 4 <= 19", False),
        ("10 - 4 - 3 >= 3", True),  # left-associative: 3, not 9
        ("`cohort.my-group.people` >= 7", True),
    ],
)
def test_known_answers(text, expected):
    assert parse_goal(text, KNOWN).holds(METRICS) is expected


def test_a_division_by_zero_never_meets_a_goal():
    goal = parse_goal("cohort.siv.evacuated / cohort.siv.people >= 0", KNOWN)
    assert not goal.holds({**METRICS, "cohort.siv.people": 0.0})
    assert goal.holds(METRICS)


def test_unknown_metric_is_refused_with_the_known_names():
    with pytest.raises(ScenarioError) as e:
        parse_goal("cohort.siv.evacuatd >= 1", KNOWN)
    assert "unknown metric 'cohort.siv.evacuatd'" in str(e.value) and "cohort.siv.evacuated" in str(e.value)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true') >= 0",
        "evacuated_total",
        "evacuated_total >= ",
        ">= 1",
        "evacuated_total == 1",
        "evacuated_total >= 1 >= 0",
        "evacuated_total >= 1; 1",
        "evacuated_total ** 2 >= 1",
        "x" * 2000,
    ],
)
def test_what_is_not_a_goal_is_refused(text):
    with pytest.raises(ScenarioError):
        parse_goal(text, KNOWN + ["x" * 2000])


def test_several_goals_are_all_required_and_all_bad_ones_named():
    goals = parse_goals(["cohort.siv.evacuated >= 40000", "cohort.us_citizens.stranded <= 50"], KNOWN)
    assert not all_hold(goals, METRICS)
    assert all_hold(goals[:1], METRICS)
    with pytest.raises(ScenarioError) as e:
        parse_goals(["a >= 1", "b >= 2"], KNOWN)
    assert len(e.value.problems) == 2


# random expressions: the tree is built by the test, rendered as text, and its value computed directly
_leaf = st.one_of(
    st.integers(0, 10_000).map(lambda v: (str(v), float(v))),
    st.sampled_from(sorted(METRICS)).filter(lambda n: "-" not in n).map(lambda n: (n, METRICS[n])),
)


def _combine(children):
    def build(a, op, b):
        text = f"({a[0]} {op} {b[0]})"
        value = {"+": a[1] + b[1], "-": a[1] - b[1], "*": a[1] * b[1], "/": a[1] / b[1] if b[1] else math.nan}[op]
        return text, value

    return st.builds(build, children, st.sampled_from("+-*/"), children) | children.map(lambda a: (f"-{a[0]}", -a[1]))


@settings(max_examples=200, deadline=None)
@given(st.recursive(_leaf, _combine, max_leaves=12), st.floats(-1e9, 1e9), st.sampled_from([">=", "<=", ">", "<"]))
def test_random_expressions_evaluate_as_their_trees(expr, threshold, op):
    text, value = expr
    goal = parse_goal(f"{text} {op} {threshold!r}", KNOWN)
    left, right = goal.values(METRICS)
    assert (math.isnan(left) and math.isnan(value)) or left == pytest.approx(value, rel=1e-12, abs=1e-9)
    assert right == threshold
