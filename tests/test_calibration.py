"""Calibration by history matching, and ensembles of plausible settings in run, compare and sweep.

The recovery tests plant a truth: targets are the model's own means (or one run) at a known setting
of the small scenario, and the calibration must find a plausible set that contains the planted
values, narrows the parameter the targets depend on, and does not narrow one that cannot affect
them (the screening finds it inactive); with many inputs, every true value stays inside the
ensemble's range. The pieces of the method are tested in test_calibration_method.py.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import sim
from sim.analysis.calibration import check_targets, load_targets
from sim.cli.main import main
from sim.description.errors import ScenarioError
from sim.description.targets import Target
from sim.experiments.ensemble import Ensemble, ensemble_stats, load_ensemble
from sim.experiments.replications import make_executor, run_replication

ROOT = Path(__file__).resolve().parent.parent
SMALL = str(ROOT / "tests" / "data" / "small.toml")
TRUTH = {"fleets.us_c17.count": 3, "gates.abbey.lanes": 4}
INERT = "bases.tashkent.initial_people"  # Tashkent drains 2,000 a day and receives about 1,100 in all
VARY = ["fleets.us_c17.count=1:8", "gates.abbey.lanes=1:8", f"{INERT}=0:200"]
TARGET_METRICS = ["evacuated_total", "operator.us.departures", "operator.us.evacuated", "operator.germany.evacuated"]


def _write_targets(path: Path, targets: dict[str, tuple[float, float]]) -> Path:
    lines = ["[targets]"]
    lines += [f'"{k}" = {{ value = {v!r}, sd = {sd!r}, source = "planted" }}' for k, (v, sd) in targets.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """One calibration of the small scenario against targets generated at TRUTH (the model's
    means over 8 replications of another seed; sd: the replication sd, at least 3% of the value)."""
    tmp = tmp_path_factory.mktemp("planted")
    small = sim.load_scenario(SMALL)
    r = sim.run(small.with_overrides({**TRUTH, INERT: 100}), 8, seed=99)
    targets = {}
    for m in TARGET_METRICS:
        values = r.metrics[m]["values"]
        targets[m] = (float(np.mean(values)), max(float(np.std(values, ddof=1)), 0.03 * float(np.mean(values))))
    tfile = _write_targets(tmp / "targets.toml", targets)
    out = tmp / "cal"
    args = [SMALL, "--targets", str(tfile), "--budget", "160", "-n", "2", "--seed", "3", "--out", str(out)]
    args += [x for v in VARY for x in ("--vary", v)]
    assert main(["calibrate", *args]) == 0
    return out, {"args": args, "targets": targets}


@pytest.mark.slow
def test_planted_truth_is_recovered(planted: tuple[Path, dict]) -> None:
    out, _ = planted
    report = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    ens = load_ensemble(out / "ensemble.csv")
    assert report["consistent"] and len(ens) == report["plausible_settings"] >= 10
    assert report["ensemble_source"] == "final sample" and report["final_sample_settings"] == 26  # a sixth of 160 runs
    assert report["final_sample_share_passed"] == pytest.approx(len(ens) / 26, abs=1e-4)
    assert INERT in report["screening"]["inactive_inputs"] and "fleets.us_c17.count" in report["screening"]["active_inputs"]
    # leave-one-out after each of the 3 waves, and each set but the last on the next wave's runs
    assert report["emulators_validated"] == (3 + 2) * len(TARGET_METRICS)
    assert (out / "emulator_validation.csv").read_text(encoding="utf-8").startswith("stage,check,target,points")
    params = report["diagnostics"]["parameters"]
    for key, value in {**TRUTH, INERT: 100}.items():
        assert params[key]["plausible_low"] <= value <= params[key]["plausible_high"], key
    width = {k: (p["plausible_high"] - p["plausible_low"]) / (p["prior_high"] - p["prior_low"]) for k, p in params.items()}
    assert width["fleets.us_c17.count"] <= 0.6  # the US targets pin the C-17 count down
    assert width[INERT] >= 0.6  # nothing depends on it: the plausible set spans most of its prior
    for name, t in report["diagnostics"]["targets"].items():  # the ensemble straddles or meets each target
        assert t["ensemble_low"] - 3 * t["sd"] <= t["observed"] <= t["ensemble_high"] + 3 * t["sd"], name
    for png in ("parameters.png", "targets.png"):
        assert (out / png).stat().st_size > 10_000


@pytest.mark.slow
def test_resume_completes_an_interrupted_calibration(planted: tuple[Path, dict], tmp_path: Path) -> None:
    out, info = planted
    copy = tmp_path / "cal"
    shutil.copytree(out, copy)
    for name in ("ensemble.csv", "calibration.json", "runs.csv"):
        (copy / name).unlink()
    last = copy / "final_3" / "results.csv"
    lines = last.read_text(encoding="utf-8").splitlines(keepends=True)
    last.write_text("".join(lines[:5]) + lines[5][:7], encoding="utf-8")  # killed mid-line
    args = [*info["args"][: info["args"].index("--out")], "--out", str(copy), *info["args"][info["args"].index("--out") + 2 :]]
    assert main(["calibrate", *args]) == 2  # refuses to overwrite without --resume
    assert main(["calibrate", *args, "--resume"]) == 0
    assert (copy / "ensemble.csv").read_text(encoding="utf-8") == (out / "ensemble.csv").read_text(encoding="utf-8")


@pytest.mark.slow
def test_resume_with_one_more_wave_adds_it_and_a_new_final_sample(planted: tuple[Path, dict], tmp_path: Path) -> None:
    out, info = planted
    copy = tmp_path / "cal"
    shutil.copytree(out, copy)
    at = info["args"].index("--out")
    args = [*info["args"][:at], "--out", str(copy), *info["args"][at + 2 :]]
    args[args.index("--budget") + 1] = "200"
    assert main(["calibrate", *args, "--waves", "4", "--resume"]) in (0, 1)
    report = json.loads((copy / "calibration.json").read_text(encoding="utf-8"))
    sizes = {w["stage"]: w["points"] for w in report["stages_run"]}
    first = sizes["wave 0"]  # as run before: the new budget shares only what is left
    assert sizes["wave 1"] == sizes["wave 2"] == (80 - 16 - 26 - first) // 2
    assert sizes["wave 3"] == (100 - 16 - 33 - first) // 3 and report["final_sample_settings"] <= 33
    assert (copy / "final_4" / "results.csv").exists() and (copy / "final_3" / "results.csv").exists()


MANY = {  # the small scenario's values: the truth, each inside a range around it
    "fleets.us_c17.count": ("1:8", 4),
    "fleets.us_c17.seats": ("200:400", 300),
    "fleets.de_a400m.count": ("1:4", 2),
    "fleets.de_a400m.seats": ("100:200", 150),
    "gates.abbey.lanes": ("1:8", 3),
    "gates.north.lanes": ("1:6", 2),
    "bases.qatar.outflow_per_day": ("500:3000", 1500),
    "bases.qatar.capacity_people": ("1000:6000", 3000),
    "bases.tashkent.outflow_per_day": ("1000:4000", 2000),
    "airfield.holding_capacity_people": ("400:1600", 800),
    "ramp.spots.heavy": ("2:6", 3),
    INERT: ("0:200", 100),
}


@pytest.mark.slow
def test_a_planted_truth_among_many_inputs_stays_inside_the_ensemble(tmp_path: Path) -> None:
    """Twelve inputs, targets from one run of the small scenario as it is (but for the inert input;
    sd 2%, and the default discrepancy): every true value lies within the range of the ensemble."""
    small = sim.load_scenario(SMALL)
    one = run_replication(small.with_overrides({INERT: 100}), 77, 0).metrics
    metrics = [*TARGET_METRICS, "stranded_total", "operator.us.departures"]
    targets = {m: (float(one[m]), max(0.02 * float(one[m]), 1.0)) for m in dict.fromkeys(metrics)}
    tfile = _write_targets(tmp_path / "t.toml", targets)
    out = tmp_path / "cal"
    args = [SMALL, "--targets", str(tfile), "--budget", "600", "--vary-only", "--seed", "5", "--out", str(out)]
    args += [x for key, (span, _) in MANY.items() for x in ("--vary", f"{key}={span}")]
    assert main(["calibrate", *args]) == 0
    report = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    ens = load_ensemble(out / "ensemble.csv")
    assert len(ens) >= 50 and report["screening"]["inactive_inputs"], "a sample of the plausible space, after screening"
    for key, (_, truth) in MANY.items():
        values = [s[key] for s in ens.settings]
        assert min(values) <= truth <= max(values), key


def test_conflicting_targets_are_named_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # evacuated + stranded = 9,500 always: each target alone is reachable, never both
    tfile = _write_targets(tmp_path / "t.toml", {"evacuated_total": (1900.0, 50.0), "stranded_total": (6200.0, 50.0)})
    out = tmp_path / "cal"
    args = [
        "calibrate",
        SMALL,
        "--targets",
        str(tfile),
        "--budget",
        "32",
        "--waves",
        "1",
        "--discrepancy",
        "0",
        "--out",
        str(out),
    ]
    assert main([*args, "--vary", VARY[0], "--vary", VARY[1]]) == 1
    text = capsys.readouterr().out
    assert "NO SETTING" in text
    assert "conflict: evacuated_total and stranded_total are each matched by some runs, never by the same one" in text
    report = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    assert not report["consistent"] and report["conflicts"]["incompatible_pairs"] == [["evacuated_total", "stranded_total"]]
    assert (out / "ensemble.csv").read_text(encoding="utf-8").strip().count("\n") == 0  # a header, no settings


def test_bad_targets_are_input_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small = sim.load_scenario(SMALL)
    bad = tmp_path / "bad.toml"
    bad.write_text('[targets]\nevacuated_total = { value = 1, sdd = 2, source = "x" }\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad.toml: targets.evacuated_total.sdd: unknown key"):
        load_targets(bad)
    bad.write_text('[targets]\nevacuated_total = { value = 1, source = "x" }\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"targets.evacuated_total: a value needs its sd"):
        load_targets(bad)
    with pytest.raises(ScenarioError, match=r"targets.operator.france.evacuated: unknown metric"):
        named = {n: Target(value=1, sd=1, source="x") for n in ("evacuated_total", "operator.france.evacuated")}
        check_targets(named, small, "t.toml")
    bad.write_text('[targets]\n"cohort.nobody.stranded" = { low = 0, high = 5, source = "x" }\n', encoding="utf-8")
    out = tmp_path / "never"
    assert main(["calibrate", SMALL, "--targets", str(bad), "--vary", VARY[0], "--out", str(out)]) == 2
    assert "cohort.nobody.stranded" in capsys.readouterr().err and not out.exists()


def test_kabul_targets_name_metrics_and_the_shipped_ensemble_fits_kabul() -> None:
    kabul = sim.load_scenario()
    assert len(kabul.targets) >= 10 and all(t.source for t in kabul.targets.values())
    check_targets(kabul.targets, kabul, "kabul_2021.toml")
    dated = [t for t in kabul.targets.values() if t.dated]  # the published running totals, on their basis
    assert len(dated) >= 10 and all(t.basis for t in dated)
    assert {t.series for t in dated} >= {"evacuated_cumulative", "evacuated_cumulative.us", "airfield_people"}
    path = ROOT / "scenarios" / "kabul_2021_ensemble.csv"
    if path.exists():  # shipped with its provenance
        ens = load_ensemble(path)
        ens.check(kabul)
        assert ens.provenance and {"command", "budget", "seed", "version"} <= set(ens.provenance)
        # calibrated over the whole declared table, each setting within its declared range, and
        # the file is the calibration's own list of plausible settings
        assert set(ens.keys) <= set(kabul.uncertain) and ens.provenance["plausible_settings"] == len(ens) >= 2
        assert set(ens.keys) == set(kabul.uncertain)
        for setting in ens.settings:
            for key, value in setting.items():
                assert kabul.uncertain[key].low <= value <= kabul.uncertain[key].high, key


def test_ensemble_intervals_follow_their_definition() -> None:
    values, settings = [1.0, 3.0, 10.0, 12.0, 20.0, 26.0], [0, 0, 1, 1, 2, 2]
    st = ensemble_stats(values, settings)
    sw = math.sqrt((1 + 1 + 1 + 1 + 9 + 9) / 3)  # pooled within-setting sd, N - K = 3
    half = stats.t.ppf(0.975, 3) * sw / math.sqrt(6)
    assert st["mean"] == pytest.approx(12.0)
    assert (st["ci95_low"], st["ci95_high"]) == pytest.approx((12.0 - half, 12.0 + half))
    assert (st["settings_low"], st["settings_high"]) == (2.0, 23.0)
    once = ensemble_stats([1.0, 5.0], [0, 1])
    assert math.isnan(once["ci95_low"]) and (once["settings_low"], once["settings_high"]) == (1.0, 5.0)


SETTINGS = ({"fleets.us_c17.count": 2, "gates.abbey.lanes": 3}, {"fleets.us_c17.count": 5, "gates.abbey.lanes": 6})


def _ensemble_file(tmp_path: Path) -> Path:
    path = tmp_path / "ens.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(SETTINGS[0]))
        w.writeheader()
        w.writerows(SETTINGS)
    return path


def test_ensemble_runs_setting_r_mod_k_identically_on_any_executor(tmp_path: Path) -> None:
    small = sim.load_scenario(SMALL)
    path = _ensemble_file(tmp_path)
    serial = sim.run(small, 4, seed=5, ensemble=path)
    with make_executor(2) as ex:
        pooled = sim.run(small, 4, seed=5, ensemble=path, executor=ex)
    assert serial.replications == pooled.replications
    for r in (0, 3):  # replication r ran setting r mod 2 with the streams of replication r
        alone = run_replication(small.with_overrides(SETTINGS[r % 2]), 5, r).metrics
        assert serial.replications[r].metrics == alone
    m = serial.metrics["evacuated_total"]
    assert m["settings_low"] < m["settings_high"] and m["ci95_low"] < m["mean"] < m["ci95_high"]
    assert serial.summary()["ensemble"]["settings"] == 2


def test_compare_with_an_ensemble_keeps_what_b_changes(tmp_path: Path) -> None:
    small = sim.load_scenario(SMALL)
    b = small.with_overrides({"gates.abbey.lanes": 1})
    c = sim.compare(small, b, 2, seed=1, ensemble=Ensemble(SETTINGS, "two settings"))
    for r in range(2):
        want_b = run_replication(b.with_overrides({"fleets.us_c17.count": SETTINGS[r]["fleets.us_c17.count"]}), 1, r)
        assert c.b.replications[r].metrics == want_b.metrics
    d = c.differences(["evacuated_total"]).loc["evacuated_total"]
    assert d["settings_low"] <= d["difference_mean"] <= d["settings_high"]


@pytest.mark.slow
def test_sweep_with_an_ensemble_is_identical_serial_and_parallel(tmp_path: Path) -> None:
    path = _ensemble_file(tmp_path)
    rows = {}
    for name, extra in (("serial", []), ("pool", ["--workers", "2"])):
        out = tmp_path / name
        args = [
            "sweep",
            SMALL,
            "--vary",
            "security.end=1.5,2",
            "-n",
            "2",
            "--ensemble",
            str(path),
            "--out",
            str(out),
            "--no-plots",
        ]
        assert main([*args, *extra]) == 0
        rows[name] = sorted((out / "results.csv").read_text(encoding="utf-8").splitlines())
    assert rows["serial"] == rows["pool"]
    manifest = json.loads((tmp_path / "serial" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["sweep"]["ensemble"]["settings"] == [dict(s) for s in SETTINGS]


def test_value_at_reaches_list_elements(small: sim.Scenario) -> None:
    from sim.description.lookup import value_at

    assert value_at(small, "disruptions.0.end") == pytest.approx(0.6)
    assert value_at(small, "gates.abbey.lanes") == 3
    with pytest.raises(KeyError, match="gates.abbey.lanez"):
        value_at(small, "gates.abbey.lanez")


def test_calibrate_and_sensitivity_refuse_a_folder_another_process_writes(tmp_path: Path) -> None:
    """A second writer (here through the Python API) is refused before it runs or writes anything."""
    import subprocess
    import sys

    from sim.analysis.calibration import calibrate
    from sim.analysis.sensitivity import run_sensitivity
    from sim.description.targets import Target
    from sim.description.uncertainty import parameters, parse_ranges
    from sim.outputs.locks import FolderBusy

    out = tmp_path / "busy"
    code = (
        "import sys, time\nfrom pathlib import Path\nfrom sim.outputs.locks import hold\n"
        f"with hold(Path({str(out)!r}), 'airlift calibrate --resume (the first)'):\n"
        "    print('held', flush=True)\n    sys.stdin.read()\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        small = sim.load_scenario(SMALL)
        params = parameters(small, parse_ranges(VARY[:2]))
        targets = {"evacuated_total": Target(value=3000.0, sd=300.0, source="test")}
        with pytest.raises(FolderBusy, match=r"in use by another airlift process .*airlift calibrate --resume \(the first\)"):
            calibrate(small, targets, params, out, budget=16, replications=2, waves=1, resume=True)
        with pytest.raises(FolderBusy):
            run_sensitivity(small, "morris", out, vary=parse_ranges(VARY[:2]), trajectories=2, resume=True)
        assert not out.exists()
    finally:
        holder.communicate(input="", timeout=60)


@pytest.mark.slow
def test_the_final_sample_runs_in_rounds_until_enough_settings_pass(planted: tuple[Path, dict], tmp_path: Path) -> None:
    """A budget that keeps more for the final sample than its first round, and targets tight enough
    (the replication sd, at least 1%, no discrepancy) that not every setting of it passes: later rounds, each
    sized by :func:`next_round` from what the rounds before it confirmed, until 20 settings pass or
    the points run out; the ensemble is every setting of every round that simulation confirms."""
    from sim.analysis.calibration import next_round

    _, info = planted
    r = sim.run(sim.load_scenario(SMALL).with_overrides({**TRUTH, INERT: 100}), 8, seed=99)
    values = {m: np.asarray(r.metrics[m]["values"], dtype=float) for m in TARGET_METRICS}
    tight = {m: (float(v.mean()), max(float(v.std(ddof=1)), 0.01 * float(v.mean()))) for m, v in values.items()}
    at = info["args"].index("--out")
    args = [*info["args"][:at], "--out", str(tmp_path / "cal"), *info["args"][at + 2 :], "--ensemble-size", "20"]
    args[args.index("--budget") + 1] = "400"
    args[args.index("--targets") + 1] = str(_write_targets(tmp_path / "tight.toml", tight))
    args += ["--discrepancy", "0"]
    assert main(["calibrate", *args]) == 0
    report = json.loads((tmp_path / "cal" / "calibration.json").read_text(encoding="utf-8"))
    rounds = [s for s in report["stages_run"] if s["stage"] == "final sample"]
    assert [s["round"] for s in rounds] == list(range(1, len(rounds) + 1)) == list(range(1, report["final_sample_rounds"] + 1))
    assert rounds[0]["points"] == 20 and sum(s["points"] for s in rounds) == report["final_sample_settings"]
    table = list(csv.DictReader((tmp_path / "cal" / "runs.csv").read_text(encoding="utf-8").splitlines()))
    final = [row for row in table if row["stage"] == "final sample"]
    assert len(final) == report["final_sample_settings"] and report["runs"] <= 400
    passed = [row["plausible"] == "True" for row in final]
    assert report["plausible_settings"] == sum(passed) == report["final_sample_passed"]
    left = 200 - sum(s["points"] for s in report["stages_run"] if s["stage"] != "final sample")
    start = 0
    for before, after in zip(rounds, rounds[1:], strict=False):  # each later round as next_round sized it
        left -= before["points"]
        start += before["points"]
        in_last = sum(passed[start - before["points"] : start])
        assert after["points"] == next_round(20, sum(passed[:start]), in_last, before["points"], left)
    assert sum(passed[:20]) < 20 and len(rounds) >= 2  # the first round fell short: a later one ran
    assert sum(passed) >= 20 or left < 5  # it stops with enough settings, or too few points for a round
    for k in range(2, len(rounds) + 1):
        assert (tmp_path / "cal" / f"final_3_r{k}" / "results.csv").exists()
    # resumed with a budget too small for a second round, it still completes the rounds it saved
    (tmp_path / "cal" / "ensemble.csv").rename(tmp_path / "ensemble_before.csv")
    args[args.index("--budget") + 1] = "300"
    assert main(["calibrate", *args, "--resume"]) == 0
    assert (tmp_path / "cal" / "ensemble.csv").read_text(encoding="utf-8") == (tmp_path / "ensemble_before.csv").read_text(
        encoding="utf-8"
    )
