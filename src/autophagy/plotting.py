"""The book's figure style: sized for the page's content column, a colour-blind-safe palette,
integer generation ticks, quantile bands over replicates, theory lines and shared legends.

A figure made with :func:`figure` is :data:`WIDTH` inches wide, the width of the book's content
column at 96 CSS pixels an inch, so its text shows at the point size it was set in (at least
:data:`MIN_FONT` pt); notebooks draw it at twice that resolution (retina PNGs whose displayed
width is half their pixel width), so no figure is shown wider than its natural size.

Each loop mode has one fixed Okabe-Ito colour (and line style) in every figure of the book:
:data:`MODE_STYLES`, :func:`mode_color`. In a notebook, :func:`theme` also routes every figure
through :func:`fit` just before it is displayed, so that figures drawn with plain matplotlib
follow the same style: wider than the column, they are reflowed to it (a row of four panels
becomes two rows of two); a line labelled with a mode, and what was drawn in its colour on the
same axes (its theory curve, its bands), takes the mode's colour; x axes labelled "generation"
get integer ticks; a multi-panel figure whose panels carry one consistent legend gets it once,
below the panels; no text is smaller than :data:`MIN_FONT` pt; and a figure whose
:func:`bands` had one replicate to draw from promises no bands in its legend or titles.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_hex, to_rgba
from matplotlib.ticker import AutoLocator, MaxNLocator

# Okabe and Ito's palette, reordered so that the first five (the loop modes) differ in hue and
# lightness: blue, vermillion, bluish green, reddish purple, sky blue, orange, yellow, grey
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#F0E442", "#7F7F7F"]
WIDTH = 6.8  # inches: the content column (about 650 CSS px at 1280 px and wider)
MIN_FONT = 9  # points, at the displayed size
DPI = 96  # one figure inch is one CSS inch; PNGs are drawn at twice this (retina)
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}
# one colour and line style per loop mode (autophagy.engine.modes.MODES), the same in every figure; the
# web modes share the colour of the mode they scrape like and are drawn dash-dotted. Black and
# grey stay free for theory curves and reference lines.
MODE_STYLES = {
    "replace": (OKABE_ITO["blue"], "-"),
    "augment": (OKABE_ITO["orange"], "-"),
    "fresh": (OKABE_ITO["bluish green"], "-"),
    "accumulate": (OKABE_ITO["reddish purple"], "-"),
    "accumulate-subsample": (OKABE_ITO["vermillion"], "-"),
    "web": (OKABE_ITO["blue"], "-."),
    "web-accumulate": (OKABE_ITO["reddish purple"], "-."),
    "web-accumulate-subsample": (OKABE_ITO["vermillion"], "-."),
}
# not a mode: the real-only control of a neural loop (the same recipe on fresh real data only),
# drawn as a reference line, black and dotted, wherever a series is labelled CONTROL
CONTROL = "control"
CONTROL_STYLE = (OKABE_ITO["black"], ":")
SERIES_STYLES = {**MODE_STYLES, CONTROL: CONTROL_STYLE}
# how a label or a title promises quantile bands (removed when there were none to draw)
BAND_PROMISE = re.compile(r"\s*\(bands?:[^)]*\)|,\s*bands(?=\))|\s*\(dashed: bands\)")


def theme() -> None:
    """Apply the book's theme (call once per chapter)."""
    import seaborn as sns

    sns.set_theme(context="paper", style="whitegrid", palette=PALETTE)
    plt.rcParams.update(
        {
            "figure.figsize": (WIDTH, 3.0),
            "figure.dpi": DPI,
            "savefig.dpi": 2 * DPI,
            "font.size": 10,
            "axes.titlesize": 10,
            "axes.labelsize": 10,
            "axes.titleweight": "bold",
            "xtick.labelsize": MIN_FONT,
            "ytick.labelsize": MIN_FONT,
            "legend.fontsize": MIN_FONT,
            "legend.title_fontsize": MIN_FONT,
            "legend.frameon": False,
            "lines.linewidth": 1.6,
        }
    )
    try:  # in a notebook: PNGs at twice the resolution, shown at the figure's size
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        shell = get_ipython()
        if shell is not None:
            set_matplotlib_formats("retina")
            _fit_before_display(shell)
    except ImportError:
        pass


