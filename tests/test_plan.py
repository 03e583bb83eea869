"""``airlift plan`` and ``sim.plan`` on the small scenario: the choice agrees with brute force over many
replications, an impossible goal is refused with the best probability reached, bad goals, levers and
costs are exit 2 before anything runs, and the folder, its plan.json and its report are whole."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.analysis.plan_runs import GoalOutcomes, PlanQuestion
from sim.analysis.plan_text import choice_sentence, goal_phrase, lever_phrase
from sim.cli.main import main
from sim.description.errors import ScenarioError
from sim.description.goals import parse_goals
from sim.description.metric_catalog import metric_names
from sim.experiments.ensemble import Ensemble
from sim.experiments.replications import run_batch

LEVER = "security.end=1.5..2.5:0.25"
VALUES = (1.5, 1.75, 2.0, 2.25, 2.5)


def _plan(small_path: Path, out: Path, *extra: str) -> list[str]:
    return ["plan", str(small_path), "--out", str(out), "--no-plots", *extra]


@pytest.mark.slow
def test_the_choice_is_the_brute_force_answer(small: sim.Scenario) -> None:
    """Brute force: 200 replications at every value. The goal's threshold is set from them so that the
    goal holds in 97% of replications at one value; the plan must choose the cheapest value whose
    frequency reaches the target, and the value before it must fall short."""
    many = run_batch(small, [({"security.end": v}, range(200)) for v in VALUES], seed=0)
    flown = {v: np.array([m["cohort.afghans.evacuated"] for m in ms]) for v, ms in zip(VALUES, many)}
    threshold = float(np.sort(flown[2.25])[6])  # 194 of 200 at 2.25 reach it
    goal = f"cohort.afghans.evacuated >= {threshold:.0f}"
    frequency = {v: float(np.mean(x >= threshold)) for v, x in flown.items()}
    brute = min(v for v in VALUES if frequency[v] >= 0.9)

    result = sim.plan(small, goal, 0.9, LEVER)

    assert result.choice is not None and result.choice.values == {"security.end": brute}
    assert result.choice.lower >= 0.9
    earlier = max(v for v in VALUES if v < brute)
    assert frequency[earlier] < 0.9 <= frequency[brute]
    assert all(c.verdict != "met" for c in result.candidates if c.values["security.end"] < brute)
    # the plan's own estimate at the choice agrees with brute force within its bounds
    assert result.choice.lower <= frequency[brute] <= result.choice.upper


def test_an_impossible_goal_is_refused_with_the_best_reached(small_path: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "plan"
    argv = _plan(small_path, out, "--goal", "cohort.afghans.evacuated > cohort.afghans.people", "--probability", "0.9")
    assert main([*argv, "--lever", "security.end=1.5..2:0.5", "-n", "10"]) == 0
    printed = capsys.readouterr().out
    sentence = next(line for line in printed.splitlines() if line.startswith("No candidate"))
    assert sentence.startswith(
        "No candidate meets the goal with probability 0.9: the best, holding to 16 Aug 00:00, reaches 0.00"
    )
    assert "upper bound" in sentence and "10 replications" in sentence
    plan = json.loads((out / "plan.json").read_text())
    assert plan["choice"] is None and plan["probability"] is None and plan["sentence"] == sentence
    assert plan["best"]["levers"] == {"security.end": 2} and plan["best"]["probability"] == 0
    assert all(c["verdict"] == "not met" for c in plan["candidates"])


def test_plan_json_holds_the_answer_and_what_made_it(small_path: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "plan"
    argv = ["plan", str(small_path), "--goal", "evacuated_total >= 1000", "--goal", "stranded_total <= 9000"]
    argv += ["--probability", "0.5", "--lever", "security.end=1.5..2:0.5", "-n", "10", "--max-replications", "40"]
    assert main([*argv, "--seed", "3", "--out", str(out), "--report"]) == 0
    printed = capsys.readouterr().out
    plan = json.loads((out / "plan.json").read_text())
    assert plan["goal"] == "evacuated_total >= 1000 and stranded_total <= 9000"
    assert plan["probability_target"] == 0.5 and plan["levers"][0]["key"] == "security.end"
    assert plan["choice"] == {"security.end": 1.5}  # the goals always hold: the cheapest candidate
    assert plan["probability"] == 1.0 and 0.5 <= plan["probability_low"] < 1
    for c in plan["candidates"]:
        assert {"levers", "probability", "probability_low", "probability_high", "replications", "verdict"} <= set(c)
    assert plan["seed"] == 3 and plan["version"] == sim.__version__ and plan["scenario"]["name"] == "small"
    assert plan["command"].startswith("airlift plan") and plan["search"]["first"] == 10
    assert set(plan["files"]) == {"candidates.csv", "plan_probability.png"}
    assert plan["sentence"] in printed
    assert plan["sentence"].startswith("Holding to 15 Aug 12:00 flies 1,000 people and leaves at most 9,000 people stranded")
    page = (out / "report.html").read_text()
    assert "The answer" in page and "Holding to 15 Aug 12:00" in page and "plan_probability" in page
    # a second plan into the same folder replaces it whole
    assert main([*argv, "--seed", "4", "--out", str(out)]) == 0
    assert json.loads((out / "plan.json").read_text())["seed"] == 4 and not (out / "report.html").exists()


def test_report_refuses_a_plan_folder_whose_files_changed(small_path: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "plan"
    argv = _plan(small_path, out, "--goal", "evacuated_total >= 0", "--probability", "0.5", "--lever", "security.end=2..2")
    assert main([*argv, "-n", "5"]) == 0
    with open(out / "candidates.csv", "a") as fh:
        fh.write("9,9,9\n")
    capsys.readouterr()
    assert main(["report", str(out)]) == 2
    assert "candidates.csv" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--goal", "cohort.siv.evacuated >= 5"], "unknown metric 'cohort.siv.evacuated' (known: "),
        (["--goal", "evacuated_total >= = 5"], "not a goal at column"),
        (["--goal", "evacuated_total >= 5", "--lever", "gates.nowhere.lanes=1..3"], "--lever gates.nowhere.lanes=1"),
        (["--goal", "evacuated_total >= 5", "--lever", "security.end=1..2", "--lever", "security.end=1..3"], "given twice"),
        (["--goal", "evacuated_total >= 5", "--cost", "gates.abbey.lanes=2"], "a cost for a key that is no lever"),
        (["--goal", "evacuated_total >= 5", "--lever", "security.end=3..1"], "needs LO <= HI"),
    ],
)
def test_bad_questions_are_exit_2_before_anything_runs(small_path, tmp_path, capsys, extra, named) -> None:
    out = tmp_path / "plan"
    levers = [] if "--lever" in extra else ["--lever", "security.end=1.5..2:0.5"]
    assert main(_plan(small_path, out, "--probability", "0.9", *levers, *extra)) == 2
    err = capsys.readouterr().err
    assert named in err and "Traceback" not in err
    if "unknown metric" in named:
        assert "cohort.afghans.evacuated" in err
    assert not out.exists()


@pytest.mark.parametrize("probability", ["1", "0", "1.5", "nan"])
def test_a_probability_outside_zero_to_one_is_refused(small_path, tmp_path, capsys, probability) -> None:
    argv = _plan(small_path, tmp_path / "p", "--goal", "evacuated_total >= 5", "--lever", "security.end=1..2")
    assert main([*argv, "--probability", probability]) == 2
    assert "argument --probability" in capsys.readouterr().err


def test_candidates_share_replications_and_run_what_they_say(small: sim.Scenario) -> None:
    """Replication r of every candidate is replication r of the scenario with the lever values as
    overrides (common random numbers); with an ensemble it runs setting r mod K, the lever winning."""
    goals = parse_goals(["evacuated_total >= 0"], metric_names(small))
    ensemble = Ensemble(({"gates.abbey.lanes": 2, "security.end": 9.0}, {"gates.abbey.lanes": 4, "security.end": 9.0}))
    outcomes = GoalOutcomes(small, goals, seed=5, ensemble=ensemble)
    assert outcomes([({"security.end": 1.5}, range(3)), ({"security.end": 2.0}, range(3))]) == [[True] * 3, [True] * 3]
    for v in (1.5, 2.0):
        readings = outcomes.readings[(("security.end", v),)]
        assert sorted(readings) == [0, 1, 2]
        for r in range(3):
            lanes = 2 if r % 2 == 0 else 4
            expected = sim.run_replication(small.with_overrides({"gates.abbey.lanes": lanes, "security.end": v}), 5, r)
            assert readings[r]["evacuated_total"] == expected.metrics["evacuated_total"]


def test_ensemble_counts_come_in_whole_rounds_of_settings(small: sim.Scenario, tmp_path: Path) -> None:
    path = tmp_path / "ensemble.csv"
    path.write_text("gates.abbey.lanes\n2\n3\n4\n")
    result = sim.plan(
        small, "evacuated_total >= 0", 0.5, "security.end=1.5..1.5", replications=4, max_replications=5, ensemble=path
    )
    assert result.candidates[0].replications == 6  # 4 and 5 rounded up to two rounds of the three settings
    assert result.summary()["ensemble"]["settings"] == 3 and result.summary()["search"]["block"] == 3


def test_two_levers_least_total_cost_and_the_front(small: sim.Scenario) -> None:
    levers = ["security.end=1.5..2.5:0.5", "gates.abbey.lanes=3..5"]
    result = sim.plan(
        small, "cohort.afghans.evacuated >= 2300", 0.8, levers, costs={"security.end": 10}, replications=10, max_replications=40
    )
    assert result.choice is not None
    assert all(c.verdict != "met" for c in result.candidates if c.cost < result.choice.cost)
    front = result.front()
    assert [c.cost for c in front] == sorted(c.cost for c in front)
    assert all(a.probability < b.probability for a, b in zip(front, front[1:]))
    assert set(result.figures()) == {"plan_probability", "plan_front"}
    table = result.table()
    assert list(table.columns[:2]) == ["security.end", "gates.abbey.lanes"] and len(table) == 9
    assert "mean cohort.afghans.evacuated" in table.columns


def test_the_sentence_reads_right_for_any_lever() -> None:
    kabul = sim.load_scenario()
    assert lever_phrase("security.end", 19, kabul) == "holding to 2 Sep 00:00"
    assert lever_phrase("security.end", 17.5, kabul) == "holding to 31 Aug 12:00"
    assert lever_phrase("gates.abbey.lanes", 6, kabul) == "gates.abbey.lanes = 6"
    sentence = choice_sentence(["cohort.siv.evacuated >= 50000"], {"security.end": 19}, 0.93, 0.9, 240, kabul)
    assert (
        sentence == "Holding to 2 Sep 00:00 flies 50,000 of cohort siv with probability 0.93 (lower bound 0.90, 240 replications)"
    )
    two = choice_sentence(["stranded_total <= 100"], {"security.end": 19, "gates.abbey.lanes": 6}, 1.0, 0.95, 80, kabul)
    assert two.startswith("Holding to 2 Sep 00:00 with gates.abbey.lanes = 6 leaves at most 100 people stranded")
    other = choice_sentence(["cohort.us_citizens.stranded < 100"], {"gates.abbey.lanes": 6}, 1.0, 0.95, 80, kabul)
    assert other.startswith("With gates.abbey.lanes = 6 leaves fewer than 100 of cohort us_citizens stranded")
    assert (
        goal_phrase("cohort.siv.evacuated >= 0.9 * cohort.siv.people")
        == "meets 'cohort.siv.evacuated >= 0.9 * cohort.siv.people'"
    )


def test_the_question_is_checked_before_anything_runs(small: sim.Scenario) -> None:
    with pytest.raises(ScenarioError, match="--probability"):
        PlanQuestion.of(small, "evacuated_total >= 0", 1.0, "security.end=1..2")
    with pytest.raises(ScenarioError, match="at least one goal"):
        PlanQuestion.of(small, [], 0.9, "security.end=1..2")
    with pytest.raises(ScenarioError, match="at least one lever"):
        PlanQuestion.of(small, "evacuated_total >= 0", 0.9, [])
    with pytest.raises(ScenarioError, match="security.end=9"):  # beyond what the scenario allows
        PlanQuestion.of(small, "evacuated_total >= 0", 0.9, "security.end=1..9999")
