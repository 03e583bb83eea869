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
    for name in ("scenario.py", "rng.py", "metrics.py", "stats.py", "keys.py", "records.py"):
        mods = imports_of(SIM / name)
        assert not any(m == "simpy" or m.startswith("sim.model") for m in mods), (name, mods)


def test_records_are_the_lowest_layer():
    """The shared vocabulary imports nothing else of the package."""
    assert not any(m.startswith("sim") for m in imports_of(SIM / "records.py"))


def test_model_and_metrics_share_the_vocabulary_of_records():
    assert "sim.records" in imports_of(SIM / "metrics.py")
    for name in ("population.py", "fleet.py", "gates.py", "runway.py", "staging.py", "world.py"):
        assert "sim.records" in imports_of(SIM / "model" / name), name


def test_plots_and_results_know_nothing_of_simpy_or_the_model():
    for name in ("plots.py", "results.py"):
        mods = imports_of(SIM / name)
        assert not any(m == "simpy" or m.startswith("sim.model") for m in mods), (name, mods)


def test_no_model_module_imports_the_composition_root():
    for path in (SIM / "model").glob("*.py"):
        assert "sim.model.world" not in imports_of(path), path.name


# the actors: each owns its state and deals with the others only through objects world.py hands it
ACTORS = {f"sim.model.{a}" for a in ("airfield", "fleet", "gates", "ramp", "runway", "staging")}


def test_actors_do_not_import_each_other():
    """Only world.py wires actors; each actor states what it needs of others as a Protocol. Any
    other model module (a helper of one actor) imports no actor either."""
    for path in (SIM / "model").glob("*.py"):
        if path.name in ("world.py", "__init__.py"):
            continue
        mods = {m for m in imports_of(path) if m.startswith("sim.model")}
        assert not mods & ACTORS, (path.name, mods & ACTORS)
    for actor in ACTORS:
        assert (SIM / "model" / (actor.rsplit(".", 1)[1] + ".py")).exists(), actor


def test_metrics_read_statuses_by_name():
    """No status column read by number (``by[:, 6]``): the summaries index by ``Status``."""
    tree = ast.parse((SIM / "metrics.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple):
            assert not any(isinstance(e, ast.Constant) and isinstance(e.value, int) for e in node.slice.elts), ast.unparse(node)


def test_cli_holds_no_model_logic():
    assert not any(m.startswith("sim.model") or m == "simpy" for m in imports_of(SIM / "cli.py"))
