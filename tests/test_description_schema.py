"""The schema's shape: disruption kinds as one model each (told apart by ``kind``), one registry from
kind to schedule, cross-checks carried as (field, message) data, and modules of a readable size."""

from __future__ import annotations

import ast
from pathlib import Path

import pydantic
import pytest

import sim
from sim.description.disruptions import DISRUPTION_KINDS, LaneChange, RunwayClosure
from sim.description.errors import FieldProblems, ScenarioError
from sim.model.timeline import SCHEDULE_BUILDERS, Timeline

from .conftest import ROOT

DESCRIPTION = ROOT / "sim" / "description"


def problems(scenario: sim.Scenario, overrides: dict[str, object]) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as e:
        scenario.with_overrides(overrides)
    return e.value.problems


def test_every_kind_has_exactly_one_schedule_builder():
    assert set(SCHEDULE_BUILDERS) == set(DISRUPTION_KINDS)


def test_the_kind_picks_the_model(small):
    s = small.with_overrides(
        {"disruptions": [{"kind": "lanes", "target": "abbey", "start": 0.5, "value": 2}, {"kind": "runway_closure", "start": 1}]}
    )
    assert isinstance(s.disruptions[0], LaneChange) and isinstance(s.disruptions[1], RunwayClosure)
    assert s.disruptions[1].target == "*"


@pytest.mark.parametrize(
    ("disruption", "expected"),
    [
        (
            {"kind": "lanes", "target": "abbey", "start": 0.5, "value": 2.5},
            ("disruptions.1.value", "must be a whole number (got 2.5)"),
        ),
        ({"kind": "lanes", "target": "abbey", "start": 0.5}, ("disruptions.1.value", "missing (required)")),
        (
            {"kind": "arrival_factor", "start": 0.5, "value": 1.5},
            ("disruptions.1.value", "Input should be less than or equal to 1 (got 1.5)"),
        ),
        (
            {"kind": "staging_capacity", "target": "qatar", "start": 0.5, "value": 1e8},
            ("disruptions.1.value", "Input should be less than or equal to 10000000 (got 100000000.0)"),
        ),
        (
            {"kind": "gate_closure", "start": 0.5, "value": 1},
            ("disruptions.1.value", "unknown key (check the spelling; unknown keys are errors)"),
        ),
        ({"kind": "gate_closure", "start": 0.5, "end": 0.25}, ("disruptions.1.end", "before its start")),
        (
            {"kind": "lanes", "start": 0.5, "value": 1},
            ("disruptions.1.target", "'*' is not a valid target for lanes (valid: abbey, north)"),
        ),
        (
            {"kind": "staging_outflow", "target": "abbey", "start": 0.5, "value": 1},
            ("disruptions.1.target", "'abbey' is not a valid target for staging_outflow (valid: qatar, tashkent)"),
        ),
        (
            {"kind": "flood", "start": 0.5},
            (
                "disruptions.1.kind",
                "unknown kind 'flood' (known: arrival_factor, gate_closure, lanes, relief, runway_closure, "
                "staging_capacity, staging_outflow)",
            ),
        ),
        ({"start": 0.5}, ("disruptions.1.kind", "missing (required)")),
        (
            {"kind": "gate_closure", "start": "soon"},
            ("disruptions.1.start", "expected an ISO datetime or a number of days after start (got 'soon')"),
        ),
    ],
)
def test_a_bad_disruption_names_its_dotted_field(small, disruption, expected):
    kept = [d.model_dump(by_alias=True) for d in small.disruptions]
    assert problems(small, {"disruptions": [*kept, disruption]}) == [expected]


def test_overrides_reach_fields_of_any_kind_in_any_order(small):
    s = small.with_overrides({"disruptions.0.value": 4, "disruptions.0.kind": "lanes", "disruptions.0.target": "north"})
    assert isinstance(s.disruptions[0], LaneChange) and s.disruptions[0].value == 4
    assert (
        "disruptions.0.valeu",
        "unknown key 'valeu' in disruptions.0 (known: description, end, kind, name, start, target)",
    ) in [(f, m) for f, m in problems(small, {"disruptions.0.valeu": 1})]
    assert problems(small, {"disruptions.0.value": 1}) == [
        ("disruptions.0.value", "unknown key (check the spelling; unknown keys are errors)")
    ]


def test_a_new_lanes_disruption_changes_the_lanes_in_force(small):
    s = small.with_overrides({"disruptions": [{"kind": "lanes", "target": "north", "start": 0.5, "end": 1.0, "value": 7}]})
    lanes = Timeline.from_scenario(s).gate_lanes["north"]
    assert [lanes(11.9), lanes(12), lanes(23.9), lanes(24)] == [2, 7, 7, 2]


def test_cross_checks_are_carried_as_data_not_text(small):
    # messages holding the separators an older parser split on ("; " and ": ") stay whole, each with its own field
    found = problems(
        small, {"disruptions.0.target": "a; b: c", "fleets.us_c17.bases": ["tashkent", "atlantis"], "security.end": -1}
    )
    assert found == [
        ("security.end", "must be after start"),
        ("fleets.us_c17.bases", "unknown base 'atlantis' (known: qatar, tashkent)"),
        ("disruptions.0.target", "'a; b: c' is not a valid target for runway_closure (valid: runway, *)"),
    ]


def test_a_direct_model_validate_still_runs_the_cross_checks(small):
    raw = small.model_dump(by_alias=True)
    raw["gates"]["north"]["admits"] = ["ghosts"]
    with pytest.raises(pydantic.ValidationError) as e:
        sim.Scenario.model_validate(raw)
    carried = e.value.errors()[0]["ctx"]["error"]
    assert isinstance(carried, FieldProblems)
    assert carried.problems == [("gates.north.admits", "unknown cohort 'ghosts' (known: afghans, any, us_citizens)")]


def test_the_json_dump_of_a_scenario_reads_back_the_same(small):
    s = small.with_overrides(
        {
            "security.end": "2021-08-16",
            "disruptions": [{"kind": "staging_outflow", "target": "qatar", "start": "2021-08-15T06:00:00+04:30", "value": 10}],
        }
    )
    assert sim.Scenario.model_validate(s.model_dump(mode="json", by_alias=True)) == s


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_description_modules_are_each_readable_at_once():
    sizes = {p.name: _lines(p) for p in DESCRIPTION.glob("*.py")}
    assert all(n <= 400 for n in sizes.values()), sizes


def test_no_module_of_the_description_reexports_names_lazily():
    for path in DESCRIPTION.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert not any(isinstance(n, ast.FunctionDef) and n.name == "__getattr__" for n in tree.body), path.name
