"""``regression``: linear regression refitted on its own labels over a fixed design (Gerstgrasser et al.).

Columns of ``metrics.parquet`` (besides ``generation, replicate, train_size, real_share, real_drawn``):

- ``test_error``: ||w_t - w*||^2, the excess test error under isotropic features.

Generation 0 is the truth w* (test_error 0); generation 1 is fitted on T real rows with
labels x . w* + noise. Later generations label the same design (the real features of
generation 1) with the previous model's predictions plus fresh noise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine.loop import LoopSpec
from ..models.linreg import LinearRegression
from ..params import ParameterError, integer, number
from .loops import loop_params, training_sets_held
from .registry import Experiment, register

COLUMNS = {"test_error": "||w_t - w*||^2: excess test error under isotropic features"}


def build(params: dict[str, Any], progress: bool = False) -> LoopSpec:
    reps, d, noise = params["replicates"], params["features"], params["noise"]
    w_star = np.full(d, 1 / np.sqrt(d))
    truth = LinearRegression(reps, w_star, noise)

    def real(n: int, rng) -> np.ndarray:
        return truth.label(rng.standard_normal((reps, n, d)), rng)

    def metrics(model: LinearRegression, step) -> dict[str, Any]:
        return {"test_error": ((model.w - w_star) ** 2).sum(axis=1)}

    return LoopSpec(make_model=lambda: LinearRegression(reps, w_star, noise), real=real, metrics=metrics, truth=truth)


def check(params: dict[str, Any]) -> None:
    d, rows = params["features"], params["samples"]
    if rows < d + 2:
        raise ParameterError(f"samples={rows} must be at least features + 2 = {d + 2} (least squares needs T > d + 1)")


def memory_bytes(params: dict[str, Any]) -> float:
    """Bytes of data held at once (the pool in the accumulate modes)."""
    return 8.0 * 2 * params["replicates"] * params["samples"] * (params["features"] + 1) * training_sets_held(params)


def figures(history) -> dict[str, Any]:
    from .. import plotting, theory

    params = history.params
    args = (params["features"], params["samples"], params["noise"])
    curve = {
        "replace": lambda t: theory.regression_error_replace(t, *args),
        "accumulate": lambda t: theory.regression_error_accumulate(t, *args),
    }.get(params["mode"])
    return {"test_error": plotting.band_figure(history, "test_error", "test error $\\|w_t - w^*\\|^2$", theory=curve)}


REGRESSION = register(
    Experiment(
        name="regression",
        summary="least squares refitted on its own labels, fixed design (Gerstgrasser et al.; Kazdan et al.)",
        params=loop_params(generations=100, samples=100, replicates=1000)
        + [
            integer("features", 10, "number of features d", low=1, high=10_000),
            number("noise", 1.0, "label noise standard deviation sigma", low=0, high=1e6, low_open=True),
        ],
        columns=COLUMNS,
        profiles={
            "smoke": {"generations": 20, "samples": 100, "replicates": 200},
            "default": {"generations": 100, "samples": 100, "replicates": 1000},
            "full": {"generations": 1000, "samples": 100, "replicates": 10_000},
        },
        build=build,
        figures=figures,
        check=check,
        memory_bytes=memory_bytes,
    )
)
