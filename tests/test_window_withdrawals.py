"""A security window that opens later than the scenario start (``security.start``), and several
withdrawals of the security force (``[[retrograde]]``), each flown by its own carriers from its own start."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.description.errors import ScenarioError
from sim.description.metric_catalog import metric_names
from sim.model.timeline import Timeline
from sim.model.world import World

from .record_checks import check_all
from .test_invariants import SMALL, scenario_overrides
from .test_runway_ramp_fleet import scripted

TWO_WITHDRAWALS = [
    {"name": "germans", "troops": 200, "start": 1.0, "carriers": ["germany"]},
    {"name": "americans", "troops": 500, "start": 1.5, "carriers": ["us"]},
]
"""The small scenario's two operators each fly out their own force: Germany's from 24 h, the US's from 36 h."""


def run(scenario: sim.Scenario, seed: int = 1) -> World:
    w = World(scenario, seed=seed, replication=0)
    w.run()
    return w


# ---- the security start ------------------------------------------------------------------------


def test_absent_start_is_the_scenario_start(small):
    tl = Timeline.from_scenario(small)
    assert small.security.start is None and small.secured_from_hours == 0.0 and tl.secured_from == 0.0
    early = small.with_overrides({"security.start": -1.0})  # secured before the scenario starts: the same
    assert early.secured_from_hours == 0.0 and Timeline.from_scenario(early).gate_closures == tl.gate_closures


def test_no_aircraft_lands_before_the_security_start(small):
    # without a start the C-17 lands at 1, 9, 17, 37, 45, 53 (tests/test_runway_ramp_fleet.py). Secured from
    # 12 h, it leaves its base at 11 (its crew's duty day starts then) and lands at 12: 1 h on the ground
    # fixed, 2 more waiting for passengers, takes off at 15; base at 16, turned round at 19, lands 20, 28.
    # At 35 the next 6 h sortie would end 30 h into the duty day begun at 11: rest until 47; lands 48, 56,
    # 64; at 71 no landing before the last (69) is possible.
    w = scripted(small, **{"security.start": 0.5})
    landings = [m.start for m in w.records.movements_flown() if m.kind == "landing"]
    takeoffs = [m.start for m in w.records.movements_flown() if m.kind == "takeoff"]
    assert landings == pytest.approx([12, 20, 28, 48, 56, 64])
    assert takeoffs == pytest.approx([15, 23, 31, 51, 59, 67])


def test_gates_admit_nobody_before_the_security_start_and_early_arrivals_wait(small):
    s = small.with_overrides({"security.start": 1.0})
    tl = Timeline.from_scenario(s)
    assert tl.secured_from == 24.0
    assert not any(tl.gate_open(g, t) for g in s.gates for t in (0.0, 12.0, 23.99))
    assert tl.gate_open("abbey", 24.0) and 24.0 in tl.change_times["abbey"]
    w = run(s)
    check_all(w)
    rec = w.records
    assert min(x.start for x in rec.screened) == pytest.approx(24.0)  # the crowd gathered before is screened at once
    assert min(d.landed for d in rec.departures) >= 24.0
    assert all(b.at >= 24.0 for b in rec.boardings)
    hourly = w.summary()["hourly"]
    before = [i for i, h in enumerate(hourly["hours"]) if h < 24.0]
    assert all(hourly["airfield_people"][i] == 0 and hourly["evacuated_cumulative"][i] == 0 for i in before)
    assert hourly["gate_queue_people"][before[-1]] > 0  # people who came early wait in the gate crowds
    # every person-hour waited before the start is held back by the (closed) gates, and by nothing else
    crowd = hourly["gate_queue_people"]
    assert hourly["limit_gates_hours"][24] == pytest.approx(sum(crowd[i] for i in before))
    assert all(hourly[f"limit_{c}_hours"][24] == 0 for c in ("holding", "fleet", "crew", "ramp", "runway", "staging"))


def test_a_later_start_evacuates_fewer(small):
    """The window's length reads right: for the same end, a later start gets fewer out (same seeds)."""
    evacuated = [
        run(small.with_overrides({"security.start": start})).summary()["metrics"]["evacuated_total"] for start in (0.0, 0.5, 1.0)
    ]
    assert evacuated[0] > evacuated[1] > evacuated[2] > 0


