"""``logistic``: logistic regression refitted on its own labels over the breast-cancer design (Dey & Donoho).

Columns of ``metrics.parquet`` (besides ``generation, replicate, train_size, real_share, real_drawn``):

- ``fisher_error``: (theta_t - theta*)' N I(theta*) (theta_t - theta*), the parameter error in
  the Fisher metric of one generation's N rows (to first order k = 1 + features after one
  generation, whatever the data).
- ``accuracy``: the share of the 569 real diagnoses the model predicts.
- ``slope_norm``: the length of theta_t without its intercept (how sure the model is).

The truth theta* is the maximum-likelihood fit to the real diagnoses. Generation 0 is the
truth; generation 1 is fitted on N rows of the design labelled by the truth (whole copies of
the design, then a random part of it); later generations label rows with the previous model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import breast_cancer
from ..engine.loop import LoopSpec
from ..models.logistic import LogisticRegression, fit_counts, sigmoid
from ..params import integer
from .loops import loop_params, training_sets_held
from .registry import Experiment, register

COLUMNS = {
    "fisher_error": "(theta_t - theta*)' N I(theta*) (theta_t - theta*): "
    "parameter error in the Fisher metric of N rows",
    "accuracy": "share of the 569 real diagnoses predicted",
    "slope_norm": "length of theta_t without its intercept",
}


def truth(features: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The design, the real diagnoses and theta*, their maximum-likelihood fit."""
    design, diagnoses = breast_cancer.design(features)
    theta = fit_counts(design, diagnoses[None], np.ones((1, len(diagnoses))), np.zeros((1, design.shape[1])))[0]
    return design, diagnoses, theta


def build(params: dict[str, Any], progress: bool = False) -> LoopSpec:
    reps, rows = params["replicates"], params["samples"]
    design, diagnoses, theta_star = truth(params["features"])
    p = sigmoid(design @ theta_star)
    fisher = rows / len(design) * (design * (p * (1 - p))[:, None]).T @ design  # N rows' information
    real_model = LogisticRegression(reps, theta_star, design)

    def metrics(model: LogisticRegression, step) -> dict[str, Any]:
        gap = model.theta - theta_star
        predicted = (model.theta @ design.T) > 0
        return {
            "fisher_error": np.einsum("ri,ij,rj->r", gap, fisher, gap),
            "accuracy": (predicted == (diagnoses > 0.5)).mean(axis=1),
            "slope_norm": np.linalg.norm(model.theta[:, 1:], axis=1),
        }

    return LoopSpec(
        make_model=lambda: LogisticRegression(reps, theta_star, design),
        real=real_model.sample,
        metrics=metrics,
        truth=real_model,
    )


def memory_bytes(params: dict[str, Any]) -> float:
    """Bytes of data held at once (the pool in the accumulate modes), labels and row indices."""
    return 4.0 * 2 * 2 * params["replicates"] * params["samples"] * training_sets_held(params)


def figures(history) -> dict[str, Any]:
    from .. import plotting, theory

    params = history.params
    k = 1 + params["features"]
    curve = {
        "replace": lambda t: theory.logistic_error_replace(t, k),
        "accumulate": lambda t: theory.logistic_error_accumulate(t, k),
    }.get(params["mode"])
    return {
        "fisher_error": plotting.band_figure(history, "fisher_error", "parameter error (Fisher metric)", theory=curve)
    }


LOGISTIC = register(
    Experiment(
        name="logistic",
        summary="logistic regression refitted on its own labels, breast-cancer design (Dey & Donoho)",
        params=loop_params(generations=20, samples=1138, replicates=1000)
        + [
            integer(
                "features",
                3,
                "measurements of the breast-cancer data used (texture, smoothness, symmetry, "
                "fractal dimension: the first FEATURES)",
                low=1,
                high=len(breast_cancer.MEASUREMENTS),
            ),
        ],
        columns=COLUMNS,
        profiles={
            "smoke": {"generations": 5, "replicates": 300},
            "default": {"generations": 20, "replicates": 1000},
            "full": {"generations": 100, "replicates": 4000},
        },
        build=build,
        figures=figures,
        memory_bytes=memory_bytes,
    )
)
