"""The figures say what they show: local time, labelled bands, readable colours and numbers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgb
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

import sim
from sim.experiments.replications import DayTotals, ReplicationResult
from sim.outputs import run_figures as plots
from sim.outputs import sweep_figures as sweep_plots
from sim.outputs.files import save_png


def _draw(fig: Figure) -> Any:
    FigureCanvasAgg(fig).draw()
    return fig.canvas.get_renderer()  # type: ignore[attr-defined]


def _legend_texts(fig: Figure) -> list[str]:
    out = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
    for ax in fig.axes:
        lg = ax.get_legend()
        if lg is not None:
            out += [t.get_text() for t in lg.get_texts()]
    return out


def _luminance(colour: Any) -> float:
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: Any, b: Any) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)))
    return (lb + 0.05) / (la + 0.05)


@pytest.fixture(scope="module")
def small_run() -> sim.RunResult:
    from tests.conftest import DATA

    s = sim.load_scenario(DATA / "small.toml", {"reference_cumulative": [{"at": 1.0, "evacuated": 1234, "source": "test"}]})
    return sim.run(s, 3, 0)


def test_run_plots_are_on_the_local_clock(small_run: sim.RunResult) -> None:
    """The curve starts at the scenario's local 00:00 and the security end sits at its local time."""
    fig = plots.cumulative(small_run)
    ax = fig.axes[0]
    xs = [np.asarray(line.get_xdata(), dtype=float) for line in ax.get_lines()]
    starts = [mdates.num2date(x[0]).replace(tzinfo=None) for x in xs if len(x) > 2]
    assert starts and all(t == datetime(2021, 8, 14, 0, 0) for t in starts)
    verticals = [x[0] for x in xs if len(set(x)) == 1]
    assert [mdates.num2date(x).replace(tzinfo=None) for x in verticals] == [datetime(2021, 8, 16, 0, 0)]
    assert "UTC+04:30" in ax.get_xlabel()
    crowd = plots.crowds(small_run)
    assert all("UTC+04:30" in a.get_xlabel() for a in crowd.axes[-1:])


def test_cumulative_overlays_the_published_figures(small_run: sim.RunResult) -> None:
    fig = plots.cumulative(small_run)
    points = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert len(points) == 1
    x, y = np.asarray(points[0].get_offsets())[0]
    assert mdates.num2date(x).replace(tzinfo=None) == datetime(2021, 8, 15, 0, 0)
    assert y == 1234
    assert "published figures" in _legend_texts(fig)


@pytest.mark.parametrize("replications", [1, 2])
def test_plots_cope_with_a_window_under_one_hour(tmp_path: Any, small_path: Any, replications: int) -> None:
    s = sim.load_scenario(small_path, {"security.end": 0.01})
    result = sim.run(s, replications, 0)
    for stem, fig in result.figures().items():
        save_png(tmp_path / f"{stem}.png", fig)
        assert (tmp_path / f"{stem}.png").stat().st_size > 0


@dataclass
class FakeRun:
    """A run result with eleven operators, made by hand."""

    scenario: sim.Scenario
    replications: list[ReplicationResult] = field(default_factory=list)
    table: pd.DataFrame | None = None

    @property
    def metrics(self) -> dict[str, dict[str, Any]]:
        return {}

    def limits_by_day(self) -> Any:
        return self.table


OPERATORS = [f"op{i:02d}" for i in range(11)]


def _fake(small: sim.Scenario) -> FakeRun:
    gen = np.random.default_rng(1)
    reps = []
    for _ in range(4):
        daily = []
        for d in ("2021-08-14", "2021-08-15"):
            by_op = {op: int(gen.integers(10, 100) * (11 - i)) for i, op in enumerate(OPERATORS)}
            daily.append(DayTotals(d, sum(by_op.values()), 3, by_op))
        reps.append(ReplicationResult({}, tuple(daily), {}))
    return FakeRun(small, reps)


def test_daily_by_operator_has_colours_a_reader_can_tell_apart_and_intervals(small: sim.Scenario) -> None:
    fig = plots.daily_by_operator(_fake(small))
    ax = fig.axes[0]
    colours = {}
    for container in ax.containers:
        patches = getattr(container, "patches", None)
        if patches:
            colours[container.get_label()] = to_rgb(patches[0].get_facecolor())
    assert len(colours) <= len(plots.PALETTE) + 1, "too many colours to tell apart"
    for (a, ca), (b, cb) in itertools.combinations(colours.items(), 2):
        assert np.linalg.norm(np.subtract(ca, cb)) > 0.2, (a, b)
    assert any(str(label).startswith("4 others") for label in colours)
    bars = [c for c in ax.containers if type(c).__name__ == "ErrorbarContainer"]
    assert bars, "no interval on the daily totals"
    assert "95% interval of the total" in _legend_texts(fig)


