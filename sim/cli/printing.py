"""What several commands print alike: numbers, means with their intervals, and progress bars on stderr."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

from sim.statistics import interval_available

__all__ = ["Progress", "ensemble_intervals", "number", "interval", "mean_and_interval", "standard_error"]


def number(x: float) -> str:
    """A number as printed: whole above 10 (with thousands separators), two decimals below."""
    return f"{x:,.0f}" if abs(x) >= 10 or float(x).is_integer() or x == 0 else f"{x:,.2f}"


def interval(low: float, high: float) -> str:
    """``low to high``, or ``n/a`` when the interval is unavailable (one replication)."""
    return f"{number(low)} to {number(high)}" if interval_available(low, high) else "n/a"


def standard_error(x: float) -> str:
    return "n/a" if x != x else number(x)


def ensemble_intervals(stats: Any) -> str:
    """``stochastic 95% CI a to b; across settings c to d``, as defined in sim.experiments.ensemble."""
    low, high = stats["ci95_low"], stats["ci95_high"]
    if low != low:
        stochastic = "stochastic 95% CI n/a (run a setting twice)"
    else:
        stochastic = f"stochastic 95% CI {number(low)} to {number(high)}"
    return f"{stochastic}; across settings {number(stats['settings_low'])} to {number(stats['settings_high'])}"


def mean_and_interval(stats: dict[str, Any]) -> str:
    """A metric's mean and its 95% interval (both intervals for an ensemble run)."""
    if "settings_low" in stats:  # an ensemble run: both intervals (sim.experiments.ensemble)
        return f"{number(stats['mean'])}  ({ensemble_intervals(stats)})"
    if not interval_available(stats["ci95_low"], stats["ci95_high"]):
        return f"{number(stats['mean'])}  (95% CI n/a: one replication)"
    if stats["ci95_high"] == stats["ci95_low"]:
        return number(stats["mean"])
    return f"{number(stats['mean'])}  (95% CI {number(stats['ci95_low'])}–{number(stats['ci95_high'])})"


class Progress:
    """A progress bar on stderr, opened once the total is known (``start``), closed on leaving the ``with``
    block. ``start`` again closes the bar before (one bar per wave). Options are tqdm's.

    Only a terminal shows it: when stderr goes to a file or a pipe (a log, a CI job, output captured
    with stdout) nothing is written, so the bar's carriage returns never run into what is printed next."""

    def __init__(self, label: str, unit: str, **options: Any) -> None:
        self.label = label
        self.unit = unit
        self.options = options
        self._bar: Any = None

    def start(self, total: int, label: str | None = None) -> None:
        from tqdm import tqdm

        self.close()
        options = {"disable": not _is_terminal(sys.stderr), **self.options}
        self._bar = tqdm(total=total, desc=label or self.label, unit=self.unit, file=sys.stderr, **options)

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()


def _is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is a terminal (a closed or replaced stream without ``isatty`` is not)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
