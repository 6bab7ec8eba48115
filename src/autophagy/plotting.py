"""The book's figure style: sized for the page's content column, a colour-blind-safe palette,
integer generation ticks, quantile bands over replicates, theory lines and shared legends.

A figure made with :func:`figure` is :data:`WIDTH` inches wide, the width of the book's content
column at 96 CSS pixels an inch, so its text shows at the point size it was set in (at least
:data:`MIN_FONT` pt); notebooks draw it at twice that resolution for sharp lines.
"""

from __future__ import annotations

from typing import Callable

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.ticker import MaxNLocator

# Okabe and Ito's palette, reordered so that the first five (the loop modes) differ in hue and
# lightness: blue, vermillion, bluish green, reddish purple, sky blue, orange, yellow, grey
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#F0E442", "#7F7F7F"]
WIDTH = 6.8  # inches: the content column (about 650 CSS px at 1280 px and wider)
MIN_FONT = 9  # points, at the displayed size
DPI = 96  # one figure inch is one CSS inch; PNGs are drawn at twice this (retina)


def theme() -> None:
    """Apply the book's theme (call once per chapter)."""
    sns.set_theme(context="paper", style="whitegrid", palette=PALETTE)
    plt.rcParams.update({
        "figure.figsize": (WIDTH, 3.0), "figure.dpi": DPI, "savefig.dpi": 2 * DPI,
        "font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "axes.titleweight": "bold",
        "xtick.labelsize": MIN_FONT, "ytick.labelsize": MIN_FONT, "legend.fontsize": MIN_FONT,
        "legend.title_fontsize": MIN_FONT, "legend.frameon": False, "lines.linewidth": 1.6,
    })
    try:  # in a notebook: PNGs at twice the resolution, shown at the figure's size
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        if get_ipython() is not None:
            set_matplotlib_formats("retina")
    except ImportError:
        pass


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
    ncol = ncol or min(len(seen), 3 if max(len(label) for label in seen) > 18 else 5)
    return fig.legend(list(seen.values()), list(seen), loc="outside lower center", ncol=ncol, **kw)


def key(fig, colors: dict[str, str], lines: dict[str, object] | None = None, ncol: int | None = None):
    """A legend below the panels that names each colour (``colors``: label -> colour) and each
    line style (``lines``: label -> style, e.g. {"simulated": "-", "theory": "--"}) once."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=c, lw=2, label=label) for label, c in colors.items()]
    handles += [Line2D([], [], color="0.35", ls=ls, label=label) for label, ls in (lines or {}).items()]
    return fig.legend(handles=handles, loc="outside lower center", ncol=ncol or min(len(handles), 5))


def generation_axis(ax, label: str = "generation $t$"):
    """Label ``ax``'s x axis as generations, with integer ticks."""
    ax.set_xlabel(label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def bands(ax, history, metric: str, label: str | None = None, c=None, median: bool = True,
          outer: tuple[float, float] = (0.05, 0.95), inner: tuple[float, float] = (0.25, 0.75)):
    """Draw the median of ``metric`` across replicates with 50% and 90% bands; the bands
    only where a generation has more than one replicate."""
    q = history.quantiles(metric, (outer[0], inner[0], 0.5, inner[1], outer[1]))
    t = q.index.to_numpy()
    cols = q.columns
    if history.frame.groupby("generation").size().max() > 1:
        ax.fill_between(t, q[cols[0]], q[cols[4]], color=c, alpha=0.15, lw=0)
        ax.fill_between(t, q[cols[1]], q[cols[3]], color=c, alpha=0.3, lw=0)
    if median:
        ax.plot(t, q[cols[2]], color=c, lw=1.6, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def mean_line(ax, history, metric: str, label: str | None = None, c=None, ls="-"):
    """Draw the mean of ``metric`` across replicates."""
    m = history.frame.groupby("generation")[metric].mean()
    ax.plot(m.index, m.to_numpy(), color=c, ls=ls, lw=1.6, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def theory_line(ax, t: np.ndarray, values: np.ndarray, label: str = "theory", c="black", ls="--"):
    """Draw a closed form as a dashed line."""
    ax.plot(t, values, color=c, ls=ls, lw=1.3, label=label)
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
        canvas[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = images[i]
    ax.imshow(canvas, cmap="gray_r" if images.max() <= 1 else "gray", interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax

