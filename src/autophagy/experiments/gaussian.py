"""``gaussian``: a Gaussian refitted on its own samples (the seed's Figure 2, and Figure 5's modes).

Columns of ``metrics.csv`` (besides ``generation, replicate, train_size, real_share, real_drawn``):

- ``mean``: the fitted mean mu_t;
- ``var``: the fitted variance sigma_t^2;
- ``w2``: the 2-Wasserstein distance of N(mu_t, sigma_t^2) to the truth N(0, 1).

Generation 0 is the truth (mu = 0, sigma = 1).
"""

from __future__ import annotations

from typing import Any

from .. import plotting, theory
from ..loop import LoopSpec
from ..metrics.distribution import w2_gaussian
from ..mitigations.selection import central
from ..models.gaussian import ESTIMATORS, METHODS, Gaussian
from ..params import ParameterError, choice, number
from .registry import SCREENS, Experiment, loop_params, register

COLUMNS = {
    "mean": "fitted mean mu_t",
    "var": "fitted variance sigma_t^2",
    "w2": "2-Wasserstein distance of N(mu_t, sigma_t^2) to the truth N(0, 1)",
}


def build(config: dict[str, Any]) -> LoopSpec:
    reps = config["replicates"]

    def make_model() -> Gaussian:
        return Gaussian(reps, config["estimator"], config["method"], config["truncation"])

    truth = Gaussian(reps, method=config["method"])

    def metrics(model: Gaussian, rng) -> dict[str, Any]:
        return {"mean": model.mu, "var": model.var, "w2": w2_gaussian(model.mu, model.sigma)}

    select = central(config["central_fraction"]) if config["central_fraction"] < 1 else None
    return LoopSpec(make_model=make_model, real=truth.sample, metrics=metrics, truth=truth, select=select)


def check(config: dict[str, Any]) -> None:
    if config["method"] == "exact" and config["mode"] == "accumulate-subsample":
        raise ParameterError("mode=accumulate-subsample needs method=sample (a subsample of summary statistics is not defined)")
    if config["method"] == "exact" and config["central_fraction"] < 1:
        raise ParameterError("central_fraction < 1 needs method=sample (selection looks at the points)")
    screens = [k for k in SCREENS if config[k] > 0]
    if config["method"] == "exact" and screens:
        raise ParameterError(f"{screens[0]} > 0 needs method=sample (a screen looks at the points)")


def memory_bytes(config: dict[str, Any]) -> float:
    """Bytes of samples held at once by method=sample (the exact method holds none)."""
    if config["method"] == "exact":
        return 0.0
    per_generation = config["samples"] / config["central_fraction"]
    held = {
        "accumulate": config["generations"] + 1,
        "accumulate-subsample": config["generations"] + 1,
        "web-accumulate": config["generations"] + 1,
        "augment": 1 + config["synthetic_ratio"],
    }.get(config["mode"], 2)
    return 8.0 * 3 * config["replicates"] * per_generation * held


def figures(history) -> dict[str, Any]:
    cfg = history.config["params"]
    ddof = ESTIMATORS[cfg["estimator"]]
    theory_var = None
    if cfg["mode"] == "replace" and cfg["truncation"] == 1 and cfg["central_fraction"] == 1:
        theory_var = lambda t: theory.expected_variance(t, cfg["samples"], ddof)  # noqa: E731
    return {"variance": plotting.band_figure(history, "var", "fitted variance $\\sigma_t^2$", theory=theory_var),
            "mean": plotting.band_figure(history, "mean", "fitted mean $\\mu_t$"),
            "w2": plotting.band_figure(history, "w2", "$W_2$ to the truth")}


GAUSSIAN = register(Experiment(
    name="gaussian",
    summary="a Gaussian refitted on its own samples (Shumailov et al.; the seed's Figures 2 and 5)",
    params=loop_params(generations=1000, samples=10_000, replicates=1000) + [
        choice("estimator", "mle", "variance estimator: divide by N (mle) or N - 1 (unbiased)", list(ESTIMATORS)),
        choice("method", "exact", "exact: draw sufficient statistics; sample: draw the N points", list(METHODS)),
        number("truncation", 1.0, "sampling bias psi: sample from N(mu, (psi sigma)^2)", low=0, high=1, low_open=True),
        number("central_fraction", 1.0, "keep only the central fraction q of each generation's samples", low=0, high=1, low_open=True),
    ],
    columns=COLUMNS,
    profiles={
        "smoke": {"generations": 100, "samples": 1000, "replicates": 200},
        "default": {"generations": 1000, "samples": 10_000, "replicates": 1000},
        "full": {"generations": 10_000, "samples": 10_000, "replicates": 1000},
    },
    build=build,
    figures=figures,
    check=check,
    memory_bytes=memory_bytes,
    doc=__doc__,
))