def test_crowds_band_and_holding_capacity_are_labelled(small_run: sim.RunResult) -> None:
    fig = plots.crowds(small_run)
    texts = _legend_texts(fig)
    assert "95% interval of the mean" in texts
    assert any(t.startswith("holding capacity (800") for t in texts)
    assert "95% interval" in fig.axes[0].get_title()


def test_limits_by_day_draws_every_cause_and_labels_match_bars(small: sim.Scenario) -> None:
    table = pd.DataFrame(
        {
            "evacuees": [5.0, 1.0],
            "ramp": [1.0, 9.0],
            "crew": [7.0, 0.0],
            "holding_people": [10.0, 500.0],
            "binding": ["crew", "ramp"],
        },
        index=["2021-08-14", "2021-08-15"],
    )
    fig = plots.limits_by_day(FakeRun(small, [], table))
    ax = fig.axes[0]
    bar_colour = {c.get_label(): to_rgb(c.patches[0].get_facecolor()) for c in ax.containers if isinstance(c, BarContainer)}
    assert "crew: waiting for a rested crew" in bar_colour
    labels = {t.get_text(): to_rgb(t.get_color()) for t in ax.texts}
    assert labels["crew"] == bar_colour["crew: waiting for a rested crew"]
    assert labels["ramp"] == bar_colour["ramp: waiting for a parking spot"]


def _sweep_df(grid: bool) -> pd.DataFrame:
    gen = np.random.default_rng(0)
    points: list[tuple[float, float]]
    if grid:
        points = list(itertools.product([7.0, 14.0, 21.0, 28.0], [6.0, 12.0, 18.0, 24.0]))
    else:
        points = [(float(a), float(b)) for a, b in zip(gen.uniform(7, 28, 12), gen.uniform(6, 24, 12))]
    rows = []
    for i, (spots, lanes) in enumerate(points):
        for r in range(3):
            ev = 50_000 + 900 * spots + 700 * lanes + gen.normal(0, 300)
            rows.append(
                {
                    "point": i,
                    "ramp.spots.heavy": spots,
                    "gates.abbey.lanes": lanes,
                    "replication": r,
                    "evacuated_total": ev,
                    "stranded_total": 400_000 - ev,
                    "cohort.big.stranded": 300_000 - ev,
                    "cohort.tiny.stranded": 40.0 + r - spots,
                }
            )
    return pd.DataFrame(rows)


def test_heatmap_numbers_are_readable_and_title_unclipped() -> None:
    df = _sweep_df(True).rename(columns={"gates.abbey.lanes": "gates.abbey.lane_schedule.0.value"})
    fig = sweep_plots.sweep_heatmap(df, "ramp.spots.heavy", "gates.abbey.lane_schedule.0.value", "evacuated_total")
    renderer = _draw(fig)
    ax = fig.axes[0]
    image = next(a for a in ax.get_children() if isinstance(a, AxesImage))
    cells = image.get_array()
    assert cells is not None
    for text in ax.texts:
        x, y = text.get_position()
        i, j = int(round(float(y))), int(round(float(x)))
        cell = image.cmap(image.norm(cells[i, j]))
        assert _contrast(text.get_color(), cell) >= 4.5, (text.get_text(), text.get_color())
    box = ax.title.get_window_extent(renderer)
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width, "title clipped"


def test_latin_hypercube_is_a_scatter_not_a_grid() -> None:
    figs = sweep_plots.sweep_figures(_sweep_df(False), ["ramp.spots.heavy", "gates.abbey.lanes"], ["evacuated_total"])
    fig = figs["evacuated_total_scatter"]
    assert not any(isinstance(a, AxesImage) for a in fig.axes[0].get_children())
    assert any(isinstance(c, PathCollection) and len(np.asarray(c.get_offsets())) == 12 for c in fig.axes[0].collections)
    assert "evacuated_total_heatmap" in sweep_plots.sweep_figures(
        _sweep_df(True), ["ramp.spots.heavy", "gates.abbey.lanes"], ["evacuated_total"]
    )


def test_sweep_axes_are_in_words_with_thousands_separators() -> None:
    df = _sweep_df(True)
    df = df[df["gates.abbey.lanes"] == 6]
    fig = sweep_plots.sweep_metric(df, "ramp.spots.heavy", "evacuated_total")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "people evacuated"
    _draw(fig)
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert any("," in t for t in ticks), ticks


