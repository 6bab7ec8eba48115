"""The book's figure style: sized for the page's content column, a colour-blind-safe palette,
integer generation ticks, quantile bands over replicates, theory lines and shared legends.

A figure made with :func:`figure` is :data:`WIDTH` inches wide, the width of the book's content
column at 96 CSS pixels an inch, so its text shows at the point size it was set in (at least
:data:`MIN_FONT` pt); notebooks draw it at twice that resolution (retina PNGs whose displayed
width is half their pixel width), so no figure is shown wider than its natural size.

Each loop mode has one fixed Okabe-Ito colour (and line style) in every figure of the book:
:data:`MODE_STYLES`, :func:`mode_color`; the helpers that draw a series labelled with a mode
(:func:`bands`, :func:`mean_line`, :func:`mean_interval`, :func:`theory_line`, :func:`key`) draw
it in that colour. :func:`theme` sets the style (rcParams and retina PNGs) and nothing else: a
figure is shown as the code that drew it left it, so chapters and the command line build theirs
finished with these helpers: column-wide (:func:`figure`, :func:`panels`: rows of two for more
than three panels), one legend below the panels (:func:`legend`, :func:`key`), integer
generation ticks (:func:`generation_axis`), and text no smaller than :data:`MIN_FONT` pt.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

# Okabe and Ito's palette, reordered so that the first five (the loop modes) differ in hue and
# lightness: blue, vermillion, bluish green, reddish purple, sky blue, orange, yellow, grey
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#F0E442", "#7F7F7F"]
WIDTH = 6.8  # inches: the content column (about 650 CSS px at 1280 px and wider)
MIN_FONT = 9  # points, at the displayed size
DPI = 96  # one figure inch is one CSS inch; PNGs are drawn at twice this (retina)
DRAWN_GENERATIONS = 1001  # a line across the column has about this many pixels at twice DPI
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
# how a series' label promises quantile bands, e.g. "median (bands: 50%, 90%)": :func:`bands`
# drops the promise when it has one replicate to draw from
BAND_PROMISE = re.compile(r"\s*\(bands?:[^)]*\)")


def rc() -> dict:
    """The book's matplotlib settings: a white grid and thin, light frames (seaborn's
    "whitegrid" style and "paper" context, written out so that drawing needs no seaborn), the
    palette, column-wide figures and text of at least :data:`MIN_FONT` pt."""
    from cycler import cycler

    return {
        "axes.grid": True,
        "axes.axisbelow": True,
        "axes.edgecolor": ".8",
        "axes.linewidth": 1.0,
        "grid.color": ".8",
        "axes.labelcolor": ".15",
        "text.color": ".15",
        "xtick.color": ".15",
        "ytick.color": ".15",
        "xtick.bottom": False,
        "ytick.left": False,
        "xtick.major.width": 1.0,
        "ytick.major.width": 1.0,
        "xtick.major.size": 4.8,
        "ytick.major.size": 4.8,
        "lines.solid_capstyle": "round",
        "lines.markersize": 4.8,
        "patch.edgecolor": "w",
        "patch.force_edgecolor": True,
        "patch.linewidth": 0.8,
        "axes.prop_cycle": cycler(color=PALETTE),
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


def style():
    """A context in which figures are drawn in the book's style (the command line's figures)."""
    return plt.rc_context(rc())


def theme() -> None:
    """Apply the book's style for the rest of the session (call once per chapter); in a
    notebook, figures are shown as retina PNGs. It changes settings only, never a figure."""
    plt.rcParams.update(rc())
    try:  # in a notebook: PNGs at twice the resolution, shown at the figure's size
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        shell = get_ipython()
        if shell is not None:
            set_matplotlib_formats("retina")
    except ImportError:
        pass


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


def color(i: int):
    """The ``i``-th colour of the book's palette (it cycles)."""
    return PALETTE[i % len(PALETTE)]


def figure(ncols: int = 1, nrows: int = 1, height: float = 2.8, **kw):
    """A column-wide figure of ``nrows`` x ``ncols`` panels (``height`` inches a row), laid
    out so that a legend from :func:`legend` fits below it; returns (fig, axes)."""
    return plt.subplots(nrows, ncols, figsize=(WIDTH, height * nrows), layout="constrained", **kw)


