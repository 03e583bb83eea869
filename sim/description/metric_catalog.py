"""The catalogue of metrics: every name a replication reports, with its meaning.

One table, :data:`METRICS`, is the single source for ``airlift metrics``, the metric
table (a test keeps it identical) and the check of metric names given by users (``--metric``,
sweep files). A pattern's ``<cohort>``, ``<operator>``, ``<base>``, ``<withdrawal>`` and ``<cause>``
stand for the scenario's cohorts, operators, staging bases, withdrawals (of a list ``[[retrograde]]``:
their names) and the waiting causes; :func:`metric_names`
expands them for one scenario. Computing the metrics is :mod:`sim.model.metrics`'s job, not this one's.
"""

from __future__ import annotations

from collections.abc import Iterable

from sim.description.errors import ScenarioError
from sim.description.scenario import Scenario

__all__ = ["LIMIT_CAUSES", "METRICS", "metric_names", "check_metrics", "metrics_markdown", "limit_causes"]

LIMIT_CAUSES: dict[str, str] = {
    "gates": "people waiting outside the perimeter while every screening lane at their entry point is busy (or it is closed)",
    "holding": "people waiting outside the perimeter at entry points stopped because the holding area inside was full",
    "fleet": "people inside with no aircraft on the ground able to seat them: all flying or turning round",
    "crew": "people inside waiting for aircraft that wait at their base for a rested crew",
    "ramp": "people inside waiting for aircraft that wait at their base for a parking spot",
    "runway": "people inside waiting for aircraft that wait for a runway slot (or a closed runway)",
    "staging": "people inside held back by staging room (aircraft waiting for it, or flying with seats it had no room for)",
}
"""Why throughput was limited: people-hours held back by each cause (a wait that holds back no one
waiting counts for nothing; see :mod:`sim.model.held_back`). Metric ``limit.<cause>_hours``,
hourly column ``limit_<cause>_hours``."""

METRICS: tuple[tuple[str, str], ...] = (
    ("population_total", "people in the scenario (all cohorts)"),
    ("evacuated_total", "people airborne before the security end"),
    ("stranded_total", "everyone else: `population_total - evacuated_total - did_not_travel_total`"),
    (
        "did_not_travel_total",
        "people of registered cohorts (`registration`) who chose not to set out; not counted as stranded",
    ),
    (
        "stranded_never_arrived",
        "stranded who never reached the perimeter (first attempt too late, turned back on the way and gave up, "
        "or still on the way when the airport closed)",
    ),
    ("stranded_turned_back", "stranded who set out from a registered cohort and turned back on the way"),
    (
        "stranded_at_gates",
        "stranded at the entry points: waiting outside or in screening when the airport closed, or gave up "
        "(the next two split it)",
    ),
    ("stranded_at_gates_in_crowd", "stranded waiting outside an entry point or in screening when the airport closed"),
    ("stranded_at_gates_gave_up", "stranded who gave up waiting at an entry point and did not come back"),
    ("stranded_airfield", "stranded inside the perimeter: in the holding area, or aboard an aircraft still on the ground"),
    ("departures_total", "take-offs before the end, all operators"),
    ("troops_flown", "retrograde troops flown out"),
    ("troops_stranded", "retrograde troops left behind"),
    ("withdrawal.<withdrawal>.troops_flown", "troops of the withdrawal flown out (only for a list `[[retrograde]]`)"),
    ("withdrawal.<withdrawal>.troops_stranded", "troops of the withdrawal left behind (only for a list `[[retrograde]]`)"),
    ("mean_load_factor", "mean over departures of (evacuees + troops) / normal seats"),
    ("mean_evacuees_per_departure", "evacuees per departure"),
    (
        "gate_wait_mean_hours",
        "time from reaching an entry point to the start of screening, mean per person, for people who were screened",
    ),
    ("gate_wait_p95_hours", "the same, 95th percentile"),
    ("peak_day_evacuated", "most people evacuated on one local calendar day"),
    ("holding_peak_people", "most people inside the holding area or in screening at once"),
    ("aircraft_on_ground_at_end", "aircraft still on the ground when the airport closed (must be 0)"),
    ("cohort.<cohort>.people", "people in the cohort"),
    ("cohort.<cohort>.evacuated", "people of the cohort evacuated"),
    ("cohort.<cohort>.stranded", "people of the cohort stranded"),
    ("cohort.<cohort>.stranded_never_arrived", "of them, never reached the perimeter"),
    ("cohort.<cohort>.stranded_turned_back", "of them, turned back on the way (registered cohorts)"),
    ("cohort.<cohort>.stranded_at_gates", "of them, stranded at the entry points"),
    ("cohort.<cohort>.stranded_airfield", "of them, stranded inside the perimeter"),
    ("cohort.<cohort>.did_not_travel", "people of the cohort who chose not to set out (registered cohorts; not stranded)"),
    ("operator.<operator>.evacuated", "evacuees flown by the operator"),
    ("operator.<operator>.departures", "take-offs by the operator"),
    (
        "base.<base>.received",
        "evacuees who reached the staging base before the run ended (flights in the air at the end are not counted)",
    ),
    (
        "limit.<cause>_hours",
        "what limited throughput: people-hours held back, by cause (`airlift metrics` lists the causes): "
        "people waiting at the entry points or inside, each hour, by what kept them waiting",
    ),
)
"""``(name pattern, meaning)`` of every metric, in report order."""


