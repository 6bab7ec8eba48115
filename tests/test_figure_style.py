"""The book's figure style (autophagy.plotting) on figures its helpers build, as drawn (nothing
repairs a figure afterwards): integer generation ticks, one distinct colour-blind-safe colour per
loop mode, no bands from one replicate, column-wide layouts, and text no smaller than 9 pt at the
displayed size. The command line's figures are checked the same way as they are saved."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.colors import to_hex, to_rgb  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from autophagy import plotting  # noqa: E402
from autophagy.engine.modes import MODES  # noqa: E402
from autophagy.runs.history import History  # noqa: E402

# the book's content column at a 1280 px window (sphinx-book-theme 1.3; tests/site measures it)
COLUMN_PX = 750
CSS_PX_PER_INCH = 96


@pytest.fixture(autouse=True)
def style():
    plotting.theme()
    yield
    plt.close("all")


def history(replicates: int, generations: int = 12, seed: int = 0) -> History:
    rng = np.random.default_rng(seed)
    rows = [
        {
            "generation": g,
            "replicate": r,
            "var": float(np.exp(-g / 10 + rng.normal(0, 0.1))),
            "w2": float(g / 10 + rng.normal(0, 0.05)),
        }
        for g in range(generations + 1)
        for r in range(replicates)
    ]
    return History(pd.DataFrame(rows), {"experiment": "gaussian", "profile": "smoke", "seed": seed, "params": {}})


def displayed_points(fig, size_pt: float) -> float:
    """The size a text of ``size_pt`` points shows at once the figure's PNG is displayed: at
    its own width (retina: half its pixels at 96 px an inch), or shrunk to the column."""
    shown_px = min(fig.get_size_inches()[0] * CSS_PX_PER_INCH, COLUMN_PX)
    return size_pt * shown_px / (fig.get_size_inches()[0] * CSS_PX_PER_INCH)


def texts(fig):
    fig.canvas.draw()
    return [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]


def linear(c):
    c = np.asarray(to_rgb(c))
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def lab(rgb_linear):
    """CIE L*a*b* (D65) of a linear sRGB colour."""
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = m @ rgb_linear / np.array([0.9505, 1.0, 1.089])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


# Machado, Oliveira and Fernandes (2009), severity 1
CVD = {
    "normal": np.eye(3),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
    ),
}


def test_every_loop_mode_has_a_fixed_style():
    assert set(MODES) <= set(plotting.MODE_STYLES)


@pytest.mark.parametrize("vision", CVD)
def test_mode_styles_are_distinct_under_colour_blindness(vision):
    """Any two modes differ in colour by a clear margin (CIE76 distance >= 15: no five colours
    of Okabe and Ito's reach 18 under all four), or else in line style, for normal vision and
    the three dichromacies (Machado et al.'s simulation)."""
    for a, b in itertools.combinations(plotting.MODE_STYLES, 2):
        (ca, la), (cb, lb) = plotting.MODE_STYLES[a], plotting.MODE_STYLES[b]
        if la != lb:
            continue
        delta = np.linalg.norm(
            lab(np.clip(CVD[vision] @ linear(ca), 0, 1)) - lab(np.clip(CVD[vision] @ linear(cb), 0, 1))
        )
        assert delta >= 15, f"{a} and {b} look alike ({vision}: delta E {delta:.1f})"


def test_mode_colours_are_okabe_ito_and_not_black():
    colours = {to_hex(c).upper() for c, _ in plotting.MODE_STYLES.values()}
    assert colours <= set(plotting.OKABE_ITO.values()) - {"#000000"}


def test_the_helpers_draw_a_series_labelled_with_a_mode_in_its_colour_whatever_colour_was_asked():
    fig, ax = plotting.figure()
    modes = ["replace", "augment", "fresh", "accumulate", "accumulate-subsample"]
    for i, mode in enumerate(modes):
        h = history(3, seed=i)
        plotting.mean_line(ax, h, "var", label=mode, c=plotting.color(i + 1))
        plotting.bands(ax, h, "w2", label=mode, c=plotting.color(i + 1))
        plotting.mean_interval(ax, h.frame, "var", label=mode, c=plotting.color(i + 1))
        plotting.theory_line(ax, h.generations, np.ones(len(h.generations)), label=mode, c=plotting.color(i + 1))
    for line in ax.get_lines():
        assert to_hex(line.get_color()) == plotting.mode_color(line.get_label()).lower()
    legend = plotting.key(fig, {mode: plotting.color(0) for mode in modes})
    for handle, text in zip(legend.legend_handles, legend.texts):
        assert to_hex(handle.get_color()) == plotting.mode_color(text.get_text()).lower()


def test_generation_ticks_are_integers():
    fig, axes = plotting.figure(3)
    plotting.mean_line(axes[0], history(2, generations=3), "var", label="mean")
    plotting.bands(axes[1], history(2, generations=3), "var", label="median")
    axes[2].plot([0, 1, 2, 3], [1, 2, 3, 4])
    plotting.generation_axis(axes[2])
    fig.canvas.draw()
    for ax in axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks


def test_one_replicate_draws_no_band_and_its_label_promises_none():
    fig, ax = plotting.figure()
    plotting.bands(ax, history(1), "var", label="median (bands: 50%, 90%)", c=plotting.color(0))
    assert not [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert [line.get_label() for line in ax.get_lines()] == ["median"]


def test_replicates_draw_bands():
    fig, ax = plotting.figure()
    plotting.bands(ax, history(5), "var", label="median (bands: 50%, 90%)", c=plotting.color(0))
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 2
    assert ax.get_lines()[0].get_label() == "median (bands: 50%, 90%)"


@pytest.mark.parametrize("n, rows, cols", [(1, 1, 1), (3, 1, 3), (4, 2, 2), (5, 3, 2)])
def test_panels_are_one_row_of_up_to_three_else_rows_of_two(n, rows, cols):
    fig, axes = plotting.panels(n)
    assert len(axes) == n == len(fig.axes)
    assert axes[0].get_subplotspec().get_gridspec().get_geometry() == (rows, cols)
    assert fig.get_size_inches()[0] == pytest.approx(plotting.WIDTH)


def assert_fits_the_column(fig, name: str = "figure") -> None:
    """``fig`` is drawn column-wide, is no wider than the column as saved (its tight bounding box:
    labels or a legend may reach past its edge), and shows no text under MIN_FONT points."""
    fig.canvas.draw()
    assert fig.get_size_inches()[0] <= plotting.WIDTH + 1e-9, f"{name}: {fig.get_size_inches()[0]:.2f} in wide"
    box = fig.get_tightbbox(fig.canvas.get_renderer())
    assert box.width * CSS_PX_PER_INCH <= COLUMN_PX, f"{name}: saved {box.width:.2f} in wide"
    for t in texts(fig):
        assert displayed_points(fig, t.get_fontsize()) >= plotting.MIN_FONT, f"{name}: {t.get_text()!r}"


def test_helpers_figures_fit_the_column_with_text_of_at_least_9_points():
    fig, axes = plotting.panels(4)
    for i, mode in enumerate(["replace", "fresh", "accumulate"]):
        for ax in axes:
            plotting.bands(ax, history(4, seed=i), "var", label=mode, c=plotting.color(i))
            plotting.generation_axis(ax)
            ax.set_title("a panel's title")
    plotting.legend(fig)
    assert_fits_the_column(fig)
    # the shared legend lies below every panel, inside the figure
    renderer = fig.canvas.get_renderer()
    box = fig.legends[0].get_window_extent(renderer)
    assert box.y1 <= min(ax.get_window_extent(renderer).y0 for ax in axes) + 1
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width + 1


def test_a_legend_of_long_labels_stays_within_the_column():
    fig, axes = plotting.figure(2)
    for i, label in enumerate(["no original data", "10% original data", "control", "real text", "generation 1"]):
        axes[i % 2].plot([0, 1], [0, i], label=label)
    plotting.legend(fig)
    assert_fits_the_column(fig)


def test_theme_sets_the_style_and_leaves_every_figure_as_drawn():
    """Through IPython's formatter (as a notebook shows a figure): a retina PNG with twice the
    pixels of the width it is displayed at, and that width is the one the figure was drawn at."""
    import base64
    import io

    from IPython.core.interactiveshell import InteractiveShell
    from PIL import Image

    shell = InteractiveShell.instance()
    try:
        plotting.theme()
        assert min(plt.rcParams[k] for k in ("xtick.labelsize", "legend.fontsize", "font.size")) >= plotting.MIN_FONT
        fig, axes = plotting.figure(2)
        data, metadata = shell.display_formatter.format(fig)
        png = data["image/png"]
        raw = base64.b64decode(png) if isinstance(png, str) else png
        natural = Image.open(io.BytesIO(raw)).size[0]
        shown = metadata["image/png"]["width"]
        assert shown * 2 == pytest.approx(natural, abs=2)
        assert shown <= COLUMN_PX
        assert fig.get_size_inches()[0] == pytest.approx(plotting.WIDTH) and len(fig.axes) == 2
    finally:
        InteractiveShell.clear_instance()


@pytest.fixture
def saved_figures(monkeypatch):
    """Every figure saved while the test runs, checked as it is saved: {file name: problem}."""
    from matplotlib.figure import Figure

    checked = {}
    save = Figure.savefig

    def checking_save(fig, target, *args, **kwargs):
        name = str(target) if not hasattr(target, "write") else f"figure {len(checked)}"
        try:
            assert_fits_the_column(fig, name)
            checked[name] = None
        except AssertionError as err:
            checked[name] = str(err)
        return save(fig, target, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", checking_save)
    plt.rcdefaults()  # the command line draws in the book's style by itself
    return checked


def test_the_command_line_draws_its_figures_in_the_books_style(tmp_path, monkeypatch):
    """Tick labels at the book's 9 pt (matplotlib's own default is 10), whatever the session's
    settings, and the session's settings left as they were."""
    from matplotlib.figure import Figure

    from autophagy import run

    ticks = []
    save = Figure.savefig

    def noting_save(fig, *args, **kwargs):
        ticks.append(fig.axes[0].xaxis.get_ticklabels()[0].get_fontsize())
        return save(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", noting_save)
    plt.rcdefaults()
    run("gaussian", out=tmp_path / "run", profile="smoke", progress=False, generations=3, replicates=3)
    assert ticks and all(size == plotting.rc()["xtick.labelsize"] for size in ticks), ticks
    assert plt.rcParams["xtick.labelsize"] == plt.rcParamsDefault["xtick.labelsize"]


@pytest.mark.parametrize(
    "experiment, settings",
    [
        ("gaussian", {"generations": 4, "replicates": 5}),
        ("gmm", {"generations": 4, "replicates": 3}),
        ("categorical", {"generations": 4, "replicates": 5}),
        ("mixing-sweep", {"generations": 3, "replicates": 5}),
        ("curation-sweep", {"generations": 3, "replicates": 5}),
    ],
)
def test_the_command_lines_figures_fit_the_column_with_text_of_at_least_9_points(
    tmp_path, saved_figures, experiment, settings
):
    from autophagy import run

    run(experiment, out=tmp_path / experiment, profile="smoke", progress=False, **settings)
    assert saved_figures, "no figure saved"
    assert not {name: problem for name, problem in saved_figures.items() if problem}


def test_a_sweeps_figures_fit_the_column_with_text_of_at_least_9_points(tmp_path, saved_figures):
    from autophagy import sweep

    grid = {"real_fraction": [0.1, 0.5], "samples": [50, 100]}
    sweep("gaussian", tmp_path / "sweep", grid, seeds=2, profile="smoke", progress=False, generations=3)
    assert len(saved_figures) >= 3, saved_figures  # a line figure per key and the heatmap
    assert not {name: problem for name, problem in saved_figures.items() if problem}


def test_the_image_and_arena_figures_fit_the_column_with_text_of_at_least_9_points():
    from autophagy.experiments.images import metric_figure, samples_figure
    from autophagy.experiments.mitigation import arena_figures

    rng = np.random.default_rng(0)
    rows = [
        {
            "generation": g,
            "replicate": r,
            "fid": rng.random(),
            "precision": rng.random(),
            "recall": rng.random(),
            "class_entropy": rng.random(),
        }
        for g in range(4)
        for r in range(3)
    ]
    assert_fits_the_column(metric_figure(History(pd.DataFrame(rows), {"params": {}})), "metric_figure")
    grids = {g: rng.integers(0, 255, (16, 28, 28), dtype=np.uint8) for g in range(6)}
    assert_fits_the_column(samples_figure(grids, title="samples by generation"), "samples_figure")
    arena = [
        {"modality": mod, "mitigation": m, "metric": metric, "generation": 3, "replicate": r, "value": rng.random()}
        for mod, metric in (("gaussian", "w2"), ("image", "fid"), ("image", "recall"), ("text", "distinct_2"))
        for m in ("none", "mix", "real-only", "verification")
        for r in range(3)
    ]
    assert_fits_the_column(arena_figures(History(pd.DataFrame(arena), {"params": {}}))["ranking"], "arena")
