"""Tails and scaling (Dohmatob et al. 2024): ``memoriser``, a loop, and ``tails``, a sweep of it over T.

``memoriser``: Hutter's memoriser of K Zipf tokens (p_i proportional to i^-beta) in the loop.
Generation 1 trains on ``samples`` tokens of the web (``source``): real text (clean), the text of
an AI model that writes only the ``cut_rank`` most frequent tokens (cut), or that text with a
share ``clean_share`` of real tokens (mixed; see :mod:`autophagy.models.memoriser`). Later
generations train on the previous memoriser's output, as the mode says: a memoriser writes what it
counted, so its own finite sample cuts the tail, generation after generation. The web's tokens are
the loop's external data (``real_share`` counts them); the test is always on the real p.

``tails``: one generation of ``memoriser`` for every source and every T of a log grid from
``smallest`` to ``largest`` (one stage each, resumable). Its record has the columns ``source,
samples`` (T), then ``generation`` (1), ``replicate``, ``error`` and ``known``. With clean data the
error falls as T^-(1 - 1/beta); cut at rank k it stops at sum_{i>k} p_i; mixed, it falls again once
the real tokens reach the tail (:mod:`autophagy.theory` has the closed forms).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..engine.loop import LoopSpec
from ..models.categorical import zipf
from ..models.memoriser import SOURCES, Memoriser, TokenSource, source_distribution
from ..params import ParameterError, choice, integer, number
from .loops import loop_params
from .mitigation import sub_params
from .registry import Experiment, register
from .stages import Stage

COLUMNS = {
    "error": "test error: the real probability of the tokens never seen in training",
    "known": "tokens memorised (seen at least once in training)",
}
MAX_SYMBOLS = 10**6


def zipf_params(symbols: int, cut_rank: int) -> list:
    """The vocabulary and the web's sources, with their defaults and ranges."""
    return [
        integer("symbols", symbols, "vocabulary size K", low=2, high=MAX_SYMBOLS),
        number(
            "beta",
            2.0,
            "Zipf exponent: p_i proportional to i^-beta (above 1, as in Dohmatob et al.)",
            low=1,
            high=10,
            low_open=True,
        ),
        integer(
            "cut_rank",
            cut_rank,
            "the AI text (cut, mixed) holds only the cut_rank most frequent tokens",
            low=1,
            high=MAX_SYMBOLS,
        ),
        number(
            "clean_share", 0.02, "mixed: the share of real tokens mixed into the AI text", low=0, high=1, high_open=True
        ),
    ]


def check_zipf(params: dict[str, Any]) -> None:
    if params["cut_rank"] >= params["symbols"]:
        raise ParameterError(
            f"cut_rank={params['cut_rank']} must be below symbols={params['symbols']} "
            "(a cut at the last token cuts nothing)"
        )


def memory_bytes(params: dict[str, Any]) -> float:
    """Bytes held at once: a few (replicates, K) arrays (counts, their dense copy, frequencies)."""
    return 8.0 * 6 * params["replicates"] * params["symbols"]


# -- memoriser: the loop ---------------------------------------------------------------------


def build(params: dict[str, Any], progress: bool = False) -> LoopSpec:
    reps, p = params["replicates"], zipf(params["symbols"], params["beta"])
    q = source_distribution(p, params["source"], params["cut_rank"], params["clean_share"])
    web = TokenSource(reps, q, key=SOURCES.index(params["source"]))

    def metrics(model: Memoriser, step) -> dict[str, Any]:
        return {"error": model.error(p), "known": model.known()}

    return LoopSpec(make_model=lambda: Memoriser(reps, p), real=web.sample, metrics=metrics, truth=Memoriser(reps, p))


def loop_figures(history) -> dict[str, Any]:
    from .. import plotting

    return {"error": plotting.band_figure(history, "error", "test error (real mass never seen)")}