def test_the_security_end_moves_alone_when_swept(small):
    s = small.with_overrides({"security.start": 0.5})
    later = s.with_overrides({"security.end": 3.0})
    assert later.secured_from_hours == 12.0 and Timeline.from_scenario(later).end == 72.0


# ---- several withdrawals -----------------------------------------------------------------------


def test_two_withdrawals_each_flown_only_by_its_carriers_from_its_start(small):
    s = small.with_overrides({"retrograde": TWO_WITHDRAWALS})
    tl = Timeline.from_scenario(s)
    assert tl.withdrawal_starts == [24.0, 36.0] and tl.retrograde_start == 24.0
    w = run(s)
    check_all(w)
    rec, m = w.records, w.summary()["metrics"]
    operator = {d.aircraft: d.operator for d in rec.departures}
    germans = [x for x in rec.troops_flown if x.withdrawal == 0]
    americans = [x for x in rec.troops_flown if x.withdrawal == 1]
    assert {operator[x.aircraft] for x in germans} == {"germany"} and {operator[x.aircraft] for x in americans} == {"us"}
    assert sum(x.troops for x in germans) == 200 and sum(x.troops for x in americans) == 500
    # troops board at or after their withdrawal's start, on their carriers' aircraft only
    troop_chalks = [b for b in rec.boardings if b.troops]
    assert all(b.at >= (24.0 if b.aircraft.startswith("de_") else 36.0) for b in troop_chalks)
    assert m["troops_flown"] == 700 and m["troops_stranded"] == 0
    assert m["withdrawal.germans.troops_flown"] == 200 and m["withdrawal.germans.troops_stranded"] == 0
    assert m["withdrawal.americans.troops_flown"] == 500 and m["withdrawal.americans.troops_stranded"] == 0


def test_troops_board_ahead_of_every_evacuee_on_their_carriers(small):
    """Once a withdrawal has started, a chalk of its carrier takes evacuees only when none of its troops wait."""
    w = run(small.with_overrides({"retrograde": TWO_WITHDRAWALS}))
    for prefix, start, troops in (("de_", 24.0, 200), ("us_", 36.0, 500)):
        boarded = 0
        for b in (b for b in w.records.boardings if b.aircraft.startswith(prefix)):
            boarded += b.troops
            if b.at >= start and b.people > 0:
                assert boarded == troops, (b, boarded)
        assert boarded == troops


def test_a_withdrawal_without_aircraft_is_stranded_alone(small):
    withdrawals = [TWO_WITHDRAWALS[0], {**TWO_WITHDRAWALS[1], "troops": 50}]
    m = run(small.with_overrides({"retrograde": withdrawals, "fleets.de_a400m.count": 0})).summary()["metrics"]
    assert m["withdrawal.germans.troops_flown"] == 0 and m["withdrawal.germans.troops_stranded"] == 200
    assert m["withdrawal.americans.troops_flown"] == 50 and m["withdrawal.americans.troops_stranded"] == 0
    assert m["troops_stranded"] == 200


def test_a_list_of_one_withdrawal_runs_as_the_single_table(small):
    single = small.retrograde
    assert not isinstance(single, tuple)
    listed = small.with_overrides({"retrograde": [single.model_dump(mode="python")]})
    assert listed.withdrawal_names == ["0"] and small.withdrawal_names == []
    a, b = run(small, seed=3), run(listed, seed=3)
    assert a.records.departures == b.records.departures and a.records.boardings == b.records.boardings
    ma, mb = a.summary()["metrics"], b.summary()["metrics"]
    assert {k: v for k, v in mb.items() if not k.startswith("withdrawal.")} == ma
    assert mb["withdrawal.0.troops_flown"] == ma["troops_flown"] > 0
    assert mb["withdrawal.0.troops_stranded"] == ma["troops_stranded"] == 300 - ma["troops_flown"]


