"""The scenario-writing guide stays true: its template validates and runs, every TOML snippet parses,
the whole scenarios in it validate, its excerpts are those of the files they quote, and a failed
``airlift validate`` points to it."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.cli.main import main
from sim.cli.validate import GUIDE_POINTER
from sim.description.key_table import scenario_keys

from .conftest import DATA, ROOT

GUIDE = ROOT / "docs" / "writing-a-scenario.md"
TEMPLATE = ROOT / "scenarios" / "templates" / "minimal.toml"
WHOLE_MARK = "<!-- whole scenario -->"
SNIPPET = re.compile(r"^(?P<mark><!-- whole scenario -->\n)?```toml\n(?P<body>.*?)^```", re.M | re.S)


def snippets() -> list[tuple[bool, str]]:
    """Every TOML block of the guide, with whether it is marked as a whole scenario."""
    return [(bool(m.group("mark")), m.group("body")) for m in SNIPPET.finditer(GUIDE.read_text(encoding="utf-8"))]


def guide_section(heading: str) -> str:
    text = GUIDE.read_text(encoding="utf-8")
    _, found, rest = text.partition(f"\n## {heading}\n")
    assert found, f"no section '## {heading}' in the guide"
    return rest.split("\n## ", 1)[0]


# ---- the template ----------------------------------------------------------------------------------


def test_the_template_validates_and_runs_a_short_replication():
    scenario = sim.load_scenario(TEMPLATE)
    people = sum(cohort.people for cohort in scenario.cohorts.values())
    result = sim.run(scenario, replications=2, seed=0)
    evacuated = result.metrics["evacuated_total"]["values"]
    stranded = result.metrics["stranded_total"]["values"]
    assert all(e > 0 for e in evacuated), "the template should fly somebody out"
    assert [e + s for e, s in zip(evacuated, stranded)] == [people, people]


def _required_keys() -> list[str]:
    """Dotted keys a scenario must give: required, under a top-level table that is itself required."""
    rows = scenario_keys()
    required = {key for key, _, default, _ in rows if default == "required"}
    return [key for key in sorted(required) if key.split(".")[0] in required]


def _present(raw: dict[str, Any], parts: list[str]) -> bool:
    """Whether the dotted path is in the parsed file; ``<name>`` stands for every entry of a table."""
    if not parts:
        return True
    head, rest = parts[0], parts[1:]
    if head == "<name>":
        return bool(raw) and all(isinstance(v, dict) and _present(v, rest) for v in raw.values())
    return head in raw and (not rest or (isinstance(raw[head], dict) and _present(raw[head], rest)))


def test_the_template_gives_every_required_key():
    raw = tomllib.loads(TEMPLATE.read_text(encoding="utf-8"))
    required = _required_keys()
    assert "security.end" in required and "fleets.<name>.seats" in required  # the key table is read
    missing = [key for key in required if not _present(raw, key.split("."))]
    assert not missing, f"the minimal template lacks required keys: {missing}"


def test_every_key_and_table_of_the_template_has_a_comment():
    assignments = re.compile(r"^(\[[^\]]+\]|[A-Za-z_][\w.]* *=)")
    bare = [line for line in TEMPLATE.read_text(encoding="utf-8").splitlines() if assignments.match(line) and "#" not in line]
    assert not bare, f"keys without a comment saying what they mean: {bare}"


def test_the_template_is_found_by_its_short_name_from_any_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "templates/minimal.toml"]) == 0
    out = capsys.readouterr().out
    assert Path(out.split(": ok")[0]).resolve() == TEMPLATE.resolve()


# ---- the guide's snippets ----------------------------------------------------------------------------


def test_every_toml_snippet_of_the_guide_parses():
    found = snippets()
    assert len(found) >= 5, "the guide's TOML blocks were not found"
    for _, body in found:
        tomllib.loads(body)


@pytest.mark.parametrize("number", range(sum(whole for whole, _ in snippets())))
def test_the_whole_scenarios_in_the_guide_validate_and_run(number, tmp_path):
    body = [body for whole, body in snippets() if whole][number]
    path = tmp_path / "from_the_guide.toml"
    path.write_text(body, encoding="utf-8")
    scenario = sim.load_scenario(path)
    assert scenario.cohorts and scenario.fleets and scenario.gates
    assert sim.run(scenario, replications=1, seed=0).metrics["evacuated_total"]["mean"] > 0


def test_the_guide_marks_at_least_one_whole_scenario():
    assert any(whole for whole, _ in snippets())
    assert GUIDE.read_text(encoding="utf-8").count(WHOLE_MARK) == sum(whole for whole, _ in snippets())


@pytest.mark.parametrize(
    ("heading", "quoted"),
    [
        ("Worked example: Kabul, August 2021", ROOT / "scenarios" / "kabul_2021.toml"),
        ("Worked example: the small test scenario", DATA / "small.toml"),
        ("Worked example: Wadi Saeedna (Sudan), April 2023", ROOT / "scenarios" / "wadi_saeedna_2023.toml"),
    ],
)
def test_the_worked_examples_quote_their_files_verbatim(heading, quoted):
    blocks = [m.group("body") for m in SNIPPET.finditer(guide_section(heading))]
    assert blocks, f"no TOML excerpt under '{heading}'"
    text = quoted.read_text(encoding="utf-8")
    for block in blocks:
        assert block in text, f"the excerpt under '{heading}' is not in {quoted.name}: {block[:80]!r}"


def test_the_second_evacuation_is_written_and_its_file_is_bundled():
    body = guide_section("Worked example: Wadi Saeedna (Sudan), April 2023")
    assert "To be written" not in body and "wadi_saeedna_2023" in body
    assert (ROOT / "scenarios" / "wadi_saeedna_2023.toml").is_file()


# ---- airlift validate points to the guide ------------------------------------------------------------


def test_validate_on_a_broken_file_prints_the_pointer_and_exits_2(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text(TEMPLATE.read_text(encoding="utf-8").replace("lanes = 2", "lane = 2"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "sim", "validate", str(broken)], capture_output=True, text=True)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert any(line.endswith("gates.main.lane: unknown key (check the spelling; unknown keys are errors)") for line in lines)
    assert all(line.startswith(f"{broken}: ") for line in lines[:-1]), "each problem names the file"
    assert lines[-1] == GUIDE_POINTER and "Traceback" not in done.stderr


def test_validate_on_good_files_prints_no_pointer(capsys):
    assert main(["validate", str(TEMPLATE), str(DATA / "small.toml")]) == 0
    captured = capsys.readouterr()
    assert GUIDE_POINTER not in captured.out + captured.err


def test_the_pointer_names_the_guide_the_template_and_the_key_list():
    guide = re.search(r"docs/[\w-]+\.md", GUIDE_POINTER)
    assert guide and (ROOT / guide.group(0)) == GUIDE
    assert "templates/minimal.toml" in GUIDE_POINTER and (ROOT / "scenarios" / "templates" / "minimal.toml").is_file()
    assert "`airlift keys`" in GUIDE_POINTER