MEMORISER = register(
    Experiment(
        name="memoriser",
        summary="Hutter's memoriser of Zipf tokens trained on clean, tail-cut or mixed text, then on its own output",
        params=loop_params(generations=20, samples=10_000, replicates=300)
        + [
            choice(
                "source",
                "clean",
                "generation 1's tokens: real (clean), AI text cut at cut_rank (cut), or "
                "that text with a share clean_share of real tokens (mixed)",
                SOURCES,
            ),
            *zipf_params(symbols=10_000, cut_rank=10),
        ],
        columns=COLUMNS,
        profiles={
            "smoke": {"generations": 5, "samples": 1000, "replicates": 100, "symbols": 2000},
            "default": {"generations": 20, "samples": 10_000, "replicates": 300, "symbols": 10_000},
            "full": {"generations": 100, "samples": 100_000, "replicates": 1000, "symbols": 50_000},
        },
        build=build,
        figures=loop_figures,
        check=check_zipf,
        memory_bytes=memory_bytes,
    )
)


# -- tails: the sweep over T -----------------------------------------------------------------


def train_sizes(params: dict[str, Any]) -> np.ndarray:
    """The training-set sizes T: ``sizes`` points spaced evenly in log from ``smallest`` to
    ``largest``, rounded (duplicates once)."""
    grid = np.geomspace(params["smallest"], params["largest"], params["sizes"])
    return np.unique(np.round(grid).astype(np.int64))


def _trained(frame: pd.DataFrame) -> pd.DataFrame:
    """A stage's rows without the truth (generation 0) and without the loop's data counts (the
    size is the stage's label; the web's AI tokens are not real data)."""
    return frame.loc[frame["generation"] > 0, ["generation", "replicate", *COLUMNS]]


def stages(params: dict[str, Any]) -> list[Stage]:
    """One stage per T (smallest first) and source: a generation of ``memoriser`` on T tokens."""
    shared = {k: params[k] for k in ("replicates", "symbols", "beta", "cut_rank", "clean_share")}
    return [
        Stage(
            {"source": source, "samples": int(t)},
            "memoriser",
            sub_params("memoriser", {**shared, "generations": 1, "samples": int(t), "source": source}),
            reshape=_trained,
        )
        for t in train_sizes(params)
        for source in SOURCES
    ]


def check(params: dict[str, Any]) -> None:
    check_zipf(params)
    if params["smallest"] >= params["largest"]:
        raise ParameterError(f"smallest={params['smallest']} must be below largest={params['largest']}")
    stages(params)


def expected_error(params: dict[str, Any], source: str, sizes) -> np.ndarray:
    """The closed form sum_i p_i (1 - q_i)^T of ``source`` at each T of ``sizes``."""
    from .. import theory

    p = zipf(params["symbols"], params["beta"])
    q = source_distribution(p, source, params["cut_rank"], params["clean_share"])
    return theory.memoriser_error(sizes, p, q)


def loglog_slope(sizes, values) -> float:
    """The least-squares slope of log(values) on log(sizes)."""
    x, y = np.log(np.asarray(sizes, dtype=float)), np.log(np.asarray(values, dtype=float))
    return float(np.polyfit(x, y, 1)[0])


def mean_slope(history, source: str, smallest: int) -> tuple[float, float, int]:
    """The least-squares slope of log(mean error) on log T for ``source`` over the sizes from
    ``smallest`` on, its standard error (delta method: each size is an independent run, see
    :class:`~autophagy.models.memoriser.TokenSource`) and the fewest replicates at a size."""
    rows = history.frame[(history.frame["source"] == source) & (history.frame["samples"] >= smallest)]
    stats = rows.groupby("samples")["error"].agg(["mean", "sem", "count"])
    x = np.log(stats.index.to_numpy(dtype=float))
    weights = (x - x.mean()) / ((x - x.mean()) ** 2).sum()
    se = float(np.sqrt(np.sum((weights * stats["sem"] / stats["mean"]) ** 2)))
    return loglog_slope(stats.index, stats["mean"]), se, int(stats["count"].min())


