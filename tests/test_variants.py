"""Variants: named disruptions, a variant's ``remove``, ``[set]`` and ``[scale]``, and what-ifs that
change only what they name (relative to each plausible setting where they mean "more")."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.description.disruptions import ArrivalFactor
from sim.description.errors import ScenarioError
from sim.description.lookup import scaled_keys, value_at
from sim.experiments.ensemble import Ensemble, load_ensemble
from sim.experiments.identity import flat_keys
from sim.experiments.replications import _own_values

from .conftest import DATA, ROOT

SMALL = (DATA / "small.toml").as_posix()
VARIANTS = sorted(p for p in (ROOT / "scenarios").glob("kabul_2021_*.toml"))
META = {"name", "description", "remove", "scale"}
"""Top-level keys every variant changes by being one (its name and text, and what it records)."""

EVENTS = """
[[disruptions]]
name = "riot"
kind = "gate_closure"
start = 0.25
end = 0.5
target = "abbey"

[[disruptions]]
name = "threat"
kind = "gate_closure"
start = 1.0
target = "north"

[[disruptions]]
name = "checkpoints"
kind = "arrival_factor"
start = 0.5
target = "*"
value = 0.5
"""


def write(folder: Path, text: str, name: str = "v.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def named(tmp_path: Path) -> Path:
    """The small scenario with three named disruptions (and a range for one of them)."""
    text = (
        f'extends = "{SMALL}"\nname = "named"\n{EVENTS}\n[uncertain]\n"disruptions.threat.start" = {{ low = 0.8, high = 1.2 }}\n'
    )
    return write(tmp_path, text, "named.toml")


def problems(path: Path) -> list[tuple[str, str]]:
    with pytest.raises(ScenarioError) as e:
        sim.load_scenario(path)
    assert e.value.source == str(path)
    return e.value.problems


# ---- named disruptions ------------------------------------------------------------------------------


def test_a_disruption_is_addressed_by_name_as_by_index(named: Path) -> None:
    s = sim.load_scenario(named)
    assert [d.name for d in s.disruptions] == ["riot", "threat", "checkpoints"]
    by_name = s.with_overrides({"disruptions.threat.end": 1.5})
    by_index = s.with_overrides({"disruptions.1.end": 1.5})
    end = by_name.disruptions[1].end
    assert by_name == by_index and end is not None and by_name.hours(end) == 36.0
    assert value_at(s, "disruptions.checkpoints.value") == 0.5 == value_at(s, "disruptions.2.value")


def test_an_unknown_disruption_name_lists_the_names(named: Path) -> None:
    s = sim.load_scenario(named)
    with pytest.raises(ScenarioError) as e:
        s.with_overrides({"disruptions.treat.end": 1.5})
    [(field, message)] = e.value.problems
    assert field == "disruptions.treat.end"
    assert message == "no disruption 'treat' in disruptions (indexes 0 to 2; names: checkpoints, riot, threat)"


@pytest.mark.parametrize(
    ("name", "field", "expected"),
    [
        ("riot", "disruptions.1.name", "'riot' is the name of disruption 0 too: names must be unique"),
        ("2", "disruptions.1.name", "String should match pattern"),
        ("a.b", "disruptions.1.name", "String should match pattern"),
    ],
)
def test_disruption_names_are_unique_and_never_an_index(tmp_path: Path, name: str, field: str, expected: str) -> None:
    events = EVENTS.replace('name = "threat"', f'name = "{name}"')
    text = f'extends = "{SMALL}"\n{events}'
    found = problems(write(tmp_path, text))
    assert any(f == field and expected in m for f, m in found), found


# ---- remove and [set] -----------------------------------------------------------------------------------


def test_remove_drops_one_event_by_name_and_its_range(tmp_path: Path, named: Path) -> None:
    base = sim.load_scenario(named)
    variant = write(tmp_path, 'extends = "named.toml"\nremove = ["disruptions.threat"]\n')
    s = sim.load_scenario(variant)
    assert [d.name for d in s.disruptions] == ["riot", "checkpoints"]
    assert s.disruptions == (base.disruptions[0], base.disruptions[2])
    assert "disruptions.threat.start" not in s.uncertain and "disruptions.threat.start" in base.uncertain
    assert s.remove == ("disruptions.threat",)
    assert s.removed("disruptions.threat.start") and not s.removed("disruptions.threats.start")


def test_remove_by_index_names_the_list_as_it_was(tmp_path: Path, named: Path) -> None:
    s = sim.load_scenario(write(tmp_path, 'extends = "named.toml"\nremove = ["disruptions.0", "disruptions.2"]\n'))
    assert [d.name for d in s.disruptions] == ["threat"]


def test_remove_a_key_restores_its_default(tmp_path: Path) -> None:
    base = sim.load_scenario(DATA / "small.toml")
    s = sim.load_scenario(
        write(tmp_path, f'extends = "{SMALL}"\nremove = ["fleets.us_c17.surge_seats", "fleets.us_c17.crew_rest_hours"]\n')
    )
    assert base.fleets["us_c17"].surge_seats == 450 and s.fleets["us_c17"].surge_seats is None
    assert s.fleets["us_c17"].model_copy(update={"surge_seats": 450}) == base.fleets["us_c17"]  # a default stays a default


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ('remove = ["disruptions.threet"]', 'remove "disruptions.threet"', "no disruption 'threet' in disruptions"),
        ('remove = ["gates.abey"]', 'remove "gates.abey"', "unknown gate 'abey' in gates"),
        ('remove = ["disruptions.threat", "disruptions.1"]', 'remove "disruptions.1"', "removed twice"),
        ('remove = "disruptions.threat"', "remove", "must be a list of dotted keys"),
        ('[set]\n"disruptions.threet.end" = 2.0', 'set."disruptions.threet.end"', "no disruption 'threet'"),
        ('[set]\n"disruptions.threat.valeu" = 2.0', 'set."disruptions.threat.valeu"', "unknown key 'valeu'"),
        ('[scale]\n"gates.*.lanez" = 2.0', 'scale."gates.*.lanez"', "matches no number of the scenario"),
        ('[scale]\n"gates.abbey.admits" = 2.0', 'scale."gates.abbey.admits"', "not a number-valued scenario key"),
        ('[scale]\n"gates.abey.lanes" = 2.0', "gates.abey.lanes", "unknown gate 'abey' in gates"),
    ],
)
def test_bad_variant_keys_are_refused_naming_file_and_key(
    tmp_path: Path, named: Path, text: str, field: str, message: str
) -> None:
    found = problems(write(tmp_path, f'extends = "named.toml"\n{text}\n'))
    assert any(f == field and message in m for f, m in found), found


def test_remove_and_set_need_a_base(tmp_path: Path) -> None:
    whole = (DATA / "small.toml").read_text(encoding="utf-8")
    found = problems(write(tmp_path, 'remove = ["fleets.us_c17"]\n' + whole))
    assert found == [("remove", "only in a file that extends another (it changes the base's entries)")]


def test_set_changes_one_event_by_name(tmp_path: Path, named: Path) -> None:
    text = 'extends = "named.toml"\n[set]\n"disruptions.checkpoints.value" = 0.25\n"disruptions.threat.end" = 1.5\n'
    s, base = sim.load_scenario(write(tmp_path, text)), sim.load_scenario(named)
    checkpoints, threat = s.disruptions[2], s.disruptions[1]
    assert isinstance(checkpoints, ArrivalFactor) and checkpoints.value == 0.25
    assert threat.end is not None and s.hours(threat.end) == 36.0
    assert s.disruptions[0] == base.disruptions[0]


# ---- [scale] ---------------------------------------------------------------------------------------------


def test_scale_multiplies_every_match_and_its_schedule_rounding_half_up(tmp_path: Path) -> None:
    text = f'extends = "{SMALL}"\n[gates.north]\nlane_schedule = [{{ from = 1.0, value = 3 }}]\n[scale]\n"gates.*.lanes" = 2.5\n'
    s = sim.load_scenario(write(tmp_path, text))
    base = sim.load_scenario(DATA / "small.toml")
    assert {g: s.gates[g].lanes for g in s.gates} == {g: math.floor(2.5 * base.gates[g].lanes + 0.5) for g in base.gates}
    assert s.gates["north"].lanes == 5 and s.gates["north"].lane_schedule[0].value == 8  # 2 x 2.5; 3 x 2.5 = 7.5 -> 8


def test_scale_factors_of_several_patterns_multiply(tmp_path: Path) -> None:
    text = f'extends = "{SMALL}"\n[scale]\n"gates.*.lanes" = 2.0\n"gates.abbey.lanes" = 1.5\n'
    s = sim.load_scenario(write(tmp_path, text))
    assert (s.gates["abbey"].lanes, s.gates["north"].lanes) == (9, 4)  # 3 x 3, 2 x 2


def test_an_override_of_a_scaled_key_is_scaled(tmp_path: Path) -> None:
    s = sim.load_scenario(write(tmp_path, f'extends = "{SMALL}"\n[scale]\n"ramp.spots.*" = 2.0\n'))
    assert s.ramp.spots == {"heavy": 6, "medium": 4}
    again = s.with_overrides({"ramp.spots.heavy": 5})
    assert again.ramp.spots == {"heavy": 10, "medium": 4}  # the override scaled; the rest as it was
    assert s.with_overrides({"gates.abbey.lanes": 5}).ramp.spots == s.ramp.spots
    assert scaled_keys(s, ["ramp.spots.heavy", "gates.abbey.lanes"]) == {"ramp.spots.heavy"}


def test_a_child_keeps_its_parents_scale_and_removals(tmp_path: Path, named: Path) -> None:
    write(tmp_path, 'extends = "named.toml"\nremove = ["disruptions.riot"]\n[scale]\n"gates.*.lanes" = 2.0\n', "mid.toml")
    s = sim.load_scenario(
        write(tmp_path, 'extends = "mid.toml"\nremove = ["disruptions.threat"]\n[scale]\n"ramp.spots.heavy" = 3.0\n')
    )
    assert s.remove == ("disruptions.riot", "disruptions.threat")
    assert [d.name for d in s.disruptions] == ["checkpoints"]
    assert (s.gates["abbey"].lanes, s.ramp.spots["heavy"]) == (6, 9)


# ---- the shipped variants: only what they name, relative where they mean "more" ---------------------------


def flat(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted key -> value; list elements by their ``name`` where they have one, else by index."""
    items: list[tuple[str, Any]]
    if isinstance(tree, dict):
        items = list(tree.items())
    elif isinstance(tree, list | tuple) and tree and all(isinstance(x, dict) for x in tree):
        items = [(x.get("name") or str(i), x) for i, x in enumerate(tree)]
    else:
        return {prefix: tree}
    out: dict[str, Any] = {}
    for k, v in items:
        out.update(flat(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def named_keys(path: Path, base: sim.Scenario) -> list[str]:
    """The keys a variant file names: its values, its [set] keys, its removals, its [scale] matches."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    raw.pop("extends")
    keys = [*raw.pop("remove", []), *raw.pop("set", {})]
    patterns = raw.pop("scale", {})
    keys += [k for k in flat(raw) if k.split(".")[0] not in META]
    dumped = flat(base.model_dump(mode="python", by_alias=True))
    for pattern in patterns:
        parts = pattern.split(".")
        keys += [k for k in dumped if len(k.split(".")) == len(parts) and all(p in ("*", q) for p, q in zip(parts, k.split(".")))]
    return keys


def under(key: str, names: list[str]) -> bool:
    return any(key == n or key.startswith(f"{n}.") for n in names)


def schedule_of(key: str) -> str:
    parent, _, last = key.rpartition(".")
    return {"lanes": f"{parent}.lane_schedule", "count": f"{parent}.count_schedule"}.get(last, key)


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: p.stem)
def test_a_variant_differs_from_the_reference_exactly_in_the_keys_it_names(path: Path) -> None:
    base = sim.load_scenario("kabul_2021.toml")
    variant = sim.load_scenario(path)
    named = named_keys(path, base)
    names = named + [schedule_of(k) for k in named]  # a scaled key's schedule is scaled with it
    a, b = flat(base.model_dump(mode="python", by_alias=True)), flat(variant.model_dump(mode="python", by_alias=True))
    differ = {k for k in a.keys() | b.keys() if a.get(k, "absent") != b.get(k, "absent") and k.split(".")[0] not in META}
    # uncertain ranges of removed entries go with them
    assert differ and all(under(k, names) or under(k.replace("uncertain.", "", 1), names) for k in differ), differ - {
        k for k in differ if under(k, names)
    }
    # and every key it names does change (a variant naming a key it leaves alone would mislead)
    assert all(under(n, sorted(differ)) or any(d.startswith(f"{n}.") for d in differ) for n in named)


@pytest.fixture(scope="module")
def ensemble() -> Ensemble:
    return load_ensemble(ROOT / "scenarios" / "kabul_2021_ensemble.csv")


@pytest.mark.parametrize(
    "path", [p for p in VARIANTS if "scale" in tomllib.loads(p.read_text(encoding="utf-8"))], ids=lambda p: p.stem
)
def test_with_an_ensemble_setting_a_scaled_key_is_the_factor_times_the_settings_value(path: Path, ensemble: Ensemble) -> None:
    base = sim.load_scenario("kabul_2021.toml")
    variant = sim.load_scenario(path)
    factors = tomllib.loads(path.read_text(encoding="utf-8"))["scale"]
    assert _own_values(base, variant, ensemble.keys) == []  # no key of the ensemble kept at the variant's own value
    for replication in range(4):
        a, b = ensemble.apply(base, replication), ensemble.apply(variant, replication)
        fa, fb = flat(a.model_dump(mode="python", by_alias=True)), flat(b.model_dump(mode="python", by_alias=True))
        scaled = [k for k in named_keys(path, a) if isinstance(fa.get(k), int | float) and k in fb]
        assert scaled
        for key in scaled:
            factor = next(f for p, f in factors.items() if all(x in ("*", y) for x, y in zip(p.split("."), key.split("."))))
            assert fb[key] == math.floor(factor * fa[key] + 0.5)
            for i, step in enumerate(fa.get(schedule_of(key), []) if schedule_of(key) != key else []):
                assert fb[schedule_of(key)][i]["value"] == math.floor(factor * step["value"] + 0.5)
        changed = {k for k in fa if fa[k] != fb.get(k) and k.split(".")[0] not in META}
        assert all(under(k, [*scaled, *map(schedule_of, scaled)]) or under(k, named_keys(path, a)) for k in changed)


def test_a_variant_removing_an_event_passes_over_the_settings_keys_inside_it(tmp_path: Path, named: Path) -> None:
    s = sim.load_scenario(write(tmp_path, 'extends = "named.toml"\nremove = ["disruptions.threat"]\n'))
    ens = Ensemble(({"disruptions.threat.start": 0.9, "gates.abbey.lanes": 4},), "settings")
    ens.check(s)
    assert ens.apply(s, 0).gates["abbey"].lanes == 4
    assert _own_values(sim.load_scenario(named), s, ens.keys) == []


def test_an_ensemble_naming_elements_by_index_is_refused_where_a_variant_removed_some(tmp_path: Path, named: Path) -> None:
    s = sim.load_scenario(write(tmp_path, 'extends = "named.toml"\nremove = ["disruptions.riot"]\n'))
    ens = Ensemble(({"disruptions.2.value": 0.25},), "settings")  # "checkpoints" in the base; 1 in the variant
    with pytest.raises(ScenarioError) as e:
        ens.check(s)
    assert e.value.problems == [
        (
            "disruptions.2.value",
            "names an element of disruptions by index, but this scenario removed some of them: name it instead",
        )
    ]
    ens.check(sim.load_scenario(named))  # the base itself is fine


def test_what_compare_lists_as_different_names_the_removed_events_not_shifted_indexes() -> None:
    base, calm = sim.load_scenario("kabul_2021.toml"), sim.load_scenario("kabul_2021_no_attack.toml")
    fa, fb = flat_keys(base.model_dump(mode="json", by_alias=True)), flat_keys(calm.model_dump(mode="json", by_alias=True))
    differ = {k.split(".")[1] for k in fa.keys() | fb.keys() if k.startswith("disruptions.") and fa.get(k) != fb.get(k)}
    assert differ == {"abbey_bombing", "bombing_new_moi"}
