"""``kde``: a kernel density estimate with a fixed bandwidth refitted on its own samples.

Columns of ``metrics.parquet`` (besides ``generation, replicate, train_size, real_share, real_drawn``):

- ``data_var``: the maximum-likelihood variance of generation t's training set (the
  model's own variance is data_var + bandwidth^2).

Generation 0 is the truth N(0, 1) (data_var = 1). In replace mode the spread inflates
towards (N - 1) h^2 instead of collapsing.
"""

from __future__ import annotations

from typing import Any

from ..engine import modes
from ..engine.loop import LoopSpec
from ..models.gaussian import Gaussian
from ..models.kde import KDE
from ..params import number
from .loops import loop_params, training_sets_held
from .registry import Experiment, register

COLUMNS = {"data_var": "maximum-likelihood variance of generation t's training set (model variance minus h^2)"}


def build(params: dict[str, Any], progress: bool = False) -> LoopSpec:
    reps, h = params["replicates"], params["bandwidth"]
    truth = Gaussian(reps, method="sample")

    def metrics(model, step) -> dict[str, Any]:
        return {"data_var": model.data_var if isinstance(model, KDE) else model.var}

    return LoopSpec(make_model=lambda: KDE(reps, h), real=truth.sample, metrics=metrics, truth=truth)


def memory_bytes(params: dict[str, Any]) -> float:
    """Bytes of samples held at once (the pool in the accumulate modes)."""
    return 8.0 * 3 * params["replicates"] * params["samples"] * training_sets_held(params)


def figures(history) -> dict[str, Any]:
    from .. import plotting, theory

    params = history.params
    curve = None
    if modes.get(params["mode"]).fully_synthetic:
        curve = lambda t: theory.kde_expected_data_variance(t, params["samples"], params["bandwidth"])  # noqa: E731
    return {"data_var": plotting.band_figure(history, "data_var", "training-set variance $s_t^2$", theory=curve)}


KDE_EXPERIMENT = register(
    Experiment(
        name="kde",
        summary="a fixed-bandwidth kernel density estimate refitted on its own samples: the spread inflates",
        params=loop_params(generations=500, samples=100, replicates=1000)
        + [
            number(
                "bandwidth",
                0.3,
                "kernel bandwidth h (standard deviation of each kernel)",
                low=0,
                high=100,
                low_open=True,
            ),
        ],
        columns=COLUMNS,
        profiles={
            "smoke": {"generations": 50, "samples": 100, "replicates": 200},
            "default": {"generations": 500, "samples": 100, "replicates": 1000},
            "full": {"generations": 5000, "samples": 1000, "replicates": 1000},
        },
        build=build,
        figures=figures,
        memory_bytes=memory_bytes,
    )
)
