"""A plan's answer in one sentence: "Holding to 2 Sep 00:00 flies 50,000 of cohort siv with probability
0.93 (lower bound 0.90, 240 replications)", or why no candidate meets the goal.

Levers are phrased by key (``security.end`` as the local date and time the airport is held to,
any other as ``key = value``), goals by their metric where a plain phrase exists (``flies``,
``leaves at most ... stranded``), else quoted as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sim.description.scenario import Scenario

__all__ = ["lever_phrase", "levers_phrase", "goal_phrase", "choice_sentence", "refusal_sentence"]

_COMPARISON = re.compile(r"^\s*(?P<metric>[A-Za-z_][\w.]*)\s*(?P<op>>=|<=|>|<)\s*(?P<number>\d[\d_]*(\.\d*)?)\s*$")
_AT_LEAST = {">=": "", ">": "more than "}
_AT_MOST = {"<=": "at most ", "<": "fewer than "}


def _value(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}" if isinstance(value, float) else str(value)


def lever_phrase(key: str, value: Any, scenario: Scenario | None) -> str:
    """``holding to 2 Sep 00:00`` for ``security.end`` (with a scenario to read the date from), else ``key = value``."""
    if key == "security.end" and scenario is not None:
        end = scenario.with_overrides({key: value}, source="--lever")
        when = end.at(end.end_hours)
        return f"holding to {when.day} {when:%b %H:%M}"
    return f"{key} = {_value(value)}"


def levers_phrase(values: Mapping[str, Any], scenario: Scenario | None, capital: bool = False) -> str:
    """Every lever of a candidate: ``holding to 2 Sep 00:00 with gates.abbey.lanes = 6``."""
    held = [lever_phrase(k, v, scenario) for k, v in values.items() if k == "security.end" and scenario is not None]
    others = [lever_phrase(k, v, scenario) for k, v in values.items() if not (k == "security.end" and scenario is not None)]
    text = " ".join([*held, *(["with " + " and ".join(others)] if others else [])])
    return text[:1].upper() + text[1:] if capital else text


def _number(text: str) -> str:
    number = float(text.replace("_", ""))
    return f"{number:,.0f}" if number.is_integer() else f"{number:,g}"


def goal_phrase(text: str) -> str:
    """What a goal asks, as a verb phrase: ``flies 50,000 of cohort siv``, ``leaves at most 100 of
    cohort us_citizens stranded``; a goal with no plain phrase is quoted (``meets 'x >= 0.9 * y'``)."""
    match = _COMPARISON.match(text)
    if match:
        metric, op, number = match["metric"], match["op"], _number(match["number"])
        cohort = re.fullmatch(r"cohort\.(.+)\.(evacuated|stranded)", metric)
        who = f"of cohort {cohort[1]}" if cohort else "people"
        flown = cohort[2] == "evacuated" if cohort else metric == "evacuated_total"
        stranded = cohort[2] == "stranded" if cohort else metric == "stranded_total"
        if flown and op in _AT_LEAST:
            return f"flies {_AT_LEAST[op]}{number} {who}"
        if stranded and op in _AT_MOST:
            return f"leaves {_AT_MOST[op]}{number} {who} stranded"
    return f"meets '{text.strip()}'"


def _goals(texts: Sequence[str]) -> str:
    return " and ".join(goal_phrase(t) for t in texts) if texts else "meets the goal"


def _replications(n: int) -> str:
    return f"{n:,} replication{'s' if n != 1 else ''}"


def choice_sentence(
    goals: Sequence[str],
    values: Mapping[str, Any],
    probability: float,
    lower: float,
    replications: int,
    scenario: Scenario | None,
) -> str:
    """The chosen candidate: "Holding to 2 Sep 00:00 flies ... with probability 0.93 (lower bound 0.90, 240 replications)"."""
    return (
        f"{levers_phrase(values, scenario, capital=True)} {_goals(goals)} with probability {probability:.2f} "
        f"(lower bound {lower:.2f}, {_replications(replications)})"
    )


def refusal_sentence(
    goals: Sequence[str],
    target: float,
    best: Mapping[str, Any],
    scenario: Scenario | None,
) -> str:
    """No candidate met the target: how far the best got (its estimate, and its upper bound when it
    was shown not to meet the target; both bounds when the budget ran out before that was settled)."""
    what = "the goal" if len(goals) == 1 else "the goals"
    levers = levers_phrase(best["levers"], scenario)
    reached = f"reaches {best['probability']:.2f}"
    n = _replications(int(best["replications"]))
    if best["probability_high"] < target:
        bound = f"upper bound {best['probability_high']:.2f}"
        return f"No candidate meets {what} with probability {target:g}: the best, {levers}, {reached} ({bound}, {n})"
    return (
        f"No candidate was shown to meet {what} with probability {target:g} within its budget: the best, {levers}, "
        f"{reached} (bounds {best['probability_low']:.2f} to {best['probability_high']:.2f}, {n}); "
        "allow more replications per candidate to settle it"
    )
