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


# the model's data layer: compiled schedules and the families, owned by no actor and importing none
MODEL_DATA = {"sim.model.security", "sim.model.population"}


def test_model_data_layer_imports_no_actor():
    for mod in MODEL_DATA:
        path = SIM / "model" / (mod.rsplit(".", 1)[1] + ".py")
        assert {m for m in imports_of(path) if m.startswith("sim.model")} <= MODEL_DATA, mod


def test_actors_do_not_import_each_other():
    """Only world.py wires actors; each actor states what it needs of others as a Protocol."""
    actors = [p for p in (SIM / "model").glob("*.py") if p.name not in ("world.py", "__init__.py")]
    actors = [p for p in actors if f"sim.model.{p.stem}" not in MODEL_DATA]
    assert {p.stem for p in actors} >= {"airfield", "fleet", "gates", "ramp", "runway", "staging"}
    for path in actors:
        mods = {m for m in imports_of(path) if m.startswith("sim.model")}
        assert mods <= MODEL_DATA, (path.name, mods - MODEL_DATA)


def test_metrics_read_statuses_by_name():
    """No status column read by number (``by[:, 6]``): the summaries index by ``Status``."""
    tree = ast.parse((SIM / "metrics.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple):
            assert not any(isinstance(e, ast.Constant) and isinstance(e.value, int) for e in node.slice.elts), ast.unparse(node)


def test_cli_holds_no_model_logic():
    assert not any(m.startswith("sim.model") or m == "simpy" for m in imports_of(SIM / "cli.py"))
