"""How much fresh real data is enough: the threshold alpha*(n), with its uncertainty, from a sweep.

A sweep of a loop in ``fresh`` mode over real fractions alpha (1, training on real data only,
among them) and sample sizes n gives, at its last generation T, the *retention*

    R(alpha, n) = mean metric at alpha / mean metric at alpha = 1,

the share of the real-only baseline that the loop keeps (metric: a Gaussian's variance, a
categorical's surviving symbols). The threshold alpha*(n) is the smallest alpha from which on
R stays at or above 1 - ``tolerance``: between the grid's alphas R is interpolated in log alpha
by a monotone cubic (PCHIP). Its 95% interval comes from a bootstrap over the independent
loops (the replicates of every seed). For the Gaussian, the expected
variance of the fresh loop has a closed form (:func:`autophagy.theory.fresh_moments`), so the
exact threshold, :func:`gaussian_threshold`, can be held against the measured one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

ALPHA, SIZE = "real_fraction", "samples"


@dataclass(frozen=True)
class Threshold:
    """alpha*(n) per sample size: ``table`` (index n; columns alpha_star, low, high, se, loops,
    censored: the share of bootstrap draws below the grid) and the retention R(alpha, n) at
    the grid's alphas (``retention``: n x alpha; alpha* is read at the realised fractions)."""

    table: pd.DataFrame
    retention: pd.DataFrame
    metric: str
    tolerance: float
    generation: int


def crossing(alphas, retention, level: float) -> float:
    """The smallest alpha from which on the retention (given at ``alphas``, ascending, the last
    1) stays >= ``level``, interpolated by PCHIP in log alpha; NaN when it holds already at the
    smallest alpha (the threshold is below the grid)."""
    from scipy.interpolate import PchipInterpolator
    from scipy.optimize import brentq

    alphas, retention = np.asarray(alphas, dtype=float), np.asarray(retention, dtype=float)
    below = np.flatnonzero(retention < level)
    if not len(below):
        return math.nan
    i = below[-1]  # the last grid point that falls short
    if i == len(alphas) - 1:
        return 1.0
    x = np.log(alphas)
    curve = PchipInterpolator(x, retention - level)
    return float(np.exp(brentq(curve, x[i], x[i + 1])))


LOOP = ["seed", "replicate"]  # what names one independent loop


def fresh_grid(
    experiment: str,
    alphas,
    sizes,
    generations: int,
    replicates: int,
    seed: int = 0,
    profile: str = "default",
    **settings,
) -> pd.DataFrame:
    """The last generation of ``experiment`` in ``fresh`` mode at every (alpha, n) of the grid,
    run here, in memory, by the grid runner (:mod:`autophagy.runs.grid`): the rows
    :meth:`autophagy.sweeps.SweepResult.final` gives for the sweep ``--grid real_fraction=...
    --grid samples=...`` with one seed, without writing the run directories (whose records of
    every generation would cost more than the toy loops)."""
    from .runs.grid import make_cell, run_grid
    from .runs.runner import run_cell

    points = [(n, alpha) for n in sizes for alpha in alphas]
    fixed = {"mode": "fresh", "generations": generations, "replicates": replicates, **settings}
    cells = [
        make_cell(f"{i:04d}", experiment, profile, seed, {**fixed, ALPHA: alpha, SIZE: n})
        for i, (n, alpha) in enumerate(points)
    ]
    frames = []
    for index, records in run_grid(cells, run_cell, progress=False):
        n, alpha = points[index]
        final = records[records["generation"] == generations]
        frames.append(final.assign(**{ALPHA: alpha, SIZE: n, "seed": seed}))
    return pd.concat(frames, ignore_index=True)