def test_stranded_by_cohort_has_a_panel_per_cohort_on_its_own_scale() -> None:
    fig = sweep_plots.stranded_by_cohort_vs(_sweep_df(True), "ramp.spots.heavy")
    visible = [a for a in fig.axes if a.get_visible()]
    assert sorted(a.get_title() for a in visible) == ["big", "tiny"]
    tops = sorted(a.get_ylim()[1] for a in visible)
    assert tops[1] / tops[0] > 100, "each cohort on its own scale"


def _text_boxes(fig: Figure) -> list[tuple[str, Any]]:
    """The window extent of every legend and every text written inside the axes, named."""
    renderer = _draw(fig)
    boxes = [(f"legend {i}", lg.get_window_extent(renderer)) for i, lg in enumerate(fig.legends)]
    for ax in fig.axes:
        key = ax.get_legend()
        if key is not None:
            boxes.append(("axes legend", key.get_window_extent(renderer)))
        boxes += [(f"text {t.get_text()!r}", t.get_window_extent(renderer)) for t in ax.texts if t.get_text()]
    return boxes


@pytest.fixture(scope="module")
def small_run_with_total(tmp_path_factory: pytest.TempPathFactory) -> sim.RunResult:
    """The small run with a published total as large as the model's (drawn at the security end, at
    the top right of the cumulative plot, where a label of the end line used to sit)."""
    from tests.conftest import DATA

    path = tmp_path_factory.mktemp("total") / "small_total.toml"
    path.write_text((DATA / "small.toml").read_text() + "\n[reference]\nevacuated_total = 2950\n")
    s = sim.load_scenario(path, {"reference_cumulative": [{"at": 1.0, "evacuated": 1234, "source": "test"}]})
    return sim.run(s, 3, 0)


def test_cumulative_labels_leave_the_published_points_visible(small_run_with_total: sim.RunResult) -> None:
    """No legend or text covers a published point (the "security end" label used to cover the total)."""
    fig = plots.cumulative(small_run_with_total)
    ax = fig.axes[0]
    renderer = _draw(fig)
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    xy = ax.transData.transform(np.vstack([np.asarray(p.get_offsets()) for p in points]))
    assert len(xy) == 2
    radius = 6 * fig.dpi / 72  # a marker of size 36 pt² spans 6 pt
    for name, box in _text_boxes(fig):
        for x, y in xy:
            inside = box.x0 - radius < x < box.x1 + radius and box.y0 - radius < y < box.y1 + radius
            assert not inside, f"{name} covers the published point at {x:.0f}, {y:.0f}"
    labels = ax.get_legend_handles_labels()[1]
    assert "security end" in labels, "the end line is named in the legend"
    assert renderer is not None


def test_stranded_legend_covers_no_bar_nor_total(small_run: sim.RunResult) -> None:
    """The legend of where people were stranded covers neither a bar nor the total written beside it
    (inside the axes, at the lower right, it used to hide the longest bar's total)."""
    fig = plots.stranded(small_run)
    ax = fig.axes[0]
    renderer = _draw(fig)
    legends = [lg.get_window_extent(renderer) for lg in fig.legends]
    assert legends and ax.get_legend() is None
    totals = [t.get_window_extent(renderer) for t in ax.texts]
    bars = [p.get_window_extent(renderer) for p in ax.patches]
    assert len(totals) == len(small_run.scenario.cohorts) and bars
    for legend_box in legends:
        for box in totals + bars:
            assert not legend_box.overlaps(box), (legend_box, box)
    drawn = [label for key, label, _ in plots.WHERE if key not in plots.OPTIONAL_WHERE]  # nobody turned back here
    assert [t.get_text() for t in fig.legends[0].get_texts()] == drawn


@pytest.mark.parametrize(
    ("peak", "line", "top", "shown"),
    [(300.0, 800.0, 880.0, True), (100.0, 800.0, 125.0, False), (0.0, 800.0, 1.25, False), (5000.0, 800.0, 5500.0, True)],
)
def test_a_capacity_far_above_the_data_does_not_flatten_it(peak: float, line: float, top: float, shown: bool) -> None:
    """A holding capacity more than three times the most people held is left above the axis
    (and the legend says so), so the data fill the plot; otherwise it stays in view."""
    assert plots.scale_with_line(peak, line) == pytest.approx((top, shown))


