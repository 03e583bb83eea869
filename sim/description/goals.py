"""Planning goals: ``cohort.siv.evacuated >= 0.9 * cohort.siv.people`` parsed by a grammar, never ``eval``.

A goal compares two arithmetic expressions over metric names and numbers with ``>=``, ``<=``, ``>``
or ``<``. The grammar (pyparsing's operator-precedence parser) knows only numbers, dotted metric
names (a name that is not a plain identifier path goes in backquotes), ``+ - * /``, unary minus and
parentheses; every name must be one of the metrics a replication reports, else the goal is refused
with the known names. Evaluating a goal reads one replication's metrics; a division by zero makes
the goal fail for that replication rather than pass by accident.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pyparsing as pp

from sim.description.errors import ScenarioError, known_names

__all__ = ["Goal", "parse_goal", "parse_goals", "all_hold", "Comparison"]

Comparison = Literal[">=", "<=", ">", "<"]
_COMPARE: dict[str, Callable[[float, float], bool]] = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
_ARITHMETIC: dict[str, Callable[[float, float], float]] = {"+": operator.add, "-": operator.sub, "*": operator.mul}
MAX_GOAL_CHARS = 1_000


@dataclass(frozen=True)
class Number:
    value: float

    def evaluate(self, metrics: Mapping[str, float]) -> float:
        return self.value


@dataclass(frozen=True)
class Metric:
    name: str

    def evaluate(self, metrics: Mapping[str, float]) -> float:
        return float(metrics[self.name])


@dataclass(frozen=True)
class Negation:
    operand: Expression

    def evaluate(self, metrics: Mapping[str, float]) -> float:
        return -self.operand.evaluate(metrics)


@dataclass(frozen=True)
class Arithmetic:
    op: str
    left: Expression
    right: Expression

    def evaluate(self, metrics: Mapping[str, float]) -> float:
        a, b = self.left.evaluate(metrics), self.right.evaluate(metrics)
        if self.op == "/":
            return a / b if b != 0 else math.nan
        return _ARITHMETIC[self.op](a, b)


Expression = Number | Metric | Negation | Arithmetic


@dataclass(frozen=True)
class Goal:
    """One parsed goal: ``left op right``; :meth:`holds` evaluates it on one replication's metrics."""

    text: str
    left: Expression
    op: Comparison
    right: Expression

    def values(self, metrics: Mapping[str, float]) -> tuple[float, float]:
        """Both sides on one replication's metrics."""
        return self.left.evaluate(metrics), self.right.evaluate(metrics)

    def holds(self, metrics: Mapping[str, float]) -> bool:
        """Whether the goal is met; a side that is not a number (0/0, x/0) never meets it."""
        a, b = self.values(metrics)
        return not (math.isnan(a) or math.isnan(b)) and _COMPARE[self.op](a, b)

    def metrics(self) -> list[str]:
        """The metric names the goal reads, in order of first use."""
        out: list[str] = []
        _collect(self.left, out)
        _collect(self.right, out)
        return out


def _collect(expr: Expression, out: list[str]) -> None:
    if isinstance(expr, Metric) and expr.name not in out:
        out.append(expr.name)
    elif isinstance(expr, Negation):
        _collect(expr.operand, out)
    elif isinstance(expr, Arithmetic):
        _collect(expr.left, out)
        _collect(expr.right, out)


def _grammar() -> pp.ParserElement:
    number = pp.Regex(r"\d[\d_]*(\.\d*)?([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?")
    number.set_parse_action(lambda t: Number(float(t[0].replace("_", ""))))
    plain = pp.Regex(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*")
    quoted = pp.QuotedString("`")
    name = (plain | quoted).set_parse_action(lambda t: Metric(t[0]))
    expression = pp.infix_notation(
        number | name,
        [
            (pp.Literal("-"), 1, pp.OpAssoc.RIGHT, lambda t: Negation(t[0][1])),
            (pp.one_of("* /"), 2, pp.OpAssoc.LEFT, _fold),
            (pp.one_of("+ -"), 2, pp.OpAssoc.LEFT, _fold),
        ],
    )
    return expression + pp.one_of(">= <= > <") + expression + pp.StringEnd()


def _fold(tokens: pp.ParseResults) -> Expression:
    """``a op b op c`` (left-associative) as nested :class:`Arithmetic`."""
    items = tokens[0]
    out: Expression = items[0]
    for i in range(1, len(items), 2):
        out = Arithmetic(items[i], out, items[i + 1])
    return out


_GRAMMAR = _grammar()


def parse_goal(text: str, known: Collection[str], source: str = "--goal") -> Goal:
    """``text`` as a :class:`Goal` whose names are all in ``known`` (the scenario's metric names)."""
    if len(text) > MAX_GOAL_CHARS:
        raise ScenarioError(source, [("", f"a goal of {len(text):,} characters: at most {MAX_GOAL_CHARS:,}")])
    try:
        left, op, right = _GRAMMAR.parse_string(text, parse_all=True)
    except pp.ParseBaseException as e:
        raise ScenarioError(
            source,
            [(text, f"not a goal at column {e.column} ({e.msg}); write e.g. 'cohort.siv.evacuated >= 0.9 * cohort.siv.people'")],
        ) from None
    except RecursionError:
        raise ScenarioError(source, [("", "a goal nested too deeply")]) from None
    goal = Goal(text, left, op, right)
    unknown = [n for n in goal.metrics() if n not in known]
    if unknown:
        raise ScenarioError(source, [(text, f"unknown metric {n!r} (known: {known_names(known)})") for n in unknown])
    return goal


def parse_goals(texts: Collection[str], known: Collection[str], source: str = "--goal") -> list[Goal]:
    """Several goals, all required; every bad one is named in one error."""
    goals: list[Goal] = []
    problems: list[tuple[str, str]] = []
    for text in texts:
        try:
            goals.append(parse_goal(text, known, source))
        except ScenarioError as e:
            problems += e.problems
    if problems:
        raise ScenarioError(source, problems)
    return goals


def all_hold(goals: Collection[Goal], metrics: Mapping[str, Any]) -> bool:
    """Whether every goal is met on one replication's metrics."""
    return all(g.holds(metrics) for g in goals)
