"""``airlift report``: one self-contained HTML page per output folder, checked as a reader sees it.

The browser tests open each report in a real headless Chromium (the Debian package, driven by
Playwright without its own browsers): every image loaded, nothing requested from the network,
no console errors, no sideways scrolling on a phone, and it prints. A failing check leaves a
screenshot in ``test-artifacts/``. Without Chromium they fail in CI and are skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sim.cli.main import main
from sim.description.assumption_notes import assumption_notes
from sim.report.html import detect, write_report
from tests.conftest import DATA, ROOT

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("AIRLIFT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A run, a one-replication run, a compare and a sweep of the small scenario, each with --report."""
    base = tmp_path_factory.mktemp("outputs")
    small = str(DATA / "small.toml")
    out = {k: base / k for k in ("run", "single", "compare", "sweep")}
    assert main(["run", small, "-n", "3", "--out", str(out["run"]), "--set", "security.end=1.5", "--report"]) == 0
    assert main(["run", small, "-n", "1", "--out", str(out["single"]), "--set", "security.end=1.5", "--report"]) == 0
    argv = ["compare", small, "-n", "3", "--set-a", "security.end=1.5", "--set-b", "security.end=2", "--out", str(out["compare"])]
    assert main([*argv, "--report"]) == 0
    argv = ["sweep", small, "--vary", "security.end=1,1.5,2", "-n", "2", "--out", str(out["sweep"]), "--report"]
    assert main(argv) == 0
    return out


def _html(folder: Path) -> str:
    return (folder / "report.html").read_text(encoding="utf-8")


def test_each_kind_of_folder_gets_a_report(folders: dict[str, Path]) -> None:
    assert [detect(folders[k]) for k in ("run", "compare", "sweep")] == ["run", "compare", "sweep"]
    run = _html(folders["run"])
    for text in ("What was run", "14 Aug 2021 00:00 to 15 Aug 2021 12:00 local time (UTC+04:30)", "security.end = 1.5"):
        assert text in run
    for section in ('id="headline"', 'id="stranded"', 'id="binding"', 'id="assumptions"', 'id="fig-limits_by_day"'):
        assert section in run
    assert "airlift run " in run and "--report" in run, "the command line is shown"
    compare = _html(folders["compare"])
    assert 'id="fig-differences"' in compare and "<code>security.end</code>" in compare.replace("<wbr>", "")
    sweep = _html(folders["sweep"])
    assert 'id="fig-stranded_by_cohort_vs_security.end"' in sweep and 'id="capacity"' in sweep


def test_the_command_line_is_recorded_in_the_outputs(folders: dict[str, Path]) -> None:
    summary = json.loads((folders["run"] / "summary.json").read_text(encoding="utf-8"))
    assert summary["command"].startswith("airlift run ") and summary["overrides"] == {"security.end": 1.5}
    assert Path(summary["scenario_file"]).name == "small.toml"
    assert json.loads((folders["compare"] / "compare.json").read_text(encoding="utf-8"))["command"].startswith("airlift compare ")
    assert json.loads((folders["sweep"] / "manifest.json").read_text(encoding="utf-8"))["command"].startswith("airlift sweep ")


def test_one_replication_shows_intervals_as_unavailable(folders: dict[str, Path]) -> None:
    html = _html(folders["single"])
    assert html.count("unavailable (one replication)") >= 5


def test_report_of_a_folder_that_is_no_output_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path)]) == 2
    assert "not an airlift output folder" in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists()


def test_a_sensitivity_folder_degrades_gracefully(folders: dict[str, Path], tmp_path: Path) -> None:
    shutil.copy(folders["sweep"] / "manifest.json", tmp_path / "manifest.json")
    (tmp_path / "sensitivity.csv").write_text("metric,parameter,method,mu_star\nevacuated_total,ramp.spots.heavy,morris,12.5\n")
    write_report(tmp_path)
    html = _html(tmp_path)
    assert "sensitivity report" in html and "ramp.spots.heavy" in html