def estimate(final: pd.DataFrame, metric: str, tolerance: float = 0.05, resamples: int = 1000) -> Threshold:
    """alpha*(n) for every n of ``final`` (the last generation's rows of a fresh-mode grid over
    ``real_fraction``, with 1 among its values, and ``samples``: :func:`fresh_grid`, or a
    sweep's ``final()``), with a percentile bootstrap interval over the independent loops
    (every replicate of every seed, resampled together across the grid's alphas, since a seed's
    runs share their first generation). The bootstrap is seeded: the same interval every build."""
    missing = {ALPHA, SIZE, metric, *LOOP} - set(final.columns)
    if missing:
        raise ValueError(f"the records lack the columns {sorted(missing)}")
    if not np.isclose(final[ALPHA], 1.0).any():
        raise ValueError(f"the grid must hold {ALPHA} = 1, the real-only baseline")
    level, rng = 1 - tolerance, np.random.default_rng(0)
    rows, retention = {}, {}
    for n, block in final.groupby(SIZE):
        values = block.pivot_table(index=ALPHA, columns=LOOP, values=metric).sort_index().dropna(axis=1)
        retention[n] = values.mean(axis=1) / values.iloc[-1].mean()  # on the grid's alphas, for the map
        # the loop draws round(alpha n) real samples: grid alphas that round alike are one point
        values = values.groupby([realised(a, n) for a in values.index]).first()
        alphas, values = values.index.to_numpy(float), values.to_numpy(float)  # realised alpha x loop
        loops = values.shape[1]
        ratio = values.mean(axis=1) / values[-1].mean()
        picks = rng.integers(0, loops, size=(resamples, loops))
        boot = np.array([crossing(alphas, values[:, p].mean(axis=1) / values[-1, p].mean(), level) for p in picks])
        censored = np.isnan(boot)
        boot = np.where(censored, alphas[0], boot)  # below the grid: bounded by its smallest alpha
        rows[n] = {
            "alpha_star": crossing(alphas, ratio, level),
            "low": np.quantile(boot, 0.025),
            "high": np.quantile(boot, 0.975),
            "se": boot.std(ddof=1),
            "loops": loops,
            "censored": censored.mean(),
        }
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis(SIZE)
    return Threshold(
        table,
        pd.DataFrame(retention).T.rename_axis(index=SIZE, columns=ALPHA),
        metric,
        tolerance,
        int(final["generation"].max()),
    )


def realised(alpha: float, n: int) -> float:
    """The real fraction a fresh loop of ``n`` samples realises for ``alpha``."""
    from .engine.loop import fresh_real_count

    return fresh_real_count(alpha, int(n)) / int(n)


def gaussian_retention(alphas, n: int, generation: int) -> np.ndarray:
    """The exact R(alpha, n) of the Gaussian's variance (MLE) at ``generation``."""
    from .theory import fresh_moments

    baseline = fresh_moments([generation], n, 1.0)[0][0]
    return np.array([fresh_moments([generation], n, a)[0][0] / baseline for a in np.atleast_1d(alphas)])


def gaussian_threshold(n: int, generation: int, tolerance: float = 0.05, alphas=None) -> float:
    """The exact alpha*(n) of the Gaussian's variance: the root of R = 1 - tolerance, or, given
    the sweep's ``alphas``, what :func:`crossing` reads from the exact R at those alphas (the
    measured threshold's target: the realised fractions, and the same interpolation between them)."""
    from scipy.optimize import brentq

    level = 1 - tolerance
    if alphas is not None:
        points = sorted({realised(a, n) for a in alphas})
        return crossing(points, gaussian_retention(points, n, generation), level)
    lowest = 1e-6
    if gaussian_retention(lowest, n, generation)[0] >= level:
        return math.nan
    return float(brentq(lambda a: gaussian_retention(a, n, generation)[0] - level, lowest, 1.0))


def phase_diagram(threshold: Threshold, ax, exact=None, label: str = r"measured $\alpha^*$ (95% interval)"):
    """Draw R(alpha, n) as a map over (n, alpha), both log-scaled, coloured on one scale from 0
    to 1 (so two maps share a colour bar), with alpha*(n) and its 95% interval on top, and
    ``exact`` (a function n -> alpha*) as a line when given. Returns the colour mesh."""
    ret = threshold.retention
    sizes, alphas = ret.index.to_numpy(float), ret.columns.to_numpy(float)
    mesh = ax.pcolormesh(
        _edges(sizes), _edges(alphas), ret.to_numpy().T, cmap="viridis", shading="flat", vmin=0.0, vmax=1.0
    )
    t = threshold.table
    found = t[np.isfinite(t["alpha_star"])]
    ax.vlines(found.index, found["low"], found["high"], color="white", lw=1.5)
    ax.plot(found.index, found["alpha_star"], "o", color="white", mec="black", label=label)
    if exact is not None:
        fine = np.geomspace(sizes.min(), sizes.max(), 200)
        ax.plot(fine, [exact(n) for n in fine], color="#E69F00", lw=2, label=r"exact $\alpha^*$")
    ax.set(xscale="log", yscale="log", xlabel="samples per generation $n$", ylabel=r"real fraction $\alpha$")
    return mesh


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges on a log axis around ``values`` (ascending): geometric midpoints."""
    logs = np.log(values)
    mids = (logs[1:] + logs[:-1]) / 2
    return np.exp(np.concatenate([[2 * logs[0] - mids[0]], mids, [2 * logs[-1] - mids[-1]]]))
