"""The fictional third case, a small embassy evacuation (tests/data/embassy_evacuation.toml): written
with the format's own keys (a window with a start, a timetabled charter fleet, registered cohorts,
boarding steps), it validates, runs, keeps to its timetable and window, and accounts for everyone."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import sim
from sim.cli.main import main

from .conftest import DATA

EMBASSY = DATA / "embassy_evacuation.toml"


@pytest.fixture(scope="module")
def embassy() -> sim.Scenario:
    return sim.load_scenario(EMBASSY)


@pytest.fixture(scope="module")
def result(embassy: sim.Scenario) -> sim.RunResult:
    return sim.run(embassy, 6, 0)


def test_it_validates_with_no_workaround(embassy: sim.Scenario, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EMBASSY)]) == 0
    assert ": ok (embassy_evacuation; 2 cohorts, 1 fleets, 1 gates, 1 bases)" in capsys.readouterr().out
    assert embassy.security.start is not None and embassy.hours(embassy.security.start) == 8.0  # opens at 08:00
    assert len(embassy.fleets["charter"].timetable) == 5
    assert all(c.registration is not None for c in [embassy.cohorts["nationals"]])
    assert [step.cohorts for step in embassy.boarding["charter"]] == [("nationals",), ("nationals", "local_staff")]


def test_it_accounts_for_everyone(result: sim.RunResult, embassy: sim.Scenario) -> None:
    """Per replication and per cohort: people = evacuated + stranded + did not travel."""
    for rep in result.replications:
        m = rep.metrics
        assert m["evacuated_total"] + m["stranded_total"] + m["did_not_travel_total"] == m["population_total"] == 600
        for c, cohort in embassy.cohorts.items():
            parts = m[f"cohort.{c}.evacuated"] + m[f"cohort.{c}.stranded"] + m[f"cohort.{c}.did_not_travel"]
            assert parts == cohort.people
        assert m["troops_stranded"] == 0 and m["aircraft_on_ground_at_end"] == 0


def test_it_keeps_to_its_timetable_and_window(result: sim.RunResult, embassy: sim.Scenario) -> None:
    """No more departures than slots, and nobody flown before the first slot (after the window opens)."""
    first_slot = embassy.hours(embassy.fleets["charter"].timetable[0])
    for rep in result.replications:
        assert 1 <= rep.metrics["departures_total"] <= 5
        hours = np.asarray(rep.hourly["hours"], dtype=float)
        flown = np.asarray(rep.hourly["evacuated_cumulative"], dtype=float)
        assert not flown[hours < first_slot].any()
        assert rep.metrics["evacuated_total"] > 0
    assert result.mean("cohort.local_staff.evacuated") > 0


def test_its_report_adds_up_for_registered_cohorts(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """With registered cohorts the report shows who turned back and who did not travel, beside the
    stranded, so each cohort's row adds up to its people; small means of people keep one decimal."""
    from sim.report.html import people

    out = tmp_path / "run"
    assert main(["run", str(EMBASSY), "-n", "2", "--no-plots", "--report", "--out", str(out)]) == 0
    capsys.readouterr()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "turned back on the way</th>" in page and "did not travel (not stranded)</th>" in page
    assert "people who did not travel (not stranded)" in page
    assert [people(x) for x in (1.2, 8.0, 0.0, 1234.4, 10.5)] == ["1.2", "8", "0", "1,234", "10"]
