"""The documentation stays true to the code: generated tables are current, links resolve, the README
keeps its shape (the two set-up commands first, at most 250 lines) and its examples run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.cli.main import main
from sim.description import key_table
from sim.description.key_table import GENERATED_FILES, generated_tables, keys_markdown, marked_table, refreshed
from sim.description.metric_catalog import METRICS, metrics_markdown

from .conftest import ROOT

README = ROOT / "README.md"
PAGES = [README, ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
SETUP_COMMANDS = (
    "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/airlift run",
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest -q",
)
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)


def text_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def code_blocks(text: str) -> list[str]:
    return [m.group(1) for m in FENCE.finditer(text)]


def section(text: str, heading: str) -> str:
    """The body of the ``## heading`` section, up to the next ``## ``."""
    _, found, rest = text.partition(f"\n## {heading}\n")
    assert found, f"no section '## {heading}'"
    return rest.split("\n## ", 1)[0]


# ---- generated tables ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(GENERATED_FILES))
def test_generated_tables_in_the_docs_are_current(name):
    text = text_of(ROOT / name)
    tables = generated_tables()
    for marker in GENERATED_FILES[name]:
        assert marked_table(text, marker) == tables[marker], (
            f"{name}: the {marker} table is stale: regenerate it with `python -m sim.description.key_table`"
        )


def test_every_scenario_key_is_documented():
    reference = text_of(ROOT / "docs" / "scenario-reference.md")
    assert keys_markdown() in reference, "key table is stale: regenerate it with `python -m sim.description.key_table`"


def test_metrics_command_prints_every_metric_and_the_docs_have_the_table(small_path, capsys):
    assert main(["metrics"]) == 0
    text = capsys.readouterr().out
    for pattern, _ in METRICS:
        assert pattern in text
    assert main(["metrics", str(small_path)]) == 0
    assert "cohort.us_citizens.stranded_at_gates" in capsys.readouterr().out
    outputs = text_of(ROOT / "docs" / "outputs.md")
    assert metrics_markdown() in outputs, "metric table is stale: regenerate it with `python -m sim.description.key_table`"


def test_refresh_rewrites_a_stale_table_and_leaves_the_rest(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text("# Page\n\nbefore\n<!-- keys:start -->\n| stale |\n<!-- keys:end -->\nafter\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert key_table.main(["--check", "page.md"]) == 1
    assert "| stale |" in text_of(page), "--check must not write"
    assert key_table.main(["page.md"]) == 0
    new = text_of(page)
    assert new.startswith("# Page\n\nbefore\n") and new.endswith("<!-- keys:end -->\nafter\n")
    assert marked_table(new, "keys") == keys_markdown()
    assert key_table.main(["--check", "page.md"]) == 0


def test_refresh_refuses_a_file_without_markers_or_with_one_left_open(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="no generated table"):
        refreshed("# README\n\nno tables here\n", "README.md")
    with pytest.raises(ValueError, match="must both be there"):
        refreshed("<!-- metrics:start -->\n| x |\n", "page.md")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plain.md").write_text("nothing generated\n", encoding="utf-8")
    assert key_table.main(["plain.md"]) == 2
    assert text_of(tmp_path / "plain.md") == "nothing generated\n"
    assert key_table.main(["missing.md"]) == 2


# ---- links ---------------------------------------------------------------------------------------


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: text without markup, lower case, punctuation dropped, spaces as '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = text.replace("`", "").replace("*", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    prose = FENCE.sub("", text_of(path))
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", prose, re.M):
        base = slug(heading)
        name, n = base, 0
        while name in found:  # GitHub numbers repeated headings: x, x-1, x-2
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def relative_links(path: Path) -> list[str]:
    """Targets of the Markdown links and images of a page, outside code, that are not web addresses."""
    prose = re.sub(r"`[^`\n]*`", "", FENCE.sub("", text_of(path)))
    targets = re.findall(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", prose)
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_to_a_file_and_heading_that_exist(page):
    broken = []
    for target in relative_links(page):
        file_part, _, anchor = target.partition("#")
        linked = (page.parent / file_part).resolve() if file_part else page
        if not linked.exists():
            broken.append(f"{target}: no file {linked.relative_to(ROOT) if linked.is_relative_to(ROOT) else linked}")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading with anchor #{anchor}")
    assert not broken, broken


def test_the_link_checker_sees_links_and_headings():
    assert slug("Declared uncertainty: the `[uncertain]` table") == "declared-uncertainty-the-uncertain-table"
    assert slug("What the what-if variants say, across the plausible settings") == (
        "what-the-what-if-variants-say-across-the-plausible-settings"
    )
    assert "docs/model.md#what-the-model-assumes" in relative_links(README)


def test_the_readme_links_every_docs_page_and_contributing():
    linked = {(README.parent / t.partition("#")[0]).resolve() for t in relative_links(README)}
    pages = {p.resolve() for p in PAGES if p != README}
    assert not pages - linked, sorted(str(p.relative_to(ROOT)) for p in pages - linked)


# ---- the README's shape and examples ----------------------------------------------------------------


def test_readme_starts_with_the_two_setup_commands_and_stays_short():
    text = text_of(README)
    assert len(text.splitlines()) <= 250, "the README is the front door: move details to docs/"
    first, second = (block.strip() for block in code_blocks(text)[:2])
    assert (first, second) == SETUP_COMMANDS


def test_ci_runs_the_readme_test_command_verbatim():
    assert SETUP_COMMANDS[1] in text_of(ROOT / ".ci" / "run")


def test_cheat_sheet_has_one_line_for_every_command():
    help_text = subprocess.run([sys.executable, "-m", "sim", "--help"], capture_output=True, text=True, check=True).stdout
    commands = set(re.search(r"\{([a-z,]+)\}", help_text).group(1).split(","))  # type: ignore[union-attr]
    rows = re.findall(r"^\| `([a-z]+)` \| `airlift ([a-z]+)", section(text_of(README), "Command cheat sheet"), re.M)
    assert sorted(name for name, _ in rows) == sorted(commands)
    assert all(name == invoked for name, invoked in rows), rows


def test_the_five_minute_scenario_is_valid_and_adds_a_gate(tmp_path):
    start = section(text_of(README), "Your own scenario in five minutes")
    toml = next(block for block in code_blocks(start) if "extends" in block)
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios", target_is_directory=True)
    (tmp_path / "my_scenario.toml").write_text(toml, encoding="utf-8")
    mine = sim.load_scenario(tmp_path / "my_scenario.toml")
    reference = sim.load_scenario()
    assert set(mine.gates) - set(reference.gates) == {"siv_gate"}
    assert mine.with_overrides({"gates.siv_gate.lanes": 8}).gates["siv_gate"].lanes == 8