def test_crowds_say_when_the_capacity_is_above_the_axis(small_path: Any) -> None:
    s = sim.load_scenario(small_path, {"airfield.holding_capacity_people": 100000})
    fig = plots.crowds(sim.run(s, 2, 0))
    assert any(t.startswith("holding capacity (100,000 people, above the axis)") for t in _legend_texts(fig))
    assert fig.axes[1].get_ylim()[1] < 100000


def test_titles_fit_in_their_figures(small_path: Any) -> None:
    """Every title and legend lies inside its figure, with a scenario name as long as the bundled
    ones (the crowds title used to run off the right edge)."""
    s = sim.load_scenario(small_path, {"name": "wadi_saeedna_2023_and_more"})
    result = sim.run(s, 2, 0)
    for stem, fig in plots.run_figures(result).items():
        renderer = _draw(fig)
        frame = fig.bbox
        texts = [ax.title for ax in fig.axes] + [t for t in fig.texts if t.get_text() == fig.get_suptitle()]
        for t in [t for t in texts if t.get_text()]:
            box = t.get_window_extent(renderer)
            assert frame.x0 - 1 <= box.x0 and box.x1 <= frame.x1 + 1, f"{stem}: {t.get_text()!r} runs off the figure"
        for name, box in _text_boxes(fig):
            if name.startswith("legend") or name == "axes legend":
                assert frame.x0 - 1 <= box.x0 and box.x1 <= frame.x1 + 1, f"{stem}: {name} runs off the figure"


def test_compare_figure_of_no_difference_is_on_a_scale_of_people() -> None:
    """When B changes nothing (a demand-bound airlift given one more aircraft), the axis spans a
    person or so in whole people, not hundredths of one; rows only registered cohorts fill are left
    out when both sides are empty."""
    from sim.outputs.compare_figures import compare_differences

    zero = {"a_mean": 10.0, "b_mean": 10.0, "difference_mean": 0.0, "ci95_low": 0.0, "ci95_high": 0.0}
    empty = {"a_mean": 0.0, "b_mean": 0.0, "difference_mean": 0.0, "ci95_low": 0.0, "ci95_high": 0.0}
    fig = compare_differences({"evacuated_total": zero, "stranded_turned_back": empty, "cohort.a.stranded": zero})
    ax = fig.axes[0]
    _draw(fig)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["evacuated_total", "cohort.a.stranded"]
    assert ax.get_xlim() == (-1.5, 1.5)
    assert all(float(t).is_integer() for t in ax.get_xticks())


def test_explain_colours_a_gain_within_the_noise_pale() -> None:
    """The heat map's colour scale reaches the widest interval, so +2 people with an interval of -1
    to +6 is drawn pale (a third of the scale), and the colour bar counts whole people."""
    from sim.outputs.explain_figures import WHOLE, explain_heatmap

    totals = pd.DataFrame(
        {
            "resource": ["lanes", "aircraft"] * 2,
            "day": [WHOLE, WHOLE, "2023-04-24", "2023-04-24"],
            "gain_mean": [2.0, 0.0, 1.0, 0.0],
            "ci95_low": [-1.0, 0.0, -1.0, 0.0],
            "ci95_high": [6.0, 0.0, 2.0, 0.0],
        }
    )
    fig = explain_heatmap(totals, ["lanes", "aircraft"], 0.5, 4)
    _draw(fig)
    image = fig.axes[0].images[0]
    assert image.norm.vmax == pytest.approx(6.0)
    assert all(float(t).is_integer() for t in fig.axes[-1].get_yticks())


def test_a_key_of_whole_numbers_gets_whole_ticks() -> None:
    """Aircraft, lanes and spots are swept in whole numbers: no tick at 1.5 aircraft; a key sampled
    between whole numbers keeps its fractional ticks."""
    small_steps = _sweep_df(True).assign(**{"ramp.spots.heavy": lambda d: d["ramp.spots.heavy"] / 7})  # 1, 2, 3, 4
    for fig in (
        sweep_plots.stranded_by_cohort_vs(small_steps, "ramp.spots.heavy"),
        sweep_plots.sweep_metric(small_steps, "ramp.spots.heavy", "evacuated_total"),
    ):
        _draw(fig)
        ticks = [t for t in fig.axes[0].get_xticks() if 1 <= t <= 4]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
    sampled = _sweep_df(False).assign(**{"ramp.spots.heavy": lambda d: d["ramp.spots.heavy"] / 7})
    fig = sweep_plots.sweep_metric(sampled, "ramp.spots.heavy", "evacuated_total")
    _draw(fig)
    assert not all(float(t).is_integer() for t in fig.axes[0].get_xticks())