def test_assumption_notes_follow_keys_and_extends(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(
        "[airfield]\n"
        "holding_capacity_people = 800   # ASSUMPTION: not published;\n"
        "                                # range 500-1,000\n"
        "chalk_interval_min = 15          # a published figure\n"
    )
    (tmp_path / "top.toml").write_text('extends = "base.toml"\n[ramp.spots]\nheavy = 3  # ASSUMPTION: small ramp\n')
    notes = assumption_notes(tmp_path / "top.toml")
    assert [(n.key, n.value, n.note) for n in notes] == [
        ("airfield.holding_capacity_people", "800", "ASSUMPTION: not published; range 500-1,000"),
        ("ramp.spots.heavy", "3", "ASSUMPTION: small ramp"),
    ]


def test_the_run_report_lists_the_reference_assumptions(tmp_path: Path) -> None:
    notes = assumption_notes(ROOT / "scenarios" / "kabul_2021.toml")
    assert any(n.key == "airfield.holding_capacity_people" and "thousands waited inside" in n.note for n in notes)


# -- folders that were tampered with, mixed or foreign: refused with exit 2, never a traceback ------

DEEP = 100_000


def _edit(change: Any) -> Any:
    """A change of a real summary: ``change(data)`` edits the parsed JSON in place."""

    def text(data: dict[str, Any]) -> str:
        change(data)
        return json.dumps(data)

    return text


def _without(key: str) -> Any:
    return _edit(lambda d: d.pop(key))


def _set(key: str, value: Any) -> Any:
    return _edit(lambda d: d.__setitem__(key, value))


def _metric(value: Any) -> Any:
    return _edit(lambda d: d["metrics"].__setitem__("evacuated_total", value))


SUMMARIES: dict[str, Any] = {
    "empty": lambda d: "",
    "truncated": lambda d: json.dumps(d)[: len(json.dumps(d)) // 2],
    "not JSON": lambda d: "summary of the run: all fine",
    "not UTF-8": lambda d: b"\xff\xfe{\x00}",
    "a list": lambda d: "[]",
    "null": lambda d: "null",
    "a string": lambda d: '"summary"',
    "a number": lambda d: "42",
    "true": lambda d: "true",
    "deep list": lambda d: "[" * DEEP + "]" * DEEP,
    "deep field": lambda d: '{"scenario": ' + '{"a": ' * DEEP + "1" + "}" * (DEEP + 1),
    **{f"no {key}": _without(key) for key in ("scenario", "metrics", "seed", "replications", "version", "run_id", "files")},
    "seed as text": _set("seed", "0"),
    "seed a fraction": _set("seed", 1.5),
    "no replications": _set("replications", 0),
    "replications as text": _set("replications", "3"),
    "replications a boolean": _set("replications", True),
    "version a number": _set("version", 1),
    "metrics a list": _set("metrics", []),
    "a metric a number": _metric(5),
    "a mean as text": _metric({"mean": "many", "ci95_low": 1.0, "ci95_high": 2.0}),
    "a metric without mean": _metric({"ci95_low": 1.0}),
    "scenario a list": _set("scenario", []),
    "scenario not a scenario": _edit(lambda d: d["scenario"].__setitem__("security", "always")),
    "command a number": _set("command", 5),
    "overrides a list": _set("overrides", []),
    "scenario_file a number": _set("scenario_file", 5),
    "files a list": _set("files", []),
    "files outside the folder": _set("files", {"../../etc/passwd": "sha256:00"}),
    "a digest a number": _edit(lambda d: d["files"].__setitem__("timeseries.csv", 5)),
    "run_id null": _set("run_id", None),
}


def _stats(field: str, value: Any) -> Any:
    return _edit(lambda d: d["metrics"]["evacuated_total"].__setitem__(field, value))


WRONG_FIELDS: dict[str, tuple[Any, str]] = {
    "a mean NaN": (_stats("mean", float("nan")), "metrics.evacuated_total.mean"),
    "a mean Infinity": (_stats("mean", float("inf")), "metrics.evacuated_total.mean"),
    "an interval -Infinity": (_stats("ci95_low", float("-inf")), "metrics.evacuated_total.ci95_low"),
    "values empty": (_stats("values", []), "metrics.evacuated_total.values"),
    "values as text": (_stats("values", ["a"]), "metrics.evacuated_total.values"),
    "a headline metric missing": (_edit(lambda d: d["metrics"].pop("evacuated_total")), "evacuated_total"),
    "seed negative": (_set("seed", -1), "seed"),
    "seed beyond 2**63 - 1": (_set("seed", 2**70), "seed"),
    "by_cohort as text": (_set("by_cohort", "x"), "by_cohort"),
    "by_operator a number": (_set("by_operator", 5), "by_operator"),
    "daily as text": (_set("daily", "x"), "daily"),
    "a day without date": (_edit(lambda d: d["daily"][0].pop("date")), "daily.0.date"),
    "intervals null": (_set("intervals", None), "intervals"),
    "no by_cohort": (_without("by_cohort"), "by_cohort"),
}


@pytest.mark.parametrize("variant", list(WRONG_FIELDS))
def test_a_wrong_value_the_writer_never_writes_is_refused_naming_the_field(
    variant: str, copy_of: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy_of("single")
    path = folder / "summary.json"
    change, field = WRONG_FIELDS[variant]
    path.write_text(change(json.loads(path.read_text(encoding="utf-8"))), encoding="utf-8")
    err = _refused(folder, capsys)
    assert str(path) in err and field in err, err


@pytest.fixture
def copy_of(folders: dict[str, Path], tmp_path: Path) -> Any:
    def copy(kind: str) -> Path:
        target = tmp_path / f"{kind}-{len(list(tmp_path.iterdir()))}"
        shutil.copytree(folders[kind], target)
        (target / "report.html").unlink(missing_ok=True)
        return target

    return copy


def _refused(folder: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip(), err
    assert not (folder / "report.html").exists()
    return err


@pytest.mark.parametrize("variant", list(SUMMARIES))
def test_a_tampered_summary_is_refused_naming_the_file(variant: str, copy_of: Any, capsys: pytest.CaptureFixture[str]) -> None:
    folder = copy_of("single")
    path = folder / "summary.json"
    tampered = SUMMARIES[variant](json.loads(path.read_text(encoding="utf-8")))
    path.write_bytes(tampered if isinstance(tampered, bytes) else tampered.encode("utf-8"))
    err = _refused(folder, capsys)
    assert str(path) in err, err


def test_files_from_another_run_are_refused(folders: dict[str, Path], copy_of: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """The rerun of issue 18: a stale timeseries.csv, a plot left over, a plot missing, another run's summary."""
    folder = copy_of("single")
    shutil.copy(folders["run"] / "timeseries.csv", folder / "timeseries.csv")
    assert "timeseries.csv: not the file the run of summary.json wrote" in _refused(folder, capsys)
    folder = copy_of("single")
    shutil.copy(folders["run"] / "limits_by_day.png", folder / "old_plot.png")
    (folder / "published.png").unlink(missing_ok=True)
    assert "old_plot.png: not written by the run of summary.json" in _refused(folder, capsys)
    folder = copy_of("single")
    (folder / "limits_by_day.png").unlink()
    assert "limits_by_day.png: listed by summary.json but missing" in _refused(folder, capsys)
    folder = copy_of("single")
    shutil.copy(folders["run"] / "summary.json", folder / "summary.json")
    assert "the folder mixes runs" in _refused(folder, capsys)


def test_a_tampered_comparison_or_sweep_is_refused(copy_of: Any, capsys: pytest.CaptureFixture[str]) -> None:
    folder = copy_of("compare")
    (folder / "compare.json").write_text("[]", encoding="utf-8")
    assert f"{folder / 'compare.json'}: an array, not a JSON object" in _refused(folder, capsys)
    folder = copy_of("compare")
    (folder / "differences.csv").write_text("metric,a_mean\nx,1\n", encoding="utf-8")
    assert "differences.csv: not the file the run of compare.json wrote" in _refused(folder, capsys)
    folder = copy_of("sweep")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["sweep"]["vary"] = "security.end"
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert f"{folder / 'manifest.json'}: sweep.vary: Input should be a valid dictionary" in _refused(folder, capsys)
    folder = copy_of("sweep")
    (folder / "results.csv").write_text("not,a,sweep\n1,2,3\n", encoding="utf-8")
    assert f"{folder / 'results.csv'}: not a table airlift wrote" in _refused(folder, capsys)


def test_report_on_a_read_only_folder_is_bad_input(
    copy_of: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy_of("single")
    folder.chmod(0o555)
    if os.geteuid() == 0:  # root may write anywhere: let the folder look as it would to any user
        can = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, **kw: not (Path(p) == folder and mode & os.W_OK) and can(p, mode, **kw))
    try:
        err = _refused(folder, capsys)
    finally:
        folder.chmod(0o755)
    assert err.startswith(f"{folder}: read-only: report.html cannot be written here")


# -- in a real browser ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if CHROMIUM is None:
        message = "Chromium not found: install the Debian package `chromium` (.ci/run does), or set AIRLIFT_CHROMIUM"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True, args=FLAGS
        )
        try:
            yield context
        finally:
            context.close()


def check_in_browser(context: Any, report: Path, name: str, width: int = 1100) -> dict[str, Any]:
    """Open a report; return what a reader would meet, and keep a screenshot if anything is wrong."""
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    url = report.resolve().as_uri()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if r.url != url and not r.url.startswith("data:") else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="load")
    images = page.eval_on_selector_all("img", "els => els.map(e => [e.alt, e.complete, e.naturalWidth])")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    found = {"requests": requests, "errors": errors, "images": images, "overflow": overflow}
    broken = [i for i in images if not i[1] or i[2] <= 0]
    if requests or errors or broken or not images or overflow > 0:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.close()
    return found


@pytest.mark.parametrize("kind", ["run", "single", "compare", "sweep"])
@pytest.mark.parametrize("width", [1100, 390])
def test_report_in_a_real_browser(browser: Any, folders: dict[str, Path], kind: str, width: int) -> None:
    found = check_in_browser(browser, folders[kind] / "report.html", f"report-{kind}-{width}", width)
    shot = f"screenshot in {ARTIFACTS}/report-{kind}-{width}.png"
    assert found["images"], f"no images ({shot})"
    assert all(done and w > 0 for _, done, w in found["images"]), (f"images not loaded ({shot})", found["images"])
    assert found["requests"] == [], f"network requests ({shot})"
    assert found["errors"] == [], f"console errors ({shot})"
    assert found["overflow"] <= 0, f"wider than the screen at {width} px ({shot})"


def test_report_prints(browser: Any, folders: dict[str, Path], tmp_path: Path) -> None:
    page = browser.new_page()
    page.goto((folders["run"] / "report.html").resolve().as_uri(), wait_until="load")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4")
    page.close()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 3
