"""The book's picture of the self-consuming loop and of what each loop mode trains on.

The mode panels are not drawn from a description: :func:`compositions` runs the package's
own loop (:func:`autophagy.engine.loop.run_loop`) with a model whose samples are labelled by the
generation that made them, so the picture shows what the code does, and a mode added to
``autophagy.engine.modes.MODES`` appears in :func:`loop_diagram` without a change here.
"""

from __future__ import annotations

import math
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.colors import to_rgba
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from .. import plotting
from ..engine.loop import LoopSettings, LoopSpec, run_loop
from ..engine.modes import MODES


class _Labeller:
    """A model whose samples are the number of the generation that drew them (real data: 0).

    ``seen`` collects, for each fit, how many samples of each origin the training set held.
    """

    batched = False

    def __init__(self, generations: int):
        self.generations = generations
        self.generation = 0
        self.seen: list[np.ndarray] = []

    def fit(self, data, step) -> None:
        self.generation = step.generation
        self.seen.append(np.bincount(np.asarray(data, dtype=int), minlength=self.generations))

    def sample(self, n: int, rng) -> np.ndarray:
        return np.full(n, self.generation, dtype=int)

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"generation": np.array(self.generation)}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        self.generation = int(state["generation"])


def compositions(mode: str, generations: int = 4, samples: int = 1000, seed: int = 0, **settings) -> np.ndarray:
    """What the training set of each generation is made of, under ``mode``.

    Returns an integer array shaped (generations, generations): row ``t - 1`` counts the
    samples in the training set of generation ``t`` by origin (column 0: real data; column
    k: samples of the model of generation k). ``settings`` go to
    :class:`autophagy.engine.loop.LoopSettings` (e.g. ``real_fraction``, ``synthetic_ratio``).
    """
    model = _Labeller(generations)
    spec = LoopSpec(
        make_model=lambda: model, real=lambda n, rng: np.zeros(n, dtype=int), metrics=lambda m, rng: {}, truth=None
    )
    run_loop(spec, LoopSettings(generations, samples, mode=mode, seed=seed, **settings), progress=False)
    return np.array(model.seen)


def _box(ax, xy, text, color, width=0.17, height=0.46):
    x, y = xy
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0.012,rounding_size=0.03",
            fc=to_rgba(color, 0.18),
            ec=color,
            lw=1.6,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=plotting.MIN_FONT, linespacing=1.3)


def _arrow(ax, start, end, rad=0.0):
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            connectionstyle=f"arc3,rad={rad}",
            arrowstyle="-|>",
            mutation_scale=14,
            lw=1.4,
            color="0.25",
            shrinkA=3,
            shrinkB=3,
        )
    )


def _note(ax, xy, text) -> None:
    ax.text(*xy, text, ha="center", va="center", fontsize=plotting.MIN_FONT, color="0.2", style="italic")


def draw_loop(ax) -> None:
    """The self-consuming loop on ``ax``, left to right: real data starts it, the model's
    samples feed it back."""
    y, half, low = 0.55, 0.085, 0.32
    xs = (0.085, 0.365, 0.635, 0.915)
    _box(ax, (xs[0], y), "real data\n(human-\nmade)", plotting.color(0))
    _box(ax, (xs[1], y), "training\nset of\ngeneration $t$", (0.45, 0.45, 0.45))
    _box(ax, (xs[2], y), "generative\nmodel of\ngeneration $t$", plotting.color(2))
    _box(ax, (xs[3], y), "synthetic\nsamples of\ngeneration $t$", plotting.color(1))
    notes = ["all of it at $t = 1$;\nsome later, by mode", "fit", "sample"]
    for left, right, text in zip(xs, xs[1:], notes):
        _arrow(ax, (left + half, y), (right - half, y))
        _note(ax, ((left + right) / 2, y + (0.36 if "\n" in text else 0.1)), text)  # long: above the boxes
    _arrow(ax, (xs[3], low), (xs[1], low), rad=-0.12)
    _note(ax, ((xs[1] + xs[3]) / 2, 0.08), "select, filter, mix: the next training set")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_axis_off()


def _origin_colors(generations: int) -> list:
    """Real data in the palette's first colour, each synthetic generation a darker orange."""
    synthetic = sns.color_palette("Oranges", generations + 1)[2:] if generations > 1 else []
    return [plotting.color(0)] + list(synthetic)[: generations - 1]


def draw_mode(ax, mode: str, counts: np.ndarray, samples: int, colors: list) -> None:
    """One mode's training sets as stacked bars (one row per generation, length in units of n)."""
    rows = np.arange(1, len(counts) + 1)
    left = np.zeros(len(counts))
    for origin in range(counts.shape[1]):
        width = counts[:, origin] / samples
        ax.barh(rows, width, left=left, height=0.72, color=colors[origin], ec="white", lw=0.6)
        left += width
    ax.set_yticks(rows, [f"gen {t}" for t in rows])
    ax.set_ylim(rows[-1] + 0.6, 0.4)
    ax.grid(False, axis="y")
    ax.set_xlabel("size / $n$", labelpad=1)
    ax.set_title(mode, loc="left", family="monospace")
    ax.text(
        0.0,
        -0.3,
        textwrap.fill(MODES[mode].description, 26),
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=plotting.MIN_FONT,
        color="0.25",
    )


def loop_diagram(generations: int = 4, samples: int = 1000, seed: int = 0, **settings) -> plt.Figure:
    """The loop (top) and, for every mode of ``autophagy.engine.modes.MODES``, the training sets
    of generations 1 to ``generations`` coloured by origin (below, three to a row; bar length in
    multiples of ``samples``), column-wide. ``settings`` go to
    :class:`autophagy.engine.loop.LoopSettings`. Call :func:`autophagy.plotting.theme` first for
    the book's style."""
    modes = list(MODES)
    panels = len(modes) + 1  # the last panel holds the legend
    cols = 3
    rows = math.ceil(panels / cols)
    loop_height, row_height = 1.9, 2.5
    fig = plt.figure(figsize=(plotting.WIDTH, loop_height + row_height * rows + 0.6))
    outer = fig.add_gridspec(
        2, 1, height_ratios=[loop_height, row_height * rows], hspace=0.12, left=0.1, right=0.98, top=0.94, bottom=0.08
    )
    draw_loop(fig.add_subplot(outer[0]))
    grid = outer[1].subgridspec(rows, cols, hspace=1.1, wspace=0.5)
    colors = _origin_colors(generations)
    axes = [fig.add_subplot(grid[i // cols, i % cols]) for i in range(panels)]
    for ax in axes[1:-1]:
        ax.sharex(axes[0])
    for ax, mode in zip(axes, modes):
        draw_mode(ax, mode, compositions(mode, generations, samples, seed, **settings), samples, colors)
    for ax in axes[len(modes) :]:
        ax.set_axis_off()
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colors]
    labels = ["real data"] + [f"model {k}'s samples" for k in range(1, generations)]
    axes[-1].legend(
        handles,
        labels,
        loc="center",
        frameon=False,
        title=f"training set of\ngeneration $t$;\n$n$ = {samples} samples",
    )
    fig.suptitle("AI autophagy: the loop, and what each mode feeds the next model", fontweight="bold")
    return fig
