"""Scenario files: TOML read (UTF-8, a byte-order mark allowed), ``extends`` inheritance merged (and a
variant's ``remove`` and ``[set]`` applied by dotted key, its ``[scale]`` factors last), overrides applied,
the result validated; where the bundled scenarios are; the folder name a
scenario's results go to by default."""

from __future__ import annotations

import copy
import hashlib
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.description.errors import ScenarioError
from sim.description.overrides import apply_overrides, check_nesting, iso_times, key_path, remove_entries, thaw
from sim.description.scaling import apply_scale
from sim.description.scenario import Scenario, validate
from sim.description.validation import shown

__all__ = ["DEFAULT_SCENARIO", "load_scenario", "read_toml", "resolve_path", "scenarios_dir", "slug"]

DEFAULT_SCENARIO = "kabul_2021.toml"


def read_toml(path: Path, what: str = "") -> dict[str, Any]:
    """A TOML file as a mapping, or a :class:`ScenarioError` naming the file (and ``what``
    pointed at it, e.g. ``extends``). A UTF-8 byte-order mark is accepted and dropped."""
    try:
        if path.is_dir():
            raise ScenarioError(str(path), [(what, "is a folder, not a TOML file")])
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(str(path), [(what, "file not found")]) from None
    except OSError as e:
        raise ScenarioError(str(path), [(what, f"cannot read: {e.strerror}")]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        msg = f"not UTF-8 text (byte 0x{data[e.start]:02x} on line {line}): save the file as UTF-8"
        raise ScenarioError(str(path), [(what, msg)]) from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(str(path), [(what, f"TOML syntax error: {e}")]) from None
    except RecursionError:
        raise ScenarioError(str(path), [(what, "lists or tables nested too deeply")]) from None
    check_nesting(table, str(path), what)
    return table


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: tables merge key by key, anything else (values, lists) is replaced."""
    out = copy.deepcopy(base)
    for k, v in top.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _load_raw(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    path = path.resolve()
    if path in seen:
        raise ScenarioError(str(path), [("extends", "circular inheritance")])
    raw = read_toml(path)
    parent = raw.pop("extends", None)
    removed, settings = raw.pop("remove", None), raw.pop("set", None)
    if parent is None:
        if removed is not None or settings is not None:
            key = "remove" if removed is not None else "set"
            raise ScenarioError(str(path), [(key, "only in a file that extends another (it changes the base's entries)")])
        return raw
    if not isinstance(parent, str):
        raise ScenarioError(str(path), [("extends", "must be a file name")])
    parent_path = (path.parent / parent).resolve()
    if not parent_path.exists():
        raise ScenarioError(str(path), [("extends", f"base scenario {parent!r} not found")])
    if not parent_path.is_file():
        raise ScenarioError(str(path), [("extends", f"base scenario {parent!r} is not a file ({parent_path})")])
    merged = _merge(_load_raw(parent_path, (*seen, path)), raw)
    _change_by_key(merged, removed, settings, str(path))
    if removed:  # the resolved scenario keeps what every file of the chain removed
        merged["remove"] = [*merged.get("remove", []), *removed]
    return merged


def _change_by_key(raw: dict[str, Any], removed: Any, settings: Any, source: str) -> None:
    """A variant's ``remove`` (dotted keys of entries to drop) and ``[set]`` (dotted keys and their
    values), applied to the merged scenario in that order, as ``--set`` applies overrides: a name
    that is not there is an error naming the file and ``remove`` or ``set."KEY"``."""
    if removed is not None:
        if not isinstance(removed, list) or not all(isinstance(k, str) for k in removed):
            raise ScenarioError(source, [("remove", 'must be a list of dotted keys, e.g. ["disruptions.abbey_bombing"]')])
        try:
            _forget_uncertain_under(raw, removed, source)
            remove_entries(raw, removed, source, Scenario)
        except ScenarioError as e:
            raise ScenarioError(source, [(f'remove "{k}"', m) for k, m in e.problems]) from None
    if settings is not None:
        if not isinstance(settings, dict):
            raise ScenarioError(
                source, [("set", 'must be a table of dotted keys, e.g. "disruptions.abbey_bombing.end" = 2021-08-27')]
            )
        for key, value in settings.items():
            try:
                apply_overrides(raw, {key: iso_times(value)}, source, Scenario)
            except ScenarioError as e:
                raise ScenarioError(source, [(f'set."{key}"', m) for _, m in e.problems]) from None


def _forget_uncertain_under(raw: dict[str, Any], removed: list[str], source: str) -> None:
    """Drop the ``[uncertain]`` keys that lie in an entry about to be removed (however spelt, by
    name or index): what is gone has no range."""
    table = raw.get("uncertain")
    if not isinstance(table, dict):
        return
    gone = [key_path(raw, k, source, Scenario) for k in removed]
    for key in list(table):
        try:
            path = key_path(raw, str(key), source, Scenario)
        except ScenarioError:
            continue  # reported when the scenario is validated
        if any(path[: len(g)] == g for g in gone):
            del table[key]


def scenarios_dir() -> Path:
    """The folder of bundled scenarios: inside an installed wheel, else the repository's."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "scenarios"
    return packaged if packaged.is_dir() else package.parent / "scenarios"


def resolve_path(path: str | Path | None) -> Path:
    """A scenario path; ``None`` is the bundled reference scenario. A relative path that is not a
    file here is looked up among the bundled scenarios, with or without ``.toml``
    (``wadi_saeedna_2023`` is ``scenarios/wadi_saeedna_2023.toml``)."""
    if path is None:
        return scenarios_dir() / DEFAULT_SCENARIO
    p = Path(path)
    if p.exists() or p.is_absolute():
        return p
    if (scenarios_dir() / p).exists():
        return scenarios_dir() / p
    if (scenarios_dir() / f"{p}.toml").is_file():
        return scenarios_dir() / f"{p}.toml"
    return p


def load_scenario(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load, merge (``extends``), override and validate a scenario file.

    ``path=None`` loads the Kabul 2021 reference scenario. Raises :class:`ScenarioError` with
    a message naming the file and the dotted field for any problem.
    """
    p = resolve_path(path)
    raw = _load_raw(p)
    if raw.get("scale"):
        # factors apply to the complete scenario (defaults included), so validate, scale, validate again
        unscaled = validate(raw, str(p), check_uncertain=False)
        raw = thaw(unscaled.model_dump(mode="python", by_alias=True))
        apply_scale(raw, unscaled.scale, str(p), Scenario)
    scenario = validate(raw, str(p))
    if overrides:
        # resolved against the complete scenario, so keys with defaults exist even if the file omits them
        source = f"{p} (with {', '.join(f'{k}={shown(v)}' for k, v in overrides.items())})"
        scenario = scenario.with_overrides(overrides, source)
    return scenario


def slug(name: str) -> str:
    """A safe folder name from a scenario name: letters, digits, ``-``, ``_`` and ``.`` only,
    never ``.`` or ``..`` (so a default output folder stays inside ``out/``). Letters outside
    ASCII become ``_``; a short hash of the whole name then tells such names apart."""
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name).strip("._")
    if any(c.isalnum() and not c.isascii() for c in name):
        return f"{safe[:90] or 'scenario'}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    return safe[:100] or "scenario"
