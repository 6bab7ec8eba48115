"""The book's figure style (autophagy.plotting) on figures its helpers build: integer generation
ticks, one distinct colour-blind-safe colour per loop mode, no bands (drawn or promised) from one
replicate, and text no smaller than 9 pt once the figure is shown at the content column's width."""

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
from autophagy.engine.history import History  # noqa: E402
from autophagy.engine.modes import MODES  # noqa: E402

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


def test_lines_labelled_with_a_mode_take_its_colour_whatever_colour_was_asked():
    fig, axes = plotting.figure(2)
    for i, mode in enumerate(["replace", "augment", "fresh", "accumulate", "accumulate-subsample"]):
        h = history(3, seed=i)
        plotting.mean_line(axes[0], h, "var", label=mode, c=plotting.color(i))
        plotting.theory_line(axes[0], h.generations, np.ones(len(h.generations)), label=None, c=plotting.color(i))
        axes[1].plot(h.generations, h.generations, color=plotting.color(i), label=mode)
    plotting.fit(fig)
    for ax in axes:
        by_label = {line.get_label(): to_hex(line.get_color()) for line in ax.get_lines()}
        for mode in ("replace", "augment", "fresh", "accumulate", "accumulate-subsample"):
            assert by_label[mode] == plotting.mode_color(mode).lower()
    # each theory curve went with its mode
    theory = [to_hex(line.get_color()) for line in axes[0].get_lines() if line.get_linestyle() == "--"]
    assert theory == [
        plotting.mode_color(m).lower() for m in ("replace", "augment", "fresh", "accumulate", "accumulate-subsample")
    ]
    colours = {to_hex(line.get_color()) for line in axes[1].get_lines()}
    assert len(colours) == 5


def test_generation_ticks_are_integers():
    fig, axes = plotting.figure(2)
    plotting.mean_line(axes[0], history(2, generations=3), "var", label="mean")
    axes[1].plot([0, 1, 2, 3], [1, 2, 3, 4])
    axes[1].set_xlabel("generation")  # plain matplotlib: fit() gives it integer ticks
    plotting.generation_axis(axes[0])
    plotting.fit(fig)
    fig.canvas.draw()
    for ax in axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks


def test_one_replicate_draws_no_band_and_promises_none():
    fig, ax = plotting.figure()
    plotting.bands(ax, history(1), "var", label="median (bands: 50%, 90%)", c=plotting.color(0))
    ax.set_title("$W_2$ (median, bands)")
    assert not [c for c in ax.collections if isinstance(c, PolyCollection)]
    plotting.key(fig, {"MLE": plotting.color(0)}, {"median (bands: 50%, 90%)": "-"})
    plotting.fit(fig)
    words = " ".join(t.get_text() for t in texts(fig))
    assert "bands" not in words
    assert [line.get_label() for line in ax.get_lines()] == ["median"]


def test_replicates_draw_bands():
    fig, ax = plotting.figure()
    plotting.bands(ax, history(5), "var", label="median (bands: 50%, 90%)", c=plotting.color(0))
    plotting.fit(fig)
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 2
    assert ax.get_lines()[0].get_label() == "median (bands: 50%, 90%)"


def test_helpers_figures_fit_the_column_with_text_of_at_least_9_points():
    fig, axes = plotting.figure(3)
    for i, mode in enumerate(["replace", "fresh", "accumulate"]):
        for ax in axes:
            plotting.bands(ax, history(4, seed=i), "var", label=mode, c=plotting.color(i))
            plotting.generation_axis(ax)
    plotting.legend(fig)
    plotting.fit(fig)
    assert fig.get_size_inches()[0] * CSS_PX_PER_INCH <= COLUMN_PX
    for t in texts(fig):
        assert displayed_points(fig, t.get_fontsize()) >= plotting.MIN_FONT, t.get_text()


def test_a_wide_plain_figure_is_reflowed_to_the_column():
    """A chapter's plt.subplots(1, 4, figsize=(12, 3)) with 8 pt text: two rows of two, column
    wide, every text at 9 pt or more, and its one legend shared below the panels."""
    fig, axes = plt.subplots(1, 4, figsize=(12, 3))
    for i, mode in enumerate(["replace", "fresh", "accumulate"]):
        for ax in axes:
            ax.plot(range(5), np.arange(5) * (i + 1), color=plotting.color(i), label=mode)
            ax.set_xlabel("generation")
            ax.set_title("a panel", fontsize=8)
    axes[0].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    plotting.fit(fig)
    assert fig.get_size_inches()[0] == pytest.approx(plotting.WIDTH)
    rows = {ax.get_subplotspec().rowspan.start for ax in axes}
    assert rows == {0, 1}
    assert axes[0].get_legend() is None and len(fig.legends) == 1
    for t in texts(fig):
        assert displayed_points(fig, t.get_fontsize()) >= plotting.MIN_FONT, t.get_text()
    # the shared legend lies below every panel, inside the figure
    renderer = fig.canvas.get_renderer()
    box = fig.legends[0].get_window_extent(renderer)
    assert box.y1 <= min(ax.get_window_extent(renderer).y0 for ax in axes) + 1
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width + 1


def test_legends_of_different_things_stay_with_their_panels():
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    axes[0].plot([0, 1], [0, 1], color=plotting.color(1), label="watermarked")
    axes[1].plot([0, 1], [1, 0], color=plotting.color(1), label="edited 10%")
    for ax in axes:
        ax.legend()
    plotting.fit(fig)
    assert not fig.legends and all(ax.get_legend() is not None for ax in axes)


def test_fit_runs_once():
    fig, ax = plt.subplots(figsize=(12, 3))
    plotting.fit(fig)
    size = tuple(fig.get_size_inches())
    fig.set_size_inches(10, 3)
    plotting.fit(fig)
    assert tuple(fig.get_size_inches()) == (10, 3) and size[0] == pytest.approx(plotting.WIDTH)


def test_retina_pngs_in_a_notebook_are_shown_at_most_at_their_natural_width():
    """Through IPython's formatter (as a notebook shows a figure): the PNG has twice the pixels
    of the width it is displayed at, and the figure was fitted first."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        plotting.theme()
        fig, axes = plt.subplots(1, 4, figsize=(12, 3))
        data, metadata = shell.display_formatter.format(fig)
        png = data["image/png"]
        import base64
        import io

        from PIL import Image

        raw = base64.b64decode(png) if isinstance(png, str) else png
        natural = Image.open(io.BytesIO(raw)).size[0]
        shown = metadata["image/png"]["width"]
        assert shown * 2 == pytest.approx(natural, abs=2)
        assert shown <= COLUMN_PX
    finally:
        InteractiveShell.clear_instance()


def test_a_reflowed_figure_with_long_titles_is_saved_no_wider_than_the_column():
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.3))
    for ax in axes:
        ax.plot([1, 2], [1, 2], label="a line")
        ax.set_title("replace: texts' perplexity under generation 1", fontsize=10)
    plotting.fit(fig)
    fig.canvas.draw()
    box = fig.get_tightbbox(fig.canvas.get_renderer())
    assert box.width <= plotting.WIDTH + 0.02


def test_fit_takes_panels_whose_legends_hold_errorbars():
    fig, axes = plt.subplots(1, 2, figsize=(12, 3))
    for ax in axes:
        ax.errorbar([1, 2], [1, 2], yerr=[0.1, 0.2], fmt="o", label="measured")
        ax.plot([1, 2], [1, 2], label="exact")
        ax.legend()
    plotting.fit(fig)
    assert fig.get_size_inches()[0] <= plotting.WIDTH + 1e-9