def test_withdrawal_starts_and_metric_names(small):
    withdrawals = [
        {"troops": 100, "hours_before_end": 6, "carriers": ["us"]},
        {"name": "later", "troops": 0, "carriers": ["germany"]},
    ]
    s = small.with_overrides({"retrograde": withdrawals})
    tl = Timeline.from_scenario(s)
    assert tl.withdrawal_starts[0] == 42.0 and math.isinf(tl.withdrawal_starts[1]) and tl.retrograde_start == 42.0
    names = metric_names(s)
    assert "withdrawal.0.troops_flown" in names and "withdrawal.later.troops_stranded" in names
    assert not any(n.startswith("withdrawal.") for n in metric_names(small))
    # a withdrawal is overridden by its index; a bad index is named
    assert s.with_overrides({"retrograde.0.troops": 20}).withdrawals[0].troops == 20
    refusal = r"retrograde.2.troops: no withdrawal '2' in retrograde \(indexes 0 to 1; names: later\)"
    with pytest.raises(sim.ScenarioError, match=refusal):
        s.with_overrides({"retrograde.2.troops": 20})
    assert small.with_overrides({"retrograde.troops": 20}).withdrawals[0].troops == 20  # the single table as before


@st.composite
def window_and_withdrawals(draw: st.DrawFn) -> dict[str, object]:
    """A random variation of the small scenario (as the invariant tests draw them) with a security start
    and up to three withdrawals, each with its own troops, start and carriers."""
    o = draw(scenario_overrides())
    days = float(o["security.end"])
    del o["retrograde.troops"], o["retrograde.start"]
    leads = ("security.gate_close_lead_hours", "security.last_landing_lead_hours", "security.last_takeoff_lead_hours")
    room = days * 24 - max(float(o[k]) for k in leads)  # hours a start may come after the scenario start
    if room > 0 and draw(st.integers(0, 3)):
        o["security.start"] = draw(st.floats(-6.0, 0.95 * room)) / 24
    carriers = st.lists(st.sampled_from(["us", "germany"]), min_size=1, max_size=2, unique=True)
    o["retrograde"] = [
        {"troops": draw(st.integers(0, 400)), "start": draw(st.floats(-0.2, days)), "carriers": draw(carriers)}
        for _ in range(draw(st.integers(0, 3)))
    ]
    return o


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(o=window_and_withdrawals(), seed=st.integers(0, 2**32 - 1))
def test_random_windows_and_withdrawals_keep_every_invariant(o, seed):
    try:
        s = SMALL.with_overrides(o)
        w = World(s, seed, 0)
    except ScenarioError:
        return  # refused with a clear error is a right answer
    w.run()
    check_all(w)
    secured = s.secured_from_hours
    assert all(x.start >= secured for x in w.records.screened)
    assert all(d.landed >= secured for d in w.records.departures)
    starts = w.timeline.withdrawal_starts
    operator = {d.aircraft: d.operator for d in w.records.departures}
    for x in w.records.troops_flown:  # a withdrawal's troops fly on its carriers only, after its start
        assert operator[x.aircraft] in s.withdrawals[x.withdrawal].carriers and x.takeoff >= starts[x.withdrawal]


# ---- validation --------------------------------------------------------------------------------


def _file_with(tmp_path: Path, small_path: Path, security: str = "", retrograde: str | None = None) -> Path:
    """The small scenario as a file, with lines added to ``[security]`` and its ``[retrograde]`` replaced."""
    text = small_path.read_text(encoding="utf-8")
    text = text.replace("[security]\n", f"[security]\n{security}\n")
    if retrograde is not None:
        text = text.replace('[retrograde]\ntroops = 300\nstart = 1.75\ncarriers = ["us"]\n', retrograde)
    path = tmp_path / "window.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_with_a_security_start_and_two_withdrawals_loads(tmp_path, small_path):
    retrograde = (
        '[[retrograde]]\nname = "germans"\ntroops = 200\nstart = 2021-08-15T00:00:00\ncarriers = ["germany"]\n\n'
        '[[retrograde]]\nname = "americans"\ntroops = 500\nhours_before_end = 6\ncarriers = ["us"]\n'
    )
    s = sim.load_scenario(_file_with(tmp_path, small_path, "start = 2021-08-14T12:00:00", retrograde))
    assert s.secured_from_hours == 12.0 and s.withdrawal_names == ["germans", "americans"]
    assert Timeline.from_scenario(s).withdrawal_starts == [24.0, 42.0]


