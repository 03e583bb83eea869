"""The reference airlift made bigger: the population alone, or the population and every capacity."""

from __future__ import annotations

from typing import Any

from sim.description.scenario import Scenario

_SCALED = ("staging_capacity", "staging_outflow", "lanes")


def _scaled_value(d: Any, k: float) -> dict[str, float]:
    """A disruption's value k times as large (lanes and capacities whole numbers, outflows rates);
    read by name, so that the earlier engines' disruption models work too."""
    v = getattr(d, "value", None)
    if d.kind not in _SCALED or not v:
        return {}
    return {"value": v * k if d.kind == "staging_outflow" else round(v * k)}


def scaled(s: Scenario, k: float, whole: bool = True) -> Scenario:
    """``s`` with k times the people; with ``whole``, lanes, fleets, ramp, holding, bases and runway too."""
    o: dict[str, Any] = {f"cohorts.{c}.people": int(round(co.people * k)) for c, co in s.cohorts.items()}
    if whole:
        for g, gate in s.gates.items():
            o[f"gates.{g}.lanes"] = int(round(gate.lanes * k))
            o[f"gates.{g}.lane_schedule"] = [{"from": x.from_, "value": round(x.value * k)} for x in gate.lane_schedule]
        for f, fl in s.fleets.items():
            o[f"fleets.{f}.count"] = int(round(fl.count * k))
            o[f"fleets.{f}.count_schedule"] = [{"from": x.from_, "value": round(x.value * k)} for x in fl.count_schedule]
        for b, base in s.bases.items():
            o[f"bases.{b}.capacity_people"] = int(base.capacity_people * k)
            o[f"bases.{b}.outflow_per_day"] = base.outflow_per_day * k
            o[f"bases.{b}.outflow_schedule"] = [{"from": x.from_, "value": x.value * k} for x in base.outflow_schedule]
            o[f"bases.{b}.initial_people"] = int(base.initial_people * k)
        for cls, n in s.ramp.spots.items():
            o[f"ramp.spots.{cls}"] = int(n * k)
        o["airfield.holding_capacity_people"] = int(s.airfield.holding_capacity_people * k)
        o["runway.separation_day_min"] = s.runway.separation_day_min / k
        o["runway.separation_night_min"] = s.runway.separation_night_min / k
        if isinstance(s.retrograde, tuple):
            for i, withdrawal in enumerate(s.retrograde):
                o[f"retrograde.{i}.troops"] = int(withdrawal.troops * k)
        else:
            o["retrograde.troops"] = int(s.retrograde.troops * k)

        o["disruptions"] = [d.model_dump(mode="json") | _scaled_value(d, k) for d in s.disruptions]
    return s.with_overrides(o)
