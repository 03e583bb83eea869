"""The inverse question: the least a planner must hold, add or open to meet goals with a stated probability.

Levers are scenario keys with a grid of values (``security.end=17..20:1``); a candidate is one value
of each, costed per unit above its lowest value. Whether the goals hold is a yes/no outcome of each
replication, so a candidate's probability is a binomial proportion, and it *meets* the target only
when its one-sided lower confidence bound (Clopper–Pearson, from SciPy's beta quantiles) reaches the
target: the mean alone is not enough. Every candidate runs the same replication indices, hence the
same random streams (common random numbers): candidates differ by the lever, not by luck.

The search is a feasibility determination in cost order with sequential allocation: every
candidate is screened with a first block of replications (the probability curve and, for several
levers, the cost–probability front), then, cheapest first, an undecided candidate gets its
replications doubled until its bounds settle it (met, or upper bound below the target) or the
budget per candidate runs out. The first candidate met is the choice, and every cheaper one was
shown not to meet the target or is reported as undecided. Each of the N candidates is looked at up
to ``looks`` times, and the choice is the first of them to pass, so each look uses
``alpha / (looks * N)`` (Bonferroni over every look at every candidate): the chance that any candidate
below the target is declared met stays within ``alpha``, whatever the correlation between
candidates. Running replications is the caller's (an ``Evaluate`` function), so this module is
tested on problems whose answer is known.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sim.description.errors import ScenarioError

__all__ = [
    "Lever",
    "Candidate",
    "Plan",
    "Evaluate",
    "parse_lever",
    "parse_cost",
    "plan",
    "binomial_bounds",
    "looks",
    "per_look_alpha",
    "DEFAULT_FIRST",
    "DEFAULT_MOST",
]

Evaluate = Callable[[Sequence[tuple[Mapping[str, float], range]]], list[list[bool]]]
"""Runs, for each ``(lever values, replication indices)``, those replications and says for each
whether every goal held."""

MAX_CANDIDATES = 10_000
DEFAULT_FIRST = 20
"""Replications every candidate is screened with (``airlift plan -n``)."""
DEFAULT_MOST = 320
"""Most replications one candidate gets (``airlift plan --max-replications``): the screen doubled four times."""
_LEVER = re.compile(r"^\s*([^=\s]+)\s*=\s*([^.:\s]+(?:\.\d+)?)\s*\.\.\s*([^:\s]+)\s*(?::\s*(\S+))?\s*$")


@dataclass(frozen=True)
class Lever:
    """A scenario key and the values a plan may give it, cheapest (lowest) first."""

    key: str
    values: tuple[float, ...]
    cost_per_unit: float = 1.0

    def cost(self, value: float) -> float:
        return self.cost_per_unit * (value - self.values[0])


def _number(text: str, lever: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ScenarioError("--lever", [(lever, f"{text!r} is not a number")]) from None
    if not math.isfinite(value):
        raise ScenarioError("--lever", [(lever, f"{text!r} is not a finite number")])
    return value


def parse_lever(text: str) -> Lever:
    """``KEY=LO..HI[:STEP]`` (step 1 if left out) as a :class:`Lever`; whole numbers stay whole."""
    match = _LEVER.match(text)
    if not match:
        raise ScenarioError("--lever", [(text, "expected KEY=LO..HI or KEY=LO..HI:STEP, e.g. security.end=17..21:1")])
    key, lo_text, hi_text, step_text = match.groups()
    lo, hi = _number(lo_text, text), _number(hi_text, text)
    step = _number(step_text, text) if step_text else 1.0
    if step <= 0 or hi < lo:
        raise ScenarioError("--lever", [(text, "needs LO <= HI and a positive STEP")])
    count = math.floor((hi - lo) / step + 1e-9) + 1
    if count > MAX_CANDIDATES:
        raise ScenarioError("--lever", [(text, f"{count:,} values: at most {MAX_CANDIDATES:,}")])
    whole = all(float(v).is_integer() for v in (lo, hi, step))
    values = tuple(int(lo + i * step) if whole else round(lo + i * step, 12) for i in range(count))
    return Lever(key, values)


def parse_cost(text: str) -> tuple[str, float]:
    """``KEY=PER_UNIT``: what one unit of a lever above its lowest value costs (default 1)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ScenarioError("--cost", [(text, "expected KEY=PER_UNIT, e.g. gates.abbey.lanes=2.5")])
    per_unit = _number(value.strip(), text)
    if per_unit < 0:
        raise ScenarioError("--cost", [(text, "a cost per unit is not negative")])
    return key.strip(), per_unit


def binomial_bounds(successes: int, trials: int, alpha: float) -> tuple[float, float]:
    """One-sided Clopper–Pearson bounds at level ``1 - alpha`` each: (lower, upper)."""
    from scipy.stats import beta

    if trials == 0:
        return 0.0, 1.0
    lower = 0.0 if successes == 0 else float(beta.ppf(alpha, successes, trials - successes + 1))
    upper = 1.0 if successes == trials else float(beta.ppf(1 - alpha, successes + 1, trials - successes))
    return lower, upper


