"""A sweep's figures: the last generation's metrics against each grid key, heatmaps for two keys."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import plotting

MAX_METRICS = 4  # panels per figure


def _cell_means(result, keys: list[str], metric: str):
    """Per grid point (``keys``) and seed, the mean of ``metric`` at the last generation."""
    return result.final().groupby([*keys, "seed"])[metric].mean()


def line_figure(result, key: str) -> Any:
    """Each metric's last-generation mean against ``key`` (averaged over the other keys), with
    the standard error over seeds as error bars."""
    metrics = result.metrics[:MAX_METRICS]
    fig, axes = plotting.panels(len(metrics))
    for ax, metric in zip(axes, metrics):
        per_seed = _cell_means(result, [key], metric).groupby([key, "seed"]).mean()
        stats = per_seed.groupby(key).agg(["mean", "std", "count"])
        se = stats["std"].fillna(0) / np.sqrt(stats["count"])
        order = list(result.spec.grid[key])
        stats, se = (
            stats.reindex([v for v in order if v in stats.index]),
            se.reindex([v for v in order if v in se.index]),
        )
        numeric = all(isinstance(v, (int, float)) for v in stats.index)
        x = stats.index.to_numpy(dtype=float) if numeric else np.arange(len(stats))
        ax.errorbar(x, stats["mean"], yerr=se, marker="o", color=plotting.color(0), capsize=3)
        if numeric:
            plotting.knob_axis(ax, x, key)
        else:
            ax.set_xticks(x, [str(v) for v in stats.index])
            ax.set_xlabel(key)
        ax.set_title(f"{metric} (last generation)")
    return fig


def heatmap_figure(result, rows: str, cols: str) -> Any:
    """Each metric's last-generation mean over the grid of two keys."""
    import seaborn as sns

    metrics = result.metrics[:MAX_METRICS]
    fig, axes = plotting.panels(len(metrics), height=3.0)
    for ax, metric in zip(axes, metrics):
        table = _cell_means(result, [rows, cols], metric).groupby([rows, cols]).mean().unstack(cols)
        table = table.reindex(
            index=[v for v in result.spec.grid[rows] if v in table.index],
            columns=[v for v in result.spec.grid[cols] if v in table.columns],
        )
        sns.heatmap(table, ax=ax, annot=table.size <= 36, fmt=".3g", cmap="viridis", cbar=True)
        ax.set_title(f"{metric} (last generation)")
    return fig


def figures(result) -> dict[str, Any]:
    """``{name: figure}``: ``by-KEY`` for each grid key (with two or more values), and
    ``heatmap`` when the grid has exactly two keys."""
    if result.frame.empty or not result.metrics:
        return {}
    keys = [k for k, values in result.spec.grid.items() if len(values) > 1]
    out = {f"by-{key}": line_figure(result, key) for key in keys}
    if len(result.spec.grid) == 2 and len(keys) == 2:
        out["heatmap"] = heatmap_figure(result, *result.spec.grid)
    return out
