"""The book's figure style: one seaborn theme, quantile bands over replicates, theory lines."""

from __future__ import annotations

from typing import Callable

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

PALETTE = "colorblind"


def theme() -> None:
    """Apply the book's theme (call once per chapter)."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 120, "axes.titleweight": "bold"})


def color(i: int):
    return sns.color_palette(PALETTE)[i % 10]


def bands(ax, history, metric: str, label: str | None = None, c=None, median: bool = True,
          outer: tuple[float, float] = (0.05, 0.95), inner: tuple[float, float] = (0.25, 0.75)):
    """Draw the median of ``metric`` across replicates with 50% and 90% bands."""
    q = history.quantiles(metric, (outer[0], inner[0], 0.5, inner[1], outer[1]))
    t = q.index.to_numpy()
    cols = q.columns
    ax.fill_between(t, q[cols[0]], q[cols[4]], color=c, alpha=0.15, lw=0)
    ax.fill_between(t, q[cols[1]], q[cols[3]], color=c, alpha=0.3, lw=0)
    if median:
        ax.plot(t, q[cols[2]], color=c, lw=1.6, label=label)
    return ax


def mean_line(ax, history, metric: str, label: str | None = None, c=None, ls="-"):
    """Draw the mean of ``metric`` across replicates."""
    m = history.frame.groupby("generation")[metric].mean()
    ax.plot(m.index, m.to_numpy(), color=c, ls=ls, lw=1.6, label=label)
    return ax


def theory_line(ax, t: np.ndarray, values: np.ndarray, label: str = "theory", c="black", ls="--"):
    """Draw a closed form as a dashed line."""
    ax.plot(t, values, color=c, ls=ls, lw=1.3, label=label)
    return ax


def band_figure(history, metric: str, ylabel: str, theory: Callable[[np.ndarray], np.ndarray] | None = None):
    """One metric across generations: bands, the mean, and a theory curve for the mean."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    bands(ax, history, metric, label="median (bands: 50%, 90%)", c=color(0))
    mean_line(ax, history, metric, label="mean", c=color(1))
    if theory is not None:
        t = history.generations
        theory_line(ax, t, theory(t), label="theory (mean)")
    ax.set_xlabel("generation $t$")
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False)
    fig.tight_layout()
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
        ax.set_title(title, fontsize=10)
    return ax

