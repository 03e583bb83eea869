"""The layering of sim/, checked on the imports: lower layers never import higher ones."""

from __future__ import annotations

import ast
from pathlib import Path

SIM = Path(__file__).resolve().parent.parent / "sim"


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_description_layer_imports_no_simpy_and_no_model():
    for name in ("scenario.py", "rng.py", "metrics.py", "stats.py", "keys.py"):
        mods = imports_of(SIM / name)
        assert not any(m == "simpy" or m.startswith("sim.model") for m in mods), (name, mods)


def test_plots_and_results_know_nothing_of_simpy_or_the_model():
    for name in ("plots.py", "results.py"):
        mods = imports_of(SIM / name)
        assert not any(m == "simpy" or m.startswith("sim.model") for m in mods), (name, mods)


def test_leaf_actors_do_not_import_each_other():
    """Only world.py wires actors; a leaf may use the shared data modules (population, security)."""
    shared = {"sim.model.population", "sim.model.security", "sim.model.airfield"}
    for path in (SIM / "model").glob("*.py"):
        if path.name in ("world.py", "__init__.py"):
            continue
        mods = {m for m in imports_of(path) if m.startswith("sim.model")}
        allowed = shared | ({"sim.model.ramp", "sim.model.runway", "sim.model.staging"} if path.name == "fleet.py" else set())
        assert mods <= allowed, (path.name, mods - allowed)


def test_cli_holds_no_model_logic():
    assert not any(m.startswith("sim.model") or m == "simpy" for m in imports_of(SIM / "cli.py"))