def panels(n: int, height: float = 2.6, **kw):
    """A column-wide figure of ``n`` panels: one row of up to three, else rows of two (an odd
    last panel is removed); returns (fig, a flat list of the ``n`` axes)."""
    cols = n if n <= 3 else 2
    rows = math.ceil(n / cols)
    fig, axes = figure(ncols=cols, nrows=rows, height=height, squeeze=False, **kw)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.remove()
    return fig, flat[:n]


def legend(fig, axes=None, ncol: int | None = None, **kw):
    """One legend for the whole figure, below the panels, with every distinct label of
    ``axes`` (all of the figure's by default), in as many columns as fit."""
    seen = {}
    for ax in np.atleast_1d(axes if axes is not None else fig.axes).ravel():
        for handle, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, handle)
    if not seen:
        return None
    ncol = ncol or _columns(seen)
    return fig.legend(list(seen.values()), list(seen), loc="outside lower center", ncol=ncol, **kw)


def _columns(labels) -> int:
    """As many legend columns as fit the column's width at the legend's font size."""
    longest = max(len(str(label)) for label in labels)
    # a character is at most about 0.6 em wide; a handle and the gaps take about 4.5 em
    per = (0.6 * longest + 4.5) * MIN_FONT / 72
    return max(1, min(len(labels), int(WIDTH // per), 5))


def key(fig, colors: dict[str, str], lines: dict[str, object] | None = None, ncol: int | None = None):
    """A legend below the panels that names each colour (``colors``: label -> colour) and each
    line style (``lines``: label -> style, e.g. {"simulated": "-", "theory": "--"}) once."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=_style(label, c)[0], ls=_style(label, c)[1], lw=2, label=label)
        for label, c in colors.items()
    ]
    handles += [Line2D([], [], color="0.35", ls=ls, label=label) for label, ls in (lines or {}).items()]
    return fig.legend(
        handles=handles, loc="outside lower center", ncol=ncol or _columns([h.get_label() for h in handles])
    )


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
    c, ls = _style(label, c)
    replicated = bool(history.frame.groupby("generation").size().max() > 1)
    if replicated:
        for lo, hi, alpha in ((cols[0], cols[4], 0.15), (cols[1], cols[3], 0.3)):
            ax.fill_between(t, q[lo], q[hi], color=c, alpha=alpha, lw=0)
    elif isinstance(label, str):  # one replicate: the median is the run itself, and no bands
        label = BAND_PROMISE.sub("", label)
    if median:
        ax.plot(t, q[cols[2]], color=c, ls=ls, lw=1.6, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def mean_line(ax, history, metric: str, label: str | None = None, c=None, ls="-"):
    """Draw the mean of ``metric`` across replicates."""
    m = history.frame.groupby("generation")[metric].mean()
    colour, style = _style(label, c, ls)
    ax.plot(m.index, m.to_numpy(), color=colour, ls=style, lw=1.6, label=label)
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
        ax.fill_between(t, back(mean - half), back(mean + half), color=colour, alpha=0.2, lw=0)
    ax.plot(t, back(mean).to_numpy(), color=colour, ls=style, lw=1.6, label=label, marker="o", ms=3)
    if log:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def theory_line(ax, t: np.ndarray, values: np.ndarray, label: str = "theory", c="black", ls="--"):
    """Draw a closed form as a dashed line (in the mode's colour when ``label`` is a mode)."""
    colour = _style(label, c)[0]
    ax.plot(t, values, color=colour, ls=ls, lw=1.3, label=label)
    return ax


def band_figure(history, metric: str, ylabel: str, theory: Callable[[np.ndarray], np.ndarray] | None = None):
    """One metric across generations: the median (with bands when there are replicates), the
    mean and a theory curve for the mean; at most ``DRAWN_GENERATIONS`` generations, evenly
    spaced (a column-wide figure has fewer pixels than a long run has generations)."""
    history = history.thinned(DRAWN_GENERATIONS)
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