@dataclass
class Candidate:
    """One combination of lever values, its cost and the outcomes of its replications so far."""

    values: dict[str, float]
    cost: float
    outcomes: list[bool] = field(default_factory=list)
    lower: float = 0.0
    upper: float = 1.0
    verdict: str = "undecided"  # "met", "not met" or "undecided"

    @property
    def replications(self) -> int:
        return len(self.outcomes)

    @property
    def probability(self) -> float:
        return sum(self.outcomes) / len(self.outcomes) if self.outcomes else math.nan

    def summary(self) -> dict[str, Any]:
        return {
            "levers": dict(self.values),
            "cost": self.cost,
            "probability": self.probability,
            "probability_low": self.lower,
            "probability_high": self.upper,
            "replications": self.replications,
            "verdict": self.verdict,
        }


@dataclass
class Plan:
    """What the search found: the cheapest candidate met (or ``None``), and every candidate tried."""

    probability_target: float
    confidence: float
    levers: list[Lever]
    candidates: list[Candidate]
    choice: Candidate | None
    first: int = 0
    """Replications every candidate was screened with."""
    most: int = 0
    """Most replications any candidate could get (the budget per candidate)."""

    @property
    def looks(self) -> int:
        """How many times a candidate can be judged: the screen, then each doubling up to :attr:`most`."""
        return looks(self.first, self.most)

    @property
    def replications(self) -> int:
        """Replications run in all, over every candidate."""
        return sum(c.replications for c in self.candidates)

    @property
    def best(self) -> Candidate:
        """The candidate with the highest lower bound (what an impossible goal reached at best); among
        equals the one with the higher estimate, then the one run more, then the dearer (when none
        succeeded at all, the most generous lever values say the most: even they reach nothing)."""
        return max(self.candidates, key=lambda c: (c.lower, c.probability, c.replications, c.cost))

    def front(self) -> list[Candidate]:
        """The cost–probability Pareto front: no other candidate is as cheap and more likely."""
        out: list[Candidate] = []
        for c in sorted(self.candidates, key=lambda c: (c.cost, -c.probability)):
            if not out or c.probability > out[-1].probability:
                out.append(c)
        return out


def _candidates(levers: Sequence[Lever]) -> list[Candidate]:
    combos = list(itertools.product(*(lever.values for lever in levers)))
    if len(combos) > MAX_CANDIDATES:
        raise ScenarioError("--lever", [("", f"{len(combos):,} combinations of lever values: at most {MAX_CANDIDATES:,}")])
    out = [
        Candidate({lv.key: v for lv, v in zip(levers, combo)}, sum(lv.cost(v) for lv, v in zip(levers, combo)))
        for combo in combos
    ]
    return sorted(out, key=lambda c: (c.cost, tuple(c.values.values())))


def _run(evaluate: Evaluate, requests: list[tuple[Candidate, int]]) -> None:
    """Give each candidate ``count`` more replications (the next indices: the same for all candidates)."""
    batch = [(c.values, range(c.replications, c.replications + count)) for c, count in requests]
    for (candidate, _), outcomes in zip(requests, evaluate(batch)):
        candidate.outcomes.extend(bool(o) for o in outcomes)


def _judge(candidate: Candidate, target: float, alpha: float) -> None:
    successes = sum(candidate.outcomes)
    candidate.lower, candidate.upper = binomial_bounds(successes, candidate.replications, alpha)
    if candidate.lower >= target:
        candidate.verdict = "met"
    elif candidate.upper < target:
        candidate.verdict = "not met"
    else:
        candidate.verdict = "undecided"


def plan(
    levers: Sequence[Lever],
    probability: float,
    evaluate: Evaluate,
    *,
    first: int = DEFAULT_FIRST,
    most: int = DEFAULT_MOST,
    confidence: float = 0.95,
    block: int = 1,
) -> Plan:
    """The cheapest lever values whose goals hold with ``probability``, shown by a lower bound.

    ``first`` replications screen every candidate, then undecided ones are doubled, cheapest first,
    up to ``most`` each. ``block`` rounds every count up to a multiple (the settings of an
    ensemble, so that each setting gets the same share of every candidate's replications)."""
    if not 0 < probability < 1:
        raise ScenarioError("--probability", [("", f"{probability} is not strictly between 0 and 1")])
    first, most = _blocks(first, block), max(_blocks(most, block), _blocks(first, block))
    candidates = _candidates(levers)
    alpha = per_look_alpha(confidence, looks(first, most), len(candidates))
    _run(evaluate, [(c, first) for c in candidates])
    for c in candidates:
        _judge(c, probability, alpha)
    choice = None
    for c in candidates:  # cheapest first
        while c.verdict == "undecided" and c.replications < most:
            _run(evaluate, [(c, min(c.replications, most - c.replications))])
            _judge(c, probability, alpha)
        if c.verdict == "met":
            choice = c
            break
    return Plan(probability, confidence, list(levers), candidates, choice, first, most)


def per_look_alpha(confidence: float, looks: int, candidates: int) -> float:
    """The level of one look: ``1 - confidence`` shared out over every look at every candidate."""
    return (1 - confidence) / (looks * max(1, candidates))


def looks(first: int, most: int) -> int:
    """Looks at one candidate: the screen of ``first`` replications, then one per doubling up to ``most``."""
    return 1 + max(0, math.ceil(math.log2(most / first))) if first > 0 else 1


def _blocks(count: int, block: int) -> int:
    return max(block, math.ceil(count / block) * block)
