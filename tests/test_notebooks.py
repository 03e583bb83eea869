"""Every notebook is stored without outputs, uses only the public API, takes its knobs from a
papermill ``parameters`` cell, says in words what its charts show, and runs top to bottom
(with small parameters injected, as ``papermill -p`` would)."""

from __future__ import annotations

import ast
import re

import nbformat
import papermill
import pytest

from .conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# small values injected by the test run, per notebook (others get only ``replications``)
SMALL: dict[str, dict[str, object]] = {
    "kabul_2021": {"replications": 2},
    "security_window": {
        "replications": 2,
        "security_ends": [15, 17, 19],
        "variants": {"twice the screening lanes": "kabul_2021_more_lanes.toml"},
    },
    "planning": {
        "replications": 2,
        "max_replications": 32,
        "check_replications": 10,
        "scenario_file": str(ROOT / "tests" / "data" / "small.toml"),
        "metric": "cohort.afghans.evacuated",
        "threshold": 2300,
        "probability": 0.8,
        "lever_values": "1.5..2.5:0.5",
    },
    "sensitivity": {
        "replications": 2,
        "trajectories": 2,
        "keys": ["gates.east.lanes", "fleets.us_c17.count", "bases.tbilisi.outflow_per_day"],
        "stored": str(ROOT / "docs" / "sensitivity_kabul_morris.csv"),
    },
}


def _code(path):
    nb = nbformat.read(path, as_version=4)
    return nb, [c for c in nb.cells if c.cell_type == "code"]


def _python(source: str) -> ast.Module:
    """A code cell parsed as Python (IPython magics dropped)."""
    return ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%")))


def test_there_are_notebooks():
    assert {p.name for p in NOTEBOOKS} >= {"kabul_2021.ipynb", "security_window.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    _, cells = _code(path)
    for cell in cells:
        assert not cell.outputs and cell.execution_count is None, f"{path.name}: clear outputs before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_uses_only_the_public_api_and_a_parameters_cell(path):
    _, cells = _code(path)
    tagged = [c for c in cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: one code cell tagged 'parameters'"
    assert cells.index(tagged[0]) == 0, f"{path.name}: the parameters cell comes first"
    params = _python(tagged[0].source)
    assert all(isinstance(node, ast.Assign) for node in params.body), "the parameters cell only assigns values"
    assert "replications" in {t.id for node in params.body for t in node.targets if isinstance(t, ast.Name)}  # type: ignore[attr-defined]
    for cell in cells:
        tree = _python(cell.source)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("sim"), f"{path.name}: 'from {node.module} import' (use `import sim`)"
            if isinstance(node, ast.Import):
                assert all(a.name == "sim" or not a.name.startswith("sim.") for a in node.names), path.name
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "sim":
                assert not node.attr.startswith("_") and node.attr not in ("plots", "sweeps", "experiment", "model"), node.attr
        assert "os.environ" not in cell.source and "getenv" not in cell.source, f"{path.name}: knobs come from parameters"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_chart_is_explained_in_words(path):
    """Each cell that shows a figure follows a markdown cell of at least two sentences."""
    nb, _ = _code(path)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and re.search(r"figures?\[|\.figure\(|sweep_plots\[", cell.source):
            words = nb.cells[i - 1]
            assert words.cell_type == "markdown", f"{path.name}: a chart without words before it (cell {i})"
            assert len(re.findall(r"[.:]\s", words.source + " ")) >= 2, f"{path.name}: say what cell {i}'s chart shows"


def test_no_chart_stacks_people_under_an_axis_of_hours():
    """The last chart of kabul_2021 stacked ``holding_people`` (a count) with waiting hours."""
    _, cells = _code(ROOT / "notebooks" / "kabul_2021.ipynb")
    for cell in cells:
        assert not re.search(r"limits[^\n]*\.plot", cell.source), "draw limits with the package figure (hours only)"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    out = tmp_path / path.name
    parameters = SMALL.get(path.stem, {"replications": 2})
    papermill.execute_notebook(
        str(path), str(out), parameters=parameters, cwd=str(tmp_path), kernel_name="python3", progress_bar=False
    )
    nb = nbformat.read(out, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "replications = 2" in injected[0].source
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    # it showed something: at least one figure and one table
    kinds = {k for c in nb.cells if c.cell_type == "code" for o in c.outputs for k in o.get("data", {})}
    assert "image/png" in kinds and "text/html" in kinds
