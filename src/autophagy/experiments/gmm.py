"""``gmm``: a one-dimensional Gaussian mixture refitted by EM on its own samples (Shumailov et al.).

Columns of ``metrics.parquet`` (besides ``generation, replicate, train_size, real_share, real_drawn``):

- ``w2``: 2-Wasserstein distance of the fitted mixture to the truth (data units);
- ``std_k``, ``weight_k`` for k = 1..components: each component's standard deviation and
  weight, components sorted by mean.

Generation 0 is the truth: equal weights, unit standard deviations, means spaced
``separation`` apart and centred on 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine.loop import LoopSpec
from ..metrics.distribution import w2_mixture
from ..models.gmm import GMM
from ..params import integer, number
from .loops import loop_params, training_sets_held
from .registry import Experiment, register

COLUMNS = {
    "w2": "2-Wasserstein distance of the fitted mixture to the truth",
    "std_k": "standard deviation of component k = 1..components (sorted by mean)",
    "weight_k": "weight of component k = 1..components (sorted by mean)",
}


def true_parameters(components: int, separation: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(weights, means, stds) of the truth: equal weights, unit stds, means ``separation`` apart."""
    means = separation * (np.arange(components) - (components - 1) / 2)
    return np.full(components, 1 / components), means, np.ones(components)


def build(params: dict[str, Any], progress: bool = False) -> LoopSpec:
    weights, means, stds = true_parameters(params["components"], params["separation"])
    truth = GMM(weights, means, stds)

    def metrics(model: GMM, step) -> dict[str, Any]:
        out = {"w2": w2_mixture(model.weights, model.means, model.stds, weights, means, stds)}
        for k in range(model.means.size):
            out[f"std_{k + 1}"] = model.stds[k]
            out[f"weight_{k + 1}"] = model.weights[k]
        return out

    return LoopSpec(
        make_model=lambda: GMM(weights, means, stds, params["max_iter"]),
        real=truth.sample,
        metrics=metrics,
        truth=truth,
    )


def memory_bytes(params: dict[str, Any]) -> float:
    """Bytes of samples held at once (the pool in the accumulate modes)."""
    return 8.0 * 2 * params["replicates"] * params["samples"] * training_sets_held(params)


def figures(history) -> dict[str, Any]:
    from .. import plotting

    components = history.params["components"]
    fig, ax = plotting.figure(height=3.0)
    for k in range(components):
        plotting.bands(ax, history, f"std_{k + 1}", label=f"component {k + 1}", c=plotting.color(k))
    ax.set_yscale("log")
    plotting.generation_axis(ax)
    ax.set_ylabel("component standard deviation")
    ax.legend()
    return {"w2": plotting.band_figure(history, "w2", "$W_2$ to the truth"), "stds": fig}


GMM_EXPERIMENT = register(
    Experiment(
        name="gmm",
        summary="a 1-D Gaussian mixture refitted by EM on its own samples: components narrow and drift",
        params=loop_params(generations=200, samples=1000, replicates=8)
        + [
            integer("components", 2, "number of mixture components", low=1, high=20),
            number("separation", 4.0, "distance between neighbouring true means (true stds are 1)", low=0, high=100),
            integer("max_iter", 100, "EM iterations at most per generation", low=1, high=10_000),
        ],
        columns=COLUMNS,
        profiles={
            "smoke": {"generations": 20, "samples": 500, "replicates": 4},
            "default": {"generations": 200, "samples": 1000, "replicates": 8},
            "full": {"generations": 2000, "samples": 1000, "replicates": 100},
        },
        build=build,
        figures=figures,
        memory_bytes=memory_bytes,
    )
)
