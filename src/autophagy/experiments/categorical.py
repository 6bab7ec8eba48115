"""``categorical``: K symbols with Zipf probabilities, refitted by frequencies (tails vanish first).

Columns of ``metrics.parquet`` (besides ``generation, replicate, train_size, real_share, real_drawn``):

- ``surviving``: symbols with a non-zero fitted probability;
- ``tail_mass``: fitted probability of the symbols ranked beyond ``tail_rank`` in the truth;
- ``gini_simpson``: 1 - sum_k p_k^2, the chance that two draws differ.

Generation 0 is the truth (Zipf: p_k proportional to k^-zipf, k = 1..symbols).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import modes
from ..engine.loop import LoopSpec
from ..models.categorical import Categorical, zipf
from ..params import Derived, ParameterError, integer, number
from .loops import loop_params
from .registry import Experiment, register

COLUMNS = {
    "surviving": "symbols with a non-zero fitted probability",
    "tail_mass": "fitted probability of the symbols ranked beyond tail_rank in the truth",
    "gini_simpson": "Gini-Simpson index 1 - sum_k p_k^2 (chance that two draws differ)",
}


def build(params: dict[str, Any], progress: bool = False) -> LoopSpec:
    reps, p = params["replicates"], zipf(params["symbols"], params["zipf"])
    truth = Categorical(reps, p)

    def metrics(model: Categorical, step) -> dict[str, Any]:
        return {
            "surviving": model.surviving(),
            "tail_mass": model.tail_mass(params["tail_rank"]),
            "gini_simpson": model.gini_simpson(),
        }

    return LoopSpec(make_model=lambda: Categorical(reps, p), real=truth.sample, metrics=metrics, truth=truth)


def time_to_one_symbol(history) -> np.ndarray:
    """Per replicate, the first generation with a single surviving symbol (NaN if never reached)."""
    wide = history.wide("surviving")
    done = wide.to_numpy() <= 1
    first = wide.index.to_numpy()[done.argmax(axis=0)].astype(float)
    return np.where(done.any(axis=0), first, np.nan)


def check(params: dict[str, Any]) -> None:
    if params["tail_rank"] >= params["symbols"]:
        raise ParameterError(f"tail_rank={params['tail_rank']} must be below symbols={params['symbols']}")


def memory_bytes(params: dict[str, Any]) -> float:
    """Bytes of counts and probabilities held at once (a few (replicates, K) arrays)."""
    return 8.0 * 6 * params["replicates"] * params["symbols"]


def figures(history) -> dict[str, Any]:
    from .. import plotting, theory

    params = history.params
    gini = None
    if modes.get(params["mode"]).fully_synthetic:
        h0 = float(theory.gini_simpson(zipf(params["symbols"], params["zipf"])))
        gini = lambda t: theory.expected_gini_simpson(t, params["samples"], h0)  # noqa: E731
    return {
        "surviving": plotting.band_figure(history, "surviving", "surviving symbols"),
        "tail_mass": plotting.band_figure(history, "tail_mass", f"mass beyond rank {params['tail_rank']}"),
        "gini_simpson": plotting.band_figure(history, "gini_simpson", "Gini-Simpson index", theory=gini),
    }


CATEGORICAL = register(
    Experiment(
        name="categorical",
        summary="Zipf-distributed symbols refitted by frequencies: the tails vanish first (Shumailov et al.)",
        params=loop_params(generations=1000, samples=1000, replicates=1000)
        + [
            integer("symbols", 1000, "number of symbols K", low=2, high=10**6),
            number("zipf", 1.0, "Zipf exponent s: p_k proportional to k^-s", low=0, high=10),
            integer(
                "tail_rank",
                Derived("symbols//10", lambda params: max(1, params["symbols"] // 10)),
                "tail_mass counts the symbols ranked beyond this (by default a tenth of them, at least 1)",
                low=1,
                high=10**6,
            ),
        ],
        columns=COLUMNS,
        profiles={
            "smoke": {"generations": 100, "samples": 100, "replicates": 200, "symbols": 100},
            "default": {"generations": 1000, "samples": 1000, "replicates": 1000, "symbols": 1000},
            "full": {"generations": 10_000, "samples": 1000, "replicates": 1000, "symbols": 1000},
        },
        build=build,
        figures=figures,
        check=check,
        memory_bytes=memory_bytes,
    )
)
