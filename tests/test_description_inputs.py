"""Inputs checked at load: every way TOML writes a time, and what is refused with a message naming
the field (exit 2, before any simulation): quoted numbers as times, naive or out-of-calendar starts,
deep nesting, huge values, targets whose squares would not be finite, names without ASCII letters."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import sim
from sim.cli.main import main
from sim.description.errors import ScenarioError
from sim.description.loading import slug
from sim.description.overrides import parse_override

KABUL = timezone(timedelta(hours=4, minutes=30))


def refusal(small_path: Path, setting: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, source: str = "") -> str:
    """The message of ``airlift run --set setting`` on the small scenario (exit 2, nothing written),
    naming its ``source`` (by default the scenario file)."""
    out = tmp_path / "o"
    assert main(["run", str(small_path), "-n", "1", "--no-plots", "--set", setting, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and (source or str(small_path)) in err
    assert not out.exists()
    return err


def end_of(small_path: Path, setting: str) -> float:
    key, value = parse_override(setting)
    return sim.load_scenario(small_path, {key: value}).end_hours


# -- times: every way TOML writes one --------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "hours"),
    [
        ("security.end=2021-08-16T00:00:00+04:30", 48.0),  # offset datetime
        ("security.end=2021-08-15T19:30:00Z", 48.0),  # the same instant in UTC
        ("security.end=2021-08-16T00:00:00", 48.0),  # local datetime: the offset of start
        ("security.end=2021-08-15 12:00:00", 36.0),  # TOML's space separator
        ("security.end=2021-08-16", 48.0),  # a date: its midnight, at the offset of start
        ('security.end="2021-08-15T12:00:00+04:30"', 36.0),  # quoted ISO text
        ('security.end="2021-08-15"', 24.0),
        ("security.end=1.5", 36.0),  # days after start
    ],
)
def test_every_toml_time_is_read_as_the_readme_says(small_path, setting, hours):
    assert end_of(small_path, setting) == hours


def test_a_toml_datetime_override_is_plain_text_for_the_json_files():
    assert parse_override("security.end=2021-08-16T00:00:00+04:30") == ("security.end", "2021-08-16T00:00:00+04:30")
    assert parse_override("security.end=2021-08-16") == ("security.end", "2021-08-16")
    key, value = parse_override("gates.north.closed=[{start = 2021-08-15T00:00:00, end = 1.25}]")
    assert value == [{"start": "2021-08-15T00:00:00", "end": 1.25}]
    json.dumps(value)


def test_a_date_in_a_scenario_file_is_its_midnight(small_path, tmp_path):
    f = tmp_path / "dated.toml"
    f.write_text(small_path.read_text(encoding="utf-8").replace("end = 2.0\n", "end = 2021-08-15\n", 1), encoding="utf-8")
    s = sim.load_scenario(f)
    assert s.end_hours == 24.0
    assert s.model_dump(mode="json")["security"]["end"] == "2021-08-15T00:00:00"


def test_a_run_with_a_datetime_override_writes_iso_times(small_path, tmp_path, capsys):
    out = tmp_path / "o"
    argv = ["run", str(small_path), "-n", "1", "--no-plots", "--out", str(out)]
    assert (
        main([*argv, "--set", "security.end=2021-08-16T00:00:00+04:30", "--set", "cohorts.afghans.arrival.until=2021-08-17"]) == 0
    )
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    text = json.dumps(summary)
    assert "2021-08-16T00:00:00+04:30" in text and "2021-08-17" in text
    assert "datetime.datetime" not in text


@pytest.mark.parametrize("setting", ['security.end="1629500000"', 'security.end="2"', "disruptions.0.start='0.5'"])
def test_a_quoted_number_is_never_a_time(small_path, tmp_path, capsys, setting):
    err = refusal(small_path, setting, capsys, tmp_path)
    assert ": a number in quotes is not a time" in err and setting.split("=")[0] + ": " in err
    assert len(err.strip().splitlines()) == 1


def test_a_time_of_day_alone_is_refused(small_path, tmp_path, capsys):
    err = refusal(small_path, "security.end=06:00:00", capsys, tmp_path)
    assert "security.end: a time of day needs its date" in err


def test_a_naive_start_is_one_readable_line(small_path, tmp_path, capsys):
    err = refusal(small_path, "start=2021-08-14T00:00:00", capsys, tmp_path)
    assert "start: needs a UTC offset, e.g. 2021-08-14T00:00:00+04:30" in err
    assert "datetime.datetime" not in err and "datetime.date(" not in err
    assert len(err.strip().splitlines()) == 1
    err = refusal(small_path, "start=2021-08-14", capsys, tmp_path)
    assert "start: needs a UTC offset" in err and "datetime.date(" not in err


@pytest.mark.parametrize("setting", ["start=9999-12-31T23:00:00+04:30", "start=0001-01-01T00:00:00+04:30"])
def test_a_start_at_the_ends_of_the_calendar_is_refused(small_path, tmp_path, capsys, setting):
    err = refusal(small_path, setting, capsys, tmp_path)
    assert "start: too near the end of the calendar" in err


def test_a_datetime_far_from_start_is_refused_like_a_number_of_days(small, small_path, tmp_path, capsys):
    err = refusal(small_path, "fleets.us_c17.available_until=9999-12-31T00:00:00+04:30", capsys, tmp_path)
    assert "fleets.us_c17.available_until: more than 3,660 days from start" in err
    with pytest.raises(ScenarioError) as e:
        small.with_overrides({"reference_cumulative": [{"at": "1900-01-01T00:00:00+00:00", "evacuated": 1}]})
    assert e.value.problems == [("reference_cumulative.0.at", "more than 3,660 days from start")]
    within = small.with_overrides({"fleets.us_c17.available_until": datetime(2031, 8, 1, tzinfo=KABUL)})
    assert within.hours(within.fleets["us_c17"].available_until) < 3660 * 24  # type: ignore[arg-type]


def test_a_boolean_time_says_both_readings(small):
    with pytest.raises(ScenarioError) as e:
        small.with_overrides({"security.end": True})
    assert e.value.problems == [
        ("security.end", "expected an ISO datetime or a number of days after start, not a boolean (got True)")
    ]


# -- nesting and size ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "setting",
    [
        "name=" + "[" * 1000 + "]" * 1000,
        "gates.abbey.admits=" + "[" * 100 + "]" * 100,
        "reference={" + "a={" * 1000 + "}" * 1001,
    ],
)
def test_deep_nesting_is_a_clean_error(small_path, tmp_path, capsys, setting):
    err = refusal(small_path, setting, capsys, tmp_path, source="--set")
    assert f"--set: {setting.split('=')[0]}: nested too deeply (at most 32 levels)" in err
    assert len(err.strip().splitlines()) == 1


def test_a_deeply_nested_file_is_a_clean_error(small_path, tmp_path, capsys):
    f = tmp_path / "deep.toml"
    f.write_text(
        small_path.read_text(encoding="utf-8") + "\n[reference]\nx = " + "[" * 2000 + "]" * 2000 + "\n", encoding="utf-8"
    )
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert str(f) in err and "nested too deeply" in err and "Traceback" not in err


def test_a_huge_override_value_is_not_echoed_whole(small_path, tmp_path, capsys):
    names = "[" + ", ".join(f'"ghost{i}"' for i in range(5000)) + "]"
    err = refusal(small_path, f"gates.abbey.admits={names}", capsys, tmp_path)
    assert "ghost4999" not in err and "characters)" in err and "unknown cohort 'ghost0'" in err
    assert len(err) < 5000  # the first 20 problems and a count of the rest
    assert "more problems" in err and len(err.strip().splitlines()) == 21


# -- targets ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "field"),
    [
        ("{ value = nan, sd = 1, source = 'x' }", "targets.evacuated_total.value"),
        ("{ value = inf, sd = 1, source = 'x' }", "targets.evacuated_total.value"),
        ("{ value = 1, sd = inf, source = 'x' }", "targets.evacuated_total.sd"),
        ("{ value = 1, sd = 0, source = 'x' }", "targets.evacuated_total.sd"),
        ("{ value = 1, sd = -1, source = 'x' }", "targets.evacuated_total.sd"),
        ("{ value = 1, sd = 1e-300, source = 'x' }", "targets.evacuated_total.sd"),
        ("{ value = 1, sd = 1e308, source = 'x' }", "targets.evacuated_total.sd"),
        ("{ value = 1e308, sd = 1, source = 'x' }", "targets.evacuated_total.value"),
        ("{ low = -1e308, high = 1e308, source = 'x' }", "targets.evacuated_total.low"),
        ("{ low = 0, high = nan, source = 'x' }", "targets.evacuated_total.high"),
        ("{ value = true, sd = 1, source = 'x' }", "targets.evacuated_total.value"),
        ("{ value = 1, sd = true, source = 'x' }", "targets.evacuated_total.sd"),
    ],
)
def test_a_target_is_finite_bounded_and_never_a_boolean(small_path, tmp_path, capsys, target, field):
    f = tmp_path / "t.toml"
    f.write_text(small_path.read_text(encoding="utf-8") + f"\n[targets]\nevacuated_total = {target}\n", encoding="utf-8")
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert f": {field}: " in err and str(f) in err and "Traceback" not in err


def test_every_target_accepted_has_a_finite_nonzero_variance(small_path, tmp_path):
    f = tmp_path / "t.toml"
    targets = "a = { value = 1e150, sd = 1e150, source = 'x' }\nb = { value = 0, sd = 1e-150, source = 'x' }\n"
    targets += "c = { low = -1e150, high = 1e150, source = 'x' }\n"
    f.write_text(small_path.read_text(encoding="utf-8") + f"\n[targets]\n{targets}", encoding="utf-8")
    for t in sim.load_scenario(f).targets.values():
        assert math.isfinite(t.variance) and t.variance > 0 and math.isfinite(t.observed)


# -- output folders --------------------------------------------------------------------------------


def test_names_without_ascii_letters_get_their_own_folders():
    names = ["Кабул", "Москва", "喀布尔", "كابل", "Кабул 2021", "Дубай 2021"]
    slugs = [slug(n) for n in names]
    assert len(set(slugs)) == len(names), slugs
    assert all(s.startswith(("scenario-", "_")) or s[0].isascii() for s in slugs)
    assert all(all(c.isascii() and (c.isalnum() or c in "-_.") for c in s) for s in slugs)
    assert slug("Кабул") == slug("Кабул")  # the same name, the same folder
    assert slug("kabul_2021") == "kabul_2021" and slug("a/b c") == "a_b_c"  # ASCII names as before