def limit_causes() -> dict[str, str]:
    """The waiting causes of the ``limit.<cause>_hours`` metrics, with their meanings."""
    return dict(LIMIT_CAUSES)


def metric_names(scenario: Scenario) -> list[str]:
    """Every metric name a replication of ``scenario`` reports, in catalogue order."""
    values = {
        "<cohort>": list(scenario.cohorts),
        "<operator>": list(scenario.operators),
        "<base>": list(scenario.bases),
        "<withdrawal>": scenario.withdrawal_names,
        "<cause>": list(limit_causes()),
    }
    out: list[str] = []
    for pattern, _ in METRICS:
        slot = next((s for s in values if s in pattern), None)
        out.extend([pattern] if slot is None else [pattern.replace(slot, v) for v in values[slot]])
    return out


def check_metrics(names: Iterable[str], scenario: Scenario, source: str) -> None:
    """Raise :class:`ScenarioError` naming every unknown metric and listing the valid names."""
    valid = metric_names(scenario)
    unknown = [n for n in names if n not in valid]
    if unknown:
        listed = ", ".join(valid)
        raise ScenarioError(source, [("metrics", f"unknown metric {n!r} (valid: {listed})") for n in unknown])


def metrics_markdown() -> str:
    """The metric table of docs/outputs.md."""
    out = ["| metric | meaning |", "|---|---|"]
    for pattern, meaning in METRICS:
        out.append(f"| `{pattern}` | {meaning} |")
    out += ["", "| `<cause>` | people-hours held back by... |", "|---|---|"]
    out += [f"| `{c}` | {m} |" for c, m in limit_causes().items()]
    return "\n".join(out) + "\n"


def metrics_text(scenario: Scenario | None = None) -> str:
    """What ``airlift metrics`` prints: every pattern with its meaning, and the causes; with a
    scenario, every concrete name as well."""
    width = max(len(p) for p, _ in METRICS)
    lines = [f"{p:<{width}}  {m.replace('`', '')}" for p, m in METRICS]
    lines.append("")
    lines.append("<cause> is one of:")
    lines.extend(f"  {c:<12}{m}" for c, m in limit_causes().items())
    if scenario is not None:
        lines.append("")
        lines.append(f"metric names of scenario {scenario.name}:")
        lines.extend(f"  {n}" for n in metric_names(scenario))
    return "\n".join(lines) + "\n"