def _fit_before_display(shell) -> None:
    """Route the notebook's PNG formatter for figures through :func:`fit`."""
    from matplotlib.figure import Figure

    formatter = shell.display_formatter.formatters["image/png"]
    try:
        draw = formatter.lookup_by_type(Figure)
    except KeyError:
        return
    if getattr(draw, "fits", False):
        return

    def png(fig, _draw=draw):
        return _draw(fit(fig))

    png.fits = True
    formatter.for_type(Figure, png)


def mode_color(mode: str) -> str:
    """The fixed colour of loop mode ``mode`` (:data:`MODE_STYLES`) or of the :data:`CONTROL`."""
    return SERIES_STYLES[mode][0]


def mode_linestyle(mode: str) -> str:
    """The fixed line style of loop mode ``mode`` (:data:`MODE_STYLES`) or of the :data:`CONTROL`."""
    return SERIES_STYLES[mode][1]


def _style(label, c, ls="-"):
    """The colour and line style of a series: a mode's own when ``label`` names a mode (or the control)."""
    if isinstance(label, str) and label in SERIES_STYLES:
        colour, style = SERIES_STYLES[label]
        return colour, style if ls == "-" else ls
    return c, ls


def _remember(artist, c):
    """Note the colour a chapter asked for, so that :func:`fit` can map it to a mode's."""
    if c is not None:
        artist._asked_color = to_hex(c)
    return artist


def color(i: int):
    """The ``i``-th colour of the book's palette (it cycles)."""
    return PALETTE[i % len(PALETTE)]


def figure(ncols: int = 1, nrows: int = 1, height: float = 2.8, **kw):
    """A column-wide figure of ``nrows`` x ``ncols`` panels (``height`` inches a row), laid
    out so that a legend from :func:`legend` fits below it; returns (fig, axes)."""
    return plt.subplots(nrows, ncols, figsize=(WIDTH, height * nrows), layout="constrained", **kw)


def legend(fig, axes=None, ncol: int | None = None, **kw):
    """One legend for the whole figure, below the panels, with every distinct label of
    ``axes`` (all of the figure's by default), in as many columns as fit."""
    seen = {}
    for ax in np.atleast_1d(axes if axes is not None else fig.axes).ravel():
        for handle, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, handle)
    if not seen:
        return None
    labels = [_unpromised(fig, label) for label in seen]
    ncol = ncol or _columns(labels)
    return fig.legend(list(seen.values()), labels, loc="outside lower center", ncol=ncol, **kw)


