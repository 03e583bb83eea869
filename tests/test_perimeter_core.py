"""The engine's fast paths: the compiled perimeter loop gives the same run as its plain-Python
path (``NUMBA_DISABLE_JIT=1``), per-visit draws do not depend on when they are made, and a run
pauses the garbage collector only while it runs; screened records kept as columns read like a list."""

from __future__ import annotations

import gc
import json
import os
import platform
import subprocess
import sys
import weakref
from typing import Any, Literal

import numpy as np
import pytest

import sim
from sim.experiments.replications import run_replication
from sim.model.records import Screened, ScreenedRows, Status
from sim.model.streams import FamilyDraws, Streams, VisitDraws
from sim.model.world import World
from tests.conftest import DATA

CHILD = r"""
import json, sys
import sim
from sim.experiments.replications import run_replication
s = sim.load_scenario(sys.argv[1])
out = run_replication(s, 5, 0)
print(json.dumps({"metrics": out.metrics, "queue": [float(x) for x in out.hourly["gate_queue_people"]]}))
"""


def _run(jit: bool) -> dict[str, object]:
    env = dict(os.environ, NUMBA_DISABLE_JIT="0" if jit else "1")
    out = subprocess.run([sys.executable, "-c", CHILD, str(DATA / "small.toml")], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_plain_python_path_gives_the_same_run_as_the_compiled_one() -> None:
    compiled, plain = _run(jit=True), _run(jit=False)
    assert compiled == plain


def test_a_visit_row_is_the_same_whenever_and_in_whatever_order_it_is_made() -> None:
    first = FamilyDraws(Streams(3, 1), "patience", 1000, "exponential", rows=6)
    late = FamilyDraws(Streams(3, 1), "patience", 1000, "exponential", rows=6)
    first.table(5)
    row4 = late(4)  # made first, alone
    assert np.array_equal(first.table(5)[4], row4)
    assert np.array_equal(first(0), late.table(5)[0])
    other = FamilyDraws(Streams(3, 2), "patience", 1000, "exponential", rows=6)
    assert not np.array_equal(other(0), first(0))  # another replication, other numbers


def test_draw_rows_are_made_in_place_and_never_beyond_what_was_reserved() -> None:
    d = FamilyDraws(Streams(0, 0), "gate_choice", 500, "uniform", rows=3)
    a = d.table(1)
    b = d.table(3)
    assert np.shares_memory(a, b) and np.array_equal(a[0], b[0])  # growing copied nothing
    assert b.dtype == np.float32 and b.shape == (3, 500) and 0.0 <= b.min() and b.max() < 1.0
    with pytest.raises(ValueError, match="4 rows asked, 3 reserved"):
        d.table(4)


def test_visit_draws_keep_each_decisions_numbers_with_a_familys_side_by_side() -> None:
    """One block [visit, family, decision]: the same numbers as each decision drawn alone."""
    kinds: list[tuple[str, Literal["uniform", "exponential"]]] = [
        ("gate_choice", "uniform"),
        ("patience", "exponential"),
        ("way_time", "exponential"),
    ]
    together = VisitDraws(Streams(4, 2), 300, kinds, rows=4)
    together.make(3)
    for j, (name, kind) in enumerate(kinds):
        alone = FamilyDraws(Streams(4, 2), name, 300, kind, rows=4)
        assert np.array_equal(together.block[:3, :, j], alone.table(3))
        assert np.array_equal(together[name](2), alone(2))
    assert together.block.strides[2] == 4  # a family's decisions at one visit are adjacent floats
    with pytest.raises(ValueError, match="5 rows asked, 4 reserved"):
        together.make(5)


def test_importing_the_package_does_not_import_scipy() -> None:
    """SciPy takes about a second to import; a sweep's workers and the CLI's help never need it."""
    code = "import sys, sim, sim.experiments.sweeps, sim.cli.main; assert not any(m.startswith('scipy') for m in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_a_replication_asks_the_allocator_to_reuse_freed_memory(small: sim.Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.model import world

    calls: list[int] = []
    real = world.reuse_freed_memory

    def counted() -> bool:
        calls.append(1)
        return real()

    monkeypatch.setattr(world, "reuse_freed_memory", counted)
    run_replication(small, 0, 0)
    assert calls == [1]
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc" and not os.environ.get("AIRLIFT_SYSTEM_ALLOCATOR"):
        assert real() is True


def test_compiled_entry_points_are_kept_per_argument_types() -> None:
    from sim.model import perimeter_core as core

    fn = core._last_at_or_before
    if not hasattr(fn, "compile"):
        pytest.skip("compiling is off")
    a, b = np.arange(4.0), np.arange(8.0)
    frozen = np.arange(4.0)
    frozen.flags.writeable = False
    entry = core.direct(fn, a, 4, 1.5)
    assert core.direct(fn, b, 8, 0.5) is entry  # same types: the same entry point
    assert core.direct(fn, frozen, 4, 1.5) is not entry  # a read-only array is another type
    assert core.direct(fn, a[::2], 2, 1.5) is not entry  # so is a strided view
    assert entry(a, 4, 1.5) == 1 and core.direct(fn, frozen, 4, 1.5)(frozen, 4, 1.5) == 1


def test_a_finished_replications_records_pickle_with_their_screenings(small: sim.Scenario) -> None:
    import pickle

    w = World(small, 0, 0)
    w.run()
    again = pickle.loads(pickle.dumps(w.records))
    assert len(again.screened) == len(w.records.screened) > 0
    assert list(again.screened) == list(w.records.screened)


@pytest.mark.parametrize("collecting", [True, False])
def test_a_replication_pauses_the_garbage_collector_and_leaves_it_as_it_found_it(
    small: sim.Scenario, collecting: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    worlds: list[weakref.ref[World]] = []
    real_init, real_run = World.__init__, World.run

    def init(self: World, *args: Any) -> None:
        worlds.append(weakref.ref(self))
        real_init(self, *args)

    def run(self: World) -> None:
        seen.append(gc.isenabled())
        real_run(self)

    monkeypatch.setattr(World, "__init__", init)
    monkeypatch.setattr(World, "run", run)
    if not collecting:
        gc.disable()
    try:
        run_replication(small, 0, 0)
        assert gc.isenabled() is collecting
    finally:
        gc.enable()
    assert seen == [False]
    gc.collect(0)  # the youngest generation only: the whole world was made during the pause
    assert worlds and worlds[0]() is None


def test_screened_rows_read_like_a_list_of_records_and_give_columns() -> None:
    rows = ScreenedRows()
    assert len(rows) == 0 and list(rows) == [] and rows.column("people").size == 0
    rows.extend_columns(np.array([[1.0, 0.5], [2.0, 0.25]]), np.array([[3, 0, 1], [2, 1, 0]]))
    rows.append(Screened(4.0, 1.5, 5, 2, 1))
    rows.extend_columns(np.zeros((0, 2)), np.zeros((0, 3), dtype=np.int64))  # nothing: nothing changes
    expected = [Screened(1.0, 0.5, 3, 0, 1), Screened(2.0, 0.25, 2, 1, 0), Screened(4.0, 1.5, 5, 2, 1)]
    assert list(rows) == expected and len(rows) == 3
    assert rows[1] == expected[1] and rows[-1] == expected[2] and rows[0].people == 3
    assert isinstance(rows[0].gate, int) and isinstance(rows[0].start, float)
    with pytest.raises(IndexError):
        rows[3]
    assert rows.column("wait_hours").tolist() == [0.5, 0.25, 1.5]
    assert rows.column("cohort").tolist() == [1, 0, 1]
    with pytest.raises(ValueError, match="different lengths"):
        rows.extend_columns(np.zeros((2, 2)), np.zeros((1, 3), dtype=np.int64))


def test_screened_rows_can_follow_arrays_their_writer_fills_in_order() -> None:
    times, ints, filled = np.zeros((4, 2)), np.zeros((4, 3), dtype=np.int64), [0]
    rows = ScreenedRows()
    rows.follow(times, ints, lambda: filled[0])
    assert len(rows) == 0 and list(rows) == []
    times[0], ints[0], filled[0] = (1.0, 0.5), (3, 0, 1), 1
    times[1], ints[1], filled[0] = (2.0, 0.25), (2, 1, 0), 2
    assert list(rows) == [Screened(1.0, 0.5, 3, 0, 1), Screened(2.0, 0.25, 2, 1, 0)]
    assert rows[-1].people == 2 and rows.column("gate").tolist() == [0, 1]
    with pytest.raises(IndexError):
        rows[2]  # written beyond the count: not a row yet
    with pytest.raises(ValueError, match="follow"):
        rows.append(Screened(4.0, 1.5, 5, 2, 1))
    with pytest.raises(ValueError, match="one source"):
        rows.follow(times, ints, lambda: 0)


def test_the_core_lays_out_every_array_by_its_named_columns_and_the_holding_area_is_a_view_of_it(small: sim.Scenario) -> None:
    from sim.model import perimeter_core as core

    w = World(small, 0, 0)
    st = w.perimeter.state
    n, gates = w.population.n_groups, len(small.gates)
    assert st.fam_i.shape == (n, len(core.FAMILY_INTS)) and st.fam_f.shape == (n, len(core.FAMILY_FLOATS))
    assert st.gate_i.shape == (gates, len(core.GATE_INTS)) and st.gate_f.shape == (gates, len(core.GATE_FLOATS))
    assert st.screened_f.shape[1] == len(core.SCREENED_FLOATS) == Screened._fields.index("people")
    assert core.SCREENED_FLOATS + core.SCREENED_INTS == Screened._fields
    assert len(st.counters) == len(core.COUNTERS) and st.draws.shape[2] == len(core.DRAWS)
    assert st.status is w.population.status  # written in place, on the population's behalf
    assert w.holding.capacity == small.airfield.holding_capacity_people == st.counters[core.CAPACITY]
    w.run()
    assert w.holding.people_inside == st.counters[core.INSIDE_PEOPLE] and w.holding.peak_people > 0
    pop = w.population
    inside = pop.status == Status.HOLDING  # the population's account of who is in the holding area
    by_cohort = np.bincount(pop.cohort_arr[inside], weights=pop.size_arr[inside], minlength=len(pop.cohorts))
    assert st.inside_by_cohort.tolist() == by_cohort.tolist() and st.inside_by_cohort.sum() == w.holding.people_inside
