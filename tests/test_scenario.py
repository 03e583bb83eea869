"""Loading, inheritance, overrides and error messages of scenario files."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

import sim
from sim.description.errors import ScenarioError
from sim.description.loading import load_scenario
from sim.description.overrides import parse_override


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def base_text(small_path: Path) -> str:
    return small_path.read_text(encoding="utf-8")


def error_of(path: Path, overrides=None) -> ScenarioError:
    with pytest.raises(ScenarioError) as e:
        load_scenario(path, overrides)
    return e.value


def test_times_accept_datetimes_and_days(small):
    assert small.end_hours == 48.0
    s2 = small.with_overrides({"security.end": "2021-08-15T12:00:00+04:30"})
    assert s2.end_hours == 36.0
    # a datetime without offset takes the scenario's offset
    s3 = small.with_overrides({"security.end": "2021-08-15T12:00:00"})
    assert s3.end_hours == 36.0


def test_override_values_are_parsed_as_toml():
    assert parse_override("security.end=20") == ("security.end", 20)
    assert parse_override('gates.abbey.admits=["a", "b"]') == ("gates.abbey.admits", ["a", "b"])
    assert parse_override("name=plain words") == ("name", "plain words")
    with pytest.raises(ScenarioError):
        parse_override("no-equals-sign")


def test_overrides_reach_list_elements(small):
    s2 = small.with_overrides({"disruptions.0.end": 0.7})
    assert s2.hours(s2.disruptions[0].end) == pytest.approx(0.7 * 24)


def test_scenario_is_immutable(small):
    with pytest.raises(pydantic.ValidationError):
        small.name = "other"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        small.gates["abbey"].lanes = 9  # type: ignore[misc]


def test_nested_tables_and_lists_are_immutable(small):
    with pytest.raises(TypeError, match="immutable"):
        small.ramp.spots["heavy"] = 0  # type: ignore[index]
    with pytest.raises(TypeError, match="immutable"):
        small.gates.pop("abbey")  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="immutable"):
        small.cohorts.update({})  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        small.fleets["us_c17"].bases.append("tashkent")  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        small.cohorts["afghans"].arrival.profile[0] = (0.0, 9.0)  # type: ignore[index]
    assert small.ramp.spots["heavy"] == 3 and small.fleets["us_c17"].bases == ("qatar",)
    # copies are built whole, and stay read-only
    import copy
    import pickle

    for twin in (copy.deepcopy(small), pickle.loads(pickle.dumps(small)), small.with_overrides({"ramp.spots.heavy": 4})):
        with pytest.raises(TypeError):
            twin.ramp.spots["heavy"] = 0  # type: ignore[index]
    assert pickle.loads(pickle.dumps(small)) == small
    assert sim.Scenario.model_validate(small.model_dump(by_alias=True)) == small


def test_extends_merges_tables_and_validates(tmp_path, small_path):
    write(tmp_path, base_text(small_path), "base.toml")
    child = write(tmp_path, 'extends = "base.toml"\nname = "child"\n[gates.abbey]\nlanes = 7\n', "child.toml")
    s = load_scenario(child)
    assert s.name == "child"
    assert s.gates["abbey"].lanes == 7
    assert s.gates["abbey"].admits == ("any",)  # kept from the base
    assert s.gates["north"].lanes == 2
    bad = write(tmp_path, 'extends = "base.toml"\n[gates.abbey]\nlanez = 7\n', "bad.toml")
    e = error_of(bad)
    assert "gates.abbey.lanez" in str(e) and "unknown key" in str(e)


def test_extends_cycle_and_missing_base(tmp_path):
    a = write(tmp_path, 'extends = "b.toml"\n', "a.toml")
    write(tmp_path, 'extends = "a.toml"\n', "b.toml")
    assert "circular" in str(error_of(a))
    c = write(tmp_path, 'extends = "nowhere.toml"\n', "c.toml")
    assert "nowhere.toml" in str(error_of(c))


@pytest.mark.parametrize(
    ("override", "field", "words"),
    [
        ({"gates.abbey.lanez": 3}, "gates.abbey.lanez", "unknown key"),
        ({"airfield.holding_capacity_people": "many"}, "airfield.holding_capacity_people", "integer"),
        ({"bases.qatar.capacity_people": -5}, "bases.qatar.capacity_people", "greater than or equal to 0"),
        ({"security.end": -1}, "security.end", "after start"),
        ({"cohorts.afghans.carriers": ["mars"]}, "cohorts.afghans.carriers", "unknown operator"),
        ({"fleets.us_c17.bases": ["atlantis"]}, "fleets.us_c17.bases", "unknown base"),
        ({"gates.north.admits": ["ghosts"]}, "gates.north.admits", "unknown cohort"),
        ({"disruptions.0.target": "abbey"}, "disruptions.0.target", "not a valid target"),
        ({"departure.min_load_fraction": 1.5}, "departure.min_load_fraction", "less than or equal to 1"),
        ({"fleets.us_c17.size_class": "jumbo"}, "fleets.us_c17.size_class", "no ramp.spots entry"),
    ],
)
def test_bad_fields_are_named(small_path, override, field, words):
    e = error_of(small_path, override)
    text = str(e)
    assert str(small_path) in text
    assert field in text
    assert words in text


def test_missing_required_field(tmp_path, small_path):
    text = base_text(small_path).replace("holding_capacity_people = 800\n", "")
    e = error_of(write(tmp_path, text))
    assert "airfield.holding_capacity_people: missing" in str(e)


def test_toml_syntax_error_and_missing_file(tmp_path):
    e = error_of(write(tmp_path, "name = \n"))
    assert "TOML syntax error" in str(e) and "s.toml" in str(e)
    e = error_of(tmp_path / "absent.toml")
    assert "file not found" in str(e)


def test_default_scenario_is_the_reference():
    s = load_scenario()
    assert s.name == "kabul_2021"
    assert s.start.utcoffset().total_seconds() == 4.5 * 3600


def test_public_api_has_help():
    for obj in (sim.load_scenario, sim.run, sim.compare, sim.Scenario.with_overrides, sim.RunResult):
        assert obj.__doc__ and len(obj.__doc__.strip()) > 20


def test_a_bad_time_is_one_plain_message(small_path):
    e = error_of(small_path, {"security.end": "soon"})
    assert e.problems == [("security.end", "expected an ISO datetime or a number of days after start (got 'soon')")]