def scaling_figure(history):
    """Left: the mean error of each source against T (log-log, 95% intervals), with the closed
    forms dashed and the plateau sum_{i>k} p_i dotted. Right: the local log-log slope between
    neighbouring sizes, measured and closed-form, and the clean law's -(1 - 1/beta)."""
    from scipy import stats

    from .. import plotting, theory

    params = history.params
    fig, (ax, slope_ax) = plotting.figure(ncols=2, height=3.0)
    sizes = np.sort(history.frame["samples"].unique()).astype(float)
    fine = np.geomspace(sizes[0], sizes[-1], 200)
    for i, source in enumerate(SOURCES):
        cell = history.frame[history.frame["source"] == source].groupby("samples")["error"]
        mean = cell.mean().to_numpy()
        half = stats.t.ppf(0.975, np.maximum(cell.count() - 1, 1)) * cell.sem().fillna(0).to_numpy()
        closed = expected_error(params, source, fine)
        colour = plotting.color(i)
        ax.fill_between(sizes, mean - half, mean + half, color=colour, alpha=0.25, lw=0)
        ax.plot(sizes, mean, color=colour, marker="o", ms=3, lw=1.6, label=source)
        plotting.theory_line(ax, fine, closed, label="_closed form", c=colour)
        slope_ax.plot(
            np.sqrt(sizes[1:] * sizes[:-1]),
            np.diff(np.log(mean)) / np.diff(np.log(sizes)),
            color=colour,
            marker="o",
            ms=3,
        )
        plotting.theory_line(
            slope_ax,
            np.sqrt(fine[1:] * fine[:-1]),
            np.diff(np.log(closed)) / np.diff(np.log(fine)),
            label="_closed form",
            c=colour,
        )
    ax.plot([], [], color="grey", ls="--", lw=1.3, label="closed form")
    p = zipf(params["symbols"], params["beta"])
    ax.axhline(
        theory.tail_plateau(p, params["cut_rank"]),
        color="grey",
        ls=":",
        lw=1.2,
        label=f"plateau: the mass past rank k = {params['cut_rank']}",
    )
    slope_ax.axhline(
        -theory.clean_scaling_exponent(params["beta"]),
        color="grey",
        ls="-.",
        lw=1.2,
        label=r"clean law $-(1 - 1/\beta)$",
    )
    ax.set(xscale="log", yscale="log", xlabel="training tokens $T$", ylabel="test error")
    slope_ax.set(xscale="log", xlabel="training tokens $T$", ylabel="local log-log slope")
    plotting.legend(fig)
    return fig


def figures(history) -> dict[str, Any]:
    return {"scaling": scaling_figure(history)}


TAILS = register(
    Experiment(
        name="tails",
        summary="memorisers of Zipf tokens trained on T clean, tail-cut or mixed tokens: the scaling law bends "
        "(Dohmatob et al.)",
        params=[
            integer("smallest", 10, "the smallest training set T", low=2, high=10**8),
            integer("largest", 10**6, "the largest training set T", low=3, high=10**8),
            integer("sizes", 11, "training-set sizes, spaced evenly in log from smallest to largest", low=2, high=100),
            integer("replicates", 300, "independent memorisers per source and size", low=1, high=10**6),
            *zipf_params(symbols=10_000, cut_rank=10),
        ],
        columns={"source": "the training tokens: clean, cut or mixed", "samples": "the training-set size T", **COLUMNS},
        profiles={
            "smoke": {"largest": 10**5, "sizes": 6, "replicates": 100, "symbols": 2000},
            "default": {},
            "full": {"largest": 10**7, "sizes": 15, "replicates": 1000, "symbols": 50_000},
        },
        stages=stages,
        figures=figures,
        check=check,
        memory_bytes=memory_bytes,
        stage_columns=("source", "samples"),
        loop_keys=False,
    )
)