@pytest.mark.parametrize(
    ("security", "retrograde", "field", "message"),
    [
        ("start = 2.5", None, "security.start", "must be before security.end"),
        ("start = 2.0", None, "security.start", "must be before security.end"),
        ("start = 1.9", None, "security.gate_close_lead_hours", "4 h before security.end is at or before security.start"),
        ("start = 1.9", None, "security.last_landing_lead_hours", "the last landing, so no aircraft could land"),
        (
            "",
            '[[retrograde]]\ntroops = 10\nstart = 1\ncarriers = ["us"]\n\n'
            '[[retrograde]]\ntroops = 10\nstart = 1\ncarriers = ["uk"]\n',
            "retrograde.1.carriers",
            "unknown operator 'uk' (known: germany, us)",
        ),
        (
            "",
            '[[retrograde]]\nname = "a"\ntroops = 10\nstart = 1\ncarriers = ["us"]\n\n[[retrograde]]\nname = "a"\n',
            "retrograde.1.name",
            "'a' names an earlier withdrawal too",
        ),
        ("", "[[retrograde]]\ntroops = 10\nstart = 1\n", "retrograde.0", "at least one carrier"),
        ("", "[[retrograde]]\ntroops = -1\n", "retrograde.0.troops", "greater than or equal to 0"),
        ("", '[retrograde]\ntroops = 10\nstart = 1\ncarriers = ["uk"]\n', "retrograde.carriers", "unknown operator 'uk'"),
    ],
)
def test_bad_windows_and_withdrawals_are_refused_by_name(tmp_path, small_path, security, retrograde, field, message):
    path = _file_with(tmp_path, small_path, security, retrograde)
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(path)
    assert str(path) in str(err.value)
    assert any(f == field and message in m for f, m in err.value.problems), err.value.problems


def test_the_lead_times_are_checked_against_the_start_only_when_there_is_one(small):
    # a window shorter than the gate lead time is allowed without a start (the gates never open), as before
    small.with_overrides({"security.gate_close_lead_hours": 60})
    with pytest.raises(sim.ScenarioError, match="security.gate_close_lead_hours"):
        small.with_overrides({"security.gate_close_lead_hours": 60, "security.start": 0.0})


# ---- what reads the window -----------------------------------------------------------------------


def test_relief_days_begin_at_the_security_start(small):
    from sim.analysis.relief import local_days

    assert [(d.date, d.start, d.end) for d in local_days(small)] == [("2021-08-14", 0.0, 24.0), ("2021-08-15", 24.0, 48.0)]
    later = small.with_overrides({"security.start": 1.25})  # 15 Aug 06:00: relieving 14 Aug could change nothing
    assert [(d.date, d.start, d.end) for d in local_days(later)] == [("2021-08-15", 30.0, 48.0)]


def test_run_prints_the_security_start_and_each_withdrawal(tmp_path, small_path, capsys):
    from sim.cli.main import main

    retrograde = (
        '[[retrograde]]\nname = "germans"\ntroops = 200\nstart = 1.0\ncarriers = ["germany"]\n\n'
        '[[retrograde]]\ntroops = 500\nstart = 1.5\ncarriers = ["us"]\n'
    )
    path = _file_with(tmp_path, small_path, "start = 0.5", retrograde)
    out = tmp_path / "o"
    assert main(["run", str(path), "-n", "1", "--seed", "1", "--no-plots", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "secured from 14 Aug 2021 12:00" in text
    assert "withdrawal germans" in text and "withdrawal 1 " in text
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"]["retrograde"][0]["name"] == "germans"
    assert {"withdrawal.germans.troops_flown", "withdrawal.1.troops_stranded"} <= set(summary["metrics"])


def test_a_variant_replaces_the_single_withdrawal_by_a_list(tmp_path, small_path):
    variant = tmp_path / "variant.toml"
    variant.write_text(
        f'extends = "{small_path.as_posix()}"\n\n[security]\nstart = 0.25\n\n'
        '[[retrograde]]\nname = "germans"\ntroops = 100\nstart = 1.0\ncarriers = ["germany"]  # ASSUMPTION: a test figure\n',
        encoding="utf-8",
    )
    s = sim.load_scenario(variant)
    assert s.withdrawal_names == ["germans"] and s.withdrawals[0].troops == 100 and s.secured_from_hours == 6.0
    assert s.security.end == 2.0  # the rest of [security] is the base's
    from sim.description.assumption_notes import assumption_notes

    assert [n.key for n in assumption_notes(variant)] == ["retrograde.0.carriers"]