def _columns(labels) -> int:
    """As many legend columns as fit the column's width at the legend's font size."""
    longest = max(len(str(label)) for label in labels)
    # a character is about 0.55 em wide; a handle and the gaps take about 4 em
    per = (0.55 * longest + 4) * MIN_FONT / 72
    return max(1, min(len(labels), int(WIDTH // per), 5))


def key(fig, colors: dict[str, str], lines: dict[str, object] | None = None, ncol: int | None = None):
    """A legend below the panels that names each colour (``colors``: label -> colour) and each
    line style (``lines``: label -> style, e.g. {"simulated": "-", "theory": "--"}) once."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=_style(label, c)[0], ls=_style(label, c)[1], lw=2, label=_unpromised(fig, label))
        for label, c in colors.items()
    ]
    handles += [
        Line2D([], [], color="0.35", ls=ls, label=_unpromised(fig, label)) for label, ls in (lines or {}).items()
    ]
    return fig.legend(
        handles=handles, loc="outside lower center", ncol=ncol or _columns([h.get_label() for h in handles])
    )


def _no_bands_drawn(fig) -> bool:
    """Whether :func:`bands` ran on ``fig`` and never had replicates to draw bands from."""
    drawn = getattr(fig, "_bands_drawn", None)
    return drawn is not None and not any(drawn)


def _unpromised(fig, text):
    """``text`` without its promise of bands when ``fig`` has none."""
    if isinstance(text, str) and _no_bands_drawn(fig):
        return BAND_PROMISE.sub("", text)
    return text


def knob_axis(ax, values, label: str) -> None:
    """An x axis for a swept setting: log-scaled when more than two positive values span over 20x."""
    values = np.asarray(values, dtype=float)
    if len(values) > 2 and values.min() > 0 and values.max() / values.min() > 20:
        ax.set_xscale("log")
    ax.set_xlabel(label)


def generation_axis(ax, label: str = "generation $t$"):
    """Label ``ax``'s x axis as generations, with integer ticks."""
    ax.set_xlabel(label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def bands(
    ax,
    history,
    metric: str,
    label: str | None = None,
    c=None,
    median: bool = True,
    outer: tuple[float, float] = (0.05, 0.95),
    inner: tuple[float, float] = (0.25, 0.75),
):
    """Draw the median of ``metric`` across replicates with 50% and 90% bands; the bands
    only where a generation has more than one replicate."""
    q = history.quantiles(metric, (outer[0], inner[0], 0.5, inner[1], outer[1]))
    t = q.index.to_numpy()
    cols = q.columns
    asked = c
    c, ls = _style(label, c)
    replicated = bool(history.frame.groupby("generation").size().max() > 1)
    fig = ax.figure
    fig._bands_drawn = [*getattr(fig, "_bands_drawn", []), replicated]
    if replicated:
        for lo, hi, alpha in ((cols[0], cols[4], 0.15), (cols[1], cols[3], 0.3)):
            _remember(ax.fill_between(t, q[lo], q[hi], color=c, alpha=alpha, lw=0), asked)
    elif isinstance(label, str):  # one replicate: the median is the run itself, and no bands
        label = BAND_PROMISE.sub("", label)
    if median:
        _remember(ax.plot(t, q[cols[2]], color=c, ls=ls, lw=1.6, label=label)[0], asked)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def mean_line(ax, history, metric: str, label: str | None = None, c=None, ls="-"):
    """Draw the mean of ``metric`` across replicates."""
    m = history.frame.groupby("generation")[metric].mean()
    colour, style = _style(label, c, ls)
    _remember(ax.plot(m.index, m.to_numpy(), color=colour, ls=style, lw=1.6, label=label)[0], c)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def mean_interval(ax, frame, metric: str, label: str | None = None, c=None, log: bool = False):
    """Draw the mean of ``metric`` across the replicates of ``frame`` (a tidy record) with its
    95% Student-t interval, by generation; ``log``: the geometric mean and its interval, for
    a measure shown on a log axis (a perplexity). One replicate draws the line alone."""
    from scipy import stats

    values = frame[["generation", metric]].dropna()
    if log:
        values = values.assign(**{metric: np.log(values[metric])})
    g = values.groupby("generation")[metric]
    mean, n = g.mean(), g.count()
    half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * g.std(ddof=1).fillna(0) / np.sqrt(n)
    back = np.exp if log else (lambda x: x)
    colour, style = _style(label, c)
    t = mean.index.to_numpy()
    if (n > 1).any():
        _remember(ax.fill_between(t, back(mean - half), back(mean + half), color=colour, alpha=0.2, lw=0), c)
    _remember(ax.plot(t, back(mean).to_numpy(), color=colour, ls=style, lw=1.6, label=label, marker="o", ms=3)[0], c)
    if log:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def theory_line(ax, t: np.ndarray, values: np.ndarray, label: str = "theory", c="black", ls="--"):
    """Draw a closed form as a dashed line (in the mode's colour when ``label`` is a mode)."""
    colour = _style(label, c)[0]
    _remember(ax.plot(t, values, color=colour, ls=ls, lw=1.3, label=label)[0], c)
    return ax


def band_figure(history, metric: str, ylabel: str, theory: Callable[[np.ndarray], np.ndarray] | None = None):
    """One metric across generations: the median (with bands when there are replicates), the
    mean and a theory curve for the mean."""
    fig, ax = figure(height=3.0)
    bands(ax, history, metric, label="median", c=color(0))
    mean_line(ax, history, metric, label="mean", c=color(1))
    if theory is not None:
        t = history.generations
        theory_line(ax, t, theory(t), label="theory (mean)")
    generation_axis(ax)
    ax.set_ylabel(ylabel)
    ax.legend(loc="best")
    return fig


def image_grid(ax, images: np.ndarray, rows: int, cols: int, title: str | None = None):
    """Tile ``rows * cols`` grey images (n, h, w) with values in [0, 1] or [0, 255] on ``ax``."""
    images = np.asarray(images)[: rows * cols]
    n, h, w = images.shape
    canvas = np.ones((rows * (h + 1) - 1, cols * (w + 1) - 1)) * images.max()
    for i in range(n):
        r, c = divmod(i, cols)
        canvas[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = images[i]
    ax.imshow(canvas, cmap="gray_r" if images.max() <= 1 else "gray", interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def fit(fig):
    """Bring a figure to the book's style in place (see the module's docstring); returns it.

    :func:`theme` calls it on every figure a notebook displays. It runs once per figure."""
    if getattr(fig, "_fitted", False):
        return fig
    fig._fitted = True
    panels = [ax for ax in fig.axes if ax.get_subplotspec() is not None]
    for ax in panels:
        _mode_colours(ax)
        _integer_generations(ax)
    for legend in [*fig.legends, *(ax.get_legend() for ax in fig.axes)]:
        if legend is not None:
            _legend_modes(legend)
    if _no_bands_drawn(fig):
        for text in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "set_text")):
            if BAND_PROMISE.search(text.get_text()):
                text.set_text(BAND_PROMISE.sub("", text.get_text()))
    wide = fig.get_size_inches()[0] > WIDTH + 1e-9
    _to_column(fig, panels)
    _one_legend(fig, panels)
    for text in fig.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "set_fontsize")):
        if text.get_fontsize() < MIN_FONT:
            text.set_fontsize(MIN_FONT)
    if wide:
        _wrap_titles(fig, panels)
    _within_width(fig)
    return fig


def _wrap_titles(fig, panels) -> None:
    """Titles longer than their panel is wide, broken into lines."""
    import textwrap

    for ax in panels:
        width = ax.get_position().width * fig.get_size_inches()[0]
        for title in (ax.title, ax._left_title, ax._right_title):
            text = title.get_text()
            if not text or "$" in text or "\n" in text:
                continue
            chars = max(12, int(width * 72 / (0.58 * title.get_fontsize())))
            if len(text) > chars:
                title.set_text(textwrap.fill(text, chars))


def _within_width(fig, tries: int = 3) -> None:
    """Narrow the figure until what a notebook saves of it (its tight bounding box: labels or
    a legend may reach past the figure's edge) is no wider than the column."""
    for _ in range(tries):
        fig.canvas.draw()
        box = fig.get_tightbbox(fig.canvas.get_renderer())
        if box is None or box.width <= WIDTH + 0.01:
            return
        width, height = fig.get_size_inches()
        fig.set_size_inches(max(width - (box.width - WIDTH) - 0.02, WIDTH / 2), height)


def _key(artist):
    """The colour a chapter drew ``artist`` in (the one it asked for, where noted)."""
    asked = getattr(artist, "_asked_color", None)
    if asked is not None:
        return asked
    try:
        if hasattr(artist, "get_facecolor") and not hasattr(artist, "get_xydata"):
            colours = np.atleast_2d(artist.get_facecolor())
            return to_hex(colours[0]) if len(colours) else None
        return to_hex(artist.get_color())
    except (TypeError, ValueError, AttributeError):  # a container (errorbar) has no one colour
        return None


def _mode_colours(ax) -> None:
    """Lines labelled with a mode take its colour and style; what ``ax`` drew in the colour
    the chapter gave that mode (theory curves, bands, markers) takes the mode's colour too."""
    remap: dict[str, str | None] = {}
    for line in ax.get_lines():
        label = line.get_label()
        if label in MODE_STYLES:
            key = _key(line)
            # two modes drawn in one colour: only their labels tell them apart
            remap[key] = label if remap.get(key, label) == label else None
            colour, style = MODE_STYLES[label]
            line.set_color(colour)
            if line.get_linestyle() == "-":
                line.set_linestyle(style)
    if not remap:
        return
    for artist in [*ax.get_lines(), *ax.collections, *ax.patches]:
        if getattr(artist, "get_label", lambda: "")() in MODE_STYLES:
            continue
        mode = remap.get(_key(artist))
        if mode is None:
            continue
        colour = mode_color(mode)
        if hasattr(artist, "get_xydata"):
            artist.set_color(colour)
        else:
            alpha = to_rgba(np.atleast_2d(artist.get_facecolor())[0])[3]
            artist.set_facecolor(to_rgba(colour, alpha))
            if hasattr(artist, "set_edgecolor") and len(np.atleast_2d(artist.get_edgecolor())):
                edge = np.atleast_2d(artist.get_edgecolor())[0]
                if edge[3] > 0 and to_hex(edge) != "#000000":
                    artist.set_edgecolor(to_rgba(colour, edge[3]))


def _legend_modes(legend) -> None:
    for handle, text in zip(legend.legend_handles, legend.texts):
        mode = text.get_text()
        if mode in MODE_STYLES and handle is not None:
            if hasattr(handle, "get_xydata"):
                handle.set_color(mode_color(mode))
                if handle.get_linestyle() == "-":
                    handle.set_linestyle(mode_linestyle(mode))
            elif hasattr(handle, "set_facecolor"):
                handle.set_facecolor(mode_color(mode))


def _integer_generations(ax) -> None:
    if (
        ax.get_xlabel().lower().startswith("generation")
        and ax.get_xscale() == "linear"
        and isinstance(ax.xaxis.get_major_locator(), AutoLocator)
    ):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _to_column(fig, panels) -> None:
    """A figure wider than the column: reflowed (a row of more than three panels into rows of
    two) and resized to the column's width, its layout redone."""
    width, height = fig.get_size_inches()
    if width <= WIDTH + 1e-9 or not panels:
        return
    grid = panels[0].get_subplotspec().get_gridspec()
    rows, cols = grid.get_geometry()
    single = all(
        ax.get_subplotspec().get_gridspec() is grid
        and ax.get_subplotspec().rowspan.stop - ax.get_subplotspec().rowspan.start == 1
        and ax.get_subplotspec().colspan.stop - ax.get_subplotspec().colspan.start == 1
        for ax in panels
    )
    old_rows = rows
    if single and rows == 1 and cols > 3:
        new_cols = 2
        new_rows = math.ceil(cols / new_cols)
        from matplotlib.gridspec import GridSpec

        new = GridSpec(new_rows, new_cols, figure=fig)
        for ax in panels:
            i = ax.get_subplotspec().colspan.start
            ax.set_subplotspec(new[i // new_cols, i % new_cols])
        rows, cols = new_rows, new_cols
    panel = WIDTH / cols
    row = min(height / old_rows, max(2.4, 0.75 * panel + 0.5))
    fig.set_size_inches(WIDTH, row * rows)
    try:
        fig.set_layout_engine("constrained")
    except RuntimeError:  # a colourbar made under another engine
        fig.tight_layout()


def _one_legend(fig, panels) -> None:
    """Several panels whose legends name the same things (one look per label, one label per
    colour): one legend below the panels instead."""
    legends = [ax.get_legend() for ax in panels if ax.get_legend() is not None]
    if len(panels) < 2 or not legends or fig.legends:
        return
    entries: dict[str, object] = {}
    styles: dict[tuple, str] = {}  # colour -> label
    for ax in panels:
        if ax.get_legend() is None:
            continue
        for handle, label in zip(*ax.get_legend_handles_labels()):
            style = _look(handle)
            if entries.get(label) is not None and _look(entries[label]) != style:
                return
            if styles.setdefault(style[:1], label) != label:
                return
            entries.setdefault(label, handle)
    if not entries:
        return
    for ax in panels:
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    if fig.get_layout_engine() is None or type(fig.get_layout_engine()).__name__ != "ConstrainedLayoutEngine":
        try:
            fig.set_layout_engine("constrained")
        except RuntimeError:
            return
    fig.legend(list(entries.values()), list(entries), loc="outside lower center", ncol=_columns(entries))


def _look(handle) -> tuple:
    """What tells a legend entry apart: its colour, line style and marker."""
    colour = _key(handle)
    style = handle.get_linestyle() if hasattr(handle, "get_linestyle") else None
    marker = handle.get_marker() if hasattr(handle, "get_marker") else None
    return colour, str(style), str(marker)
