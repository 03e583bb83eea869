"""The layering of sim/, checked on the imports (every import, also those inside functions):
each folder is a layer, a module imports only its own layer and those below, and no two modules
import each other however indirectly."""

from __future__ import annotations

import ast
from pathlib import Path

SIM = Path(__file__).resolve().parent.parent / "sim"

# bottom to top; a module may import its own layer and the layers before it
LAYERS: tuple[tuple[str, ...], ...] = (
    ("sim._version", "sim.statistics"),
    ("sim.description",),
    ("sim.model",),
    ("sim.outputs",),
    ("sim.experiments",),
    ("sim.analysis",),
    ("sim.report",),
    ("sim.cli",),
    ("sim", "sim.__main__"),  # the public API and the entry point
)


def module_name(path: Path) -> str:
    parts = path.relative_to(SIM.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in SIM.rglob("*.py")}


def imports_of(path: Path) -> set[str]:
    """The sim modules (and other top-level names) a file imports; ``from pkg import mod`` counts as ``pkg.mod``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES)
    return out


def layer_of(module: str) -> int:
    best = -1, -1  # (length of the matching prefix, layer)
    for i, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best[0]:
                best = len(name), i
    assert best[1] >= 0, f"{module} is in no layer: add its folder to LAYERS"
    return best[1]


def sim_imports(module: str) -> set[str]:
    """The modules of sim/ that ``module`` imports (``sim`` itself is the public API, the top layer)."""
    return {m for m in imports_of(MODULES[module]) if m in MODULES and m != module}


def test_every_module_is_in_a_layer():
    for module in MODULES:
        layer_of(module)


def test_no_module_imports_a_layer_above_its_own():
    upward = [(module, target) for module in MODULES for target in sim_imports(module) if layer_of(target) > layer_of(module)]
    assert not upward, upward


def test_no_import_circles():
    graph = {m: sim_imports(m) for m in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert not circles, circles


def test_imports_inside_functions_count(tmp_path):
    """An import deferred into a function body is still an arrow between modules."""
    (tmp_path / "a.py").write_text("def f():\n    from sim.model import world\n    import simpy\n")
    assert {"sim.model", "sim.model.world", "simpy"} <= imports_of(tmp_path / "a.py")


def test_description_layer_imports_no_simpy():
    """Loading and checking a scenario never starts the engine."""
    for module in MODULES:
        if module.startswith("sim.description"):
            mods = imports_of(MODULES[module])
            assert not any(m == "simpy" or m.startswith("simpy.") for m in mods), (module, mods)


def test_records_import_only_the_vocabulary_below_them():
    """The shared vocabulary of the model imports nothing of the package but the description's names."""
    mods = {m for m in imports_of(SIM / "model" / "records.py") if m.startswith("sim")}
    assert all(m.startswith("sim.description") for m in mods), mods


def test_model_and_metrics_share_the_vocabulary_of_records():
    assert "sim.model.records" in imports_of(SIM / "model" / "metrics.py")
    for name in ("population.py", "fleet.py", "perimeter.py", "runway.py", "staging.py", "world.py"):
        assert "sim.model.records" in imports_of(SIM / "model" / name), name


def test_outputs_know_nothing_of_simpy_or_the_model():
    for path in (SIM / "outputs").glob("*.py"):
        mods = imports_of(path)
        assert not any(m == "simpy" or m.startswith("sim.model") for m in mods), (path.name, mods)


def test_no_model_module_imports_the_composition_root():
    for path in (SIM / "model").glob("*.py"):
        assert "sim.model.world" not in imports_of(path), path.name


# the actors: each owns its state and deals with the others only through objects world.py hands it
ACTORS = {f"sim.model.{a}" for a in ("holding", "fleet", "perimeter", "ramp", "runway", "staging")}


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
    tree = ast.parse((SIM / "model" / "metrics.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple):
            assert not any(isinstance(e, ast.Constant) and isinstance(e.value, int) for e in node.slice.elts), ast.unparse(node)


def test_cli_holds_no_model_logic():
    for path in (SIM / "cli").glob("*.py"):
        assert not any(m.startswith("sim.model") or m == "simpy" for m in imports_of(path)), path.name


def test_functions_fit_on_a_screen():
    """No function over 60 lines, unless its first docstring line or the line above it says why (``# long: ...``)."""
    long = []
    for module, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
                length = node.end_lineno - first + 1 if node.end_lineno else 0
                reason = "# long:" in lines[first - 2] if first >= 2 else False
                if length > 60 and not reason:
                    long.append(f"{module}.{node.name} ({length} lines)")
    assert not long, long
