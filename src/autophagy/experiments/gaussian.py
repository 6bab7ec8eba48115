"""``gaussian``: a Gaussian refitted on its own samples (Xing et al.'s Figure 2, and Figure 5's modes).

Columns of ``metrics.parquet`` (besides ``generation, replicate, train_size, real_share, real_drawn``):

- ``mean``: the fitted mean mu_t;
- ``var``: the fitted variance sigma_t^2;
- ``w2``: the 2-Wasserstein distance of N(mu_t, sigma_t^2) to the truth N(0, 1).

Generation 0 is the truth (mu = 0, sigma = 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import modes
from ..engine.loop import LoopSpec
from ..metrics.distribution import w2_gaussian
from ..mitigations.correction import towards_truth
from ..mitigations.curation import GaussianVerifier, reward_curation
from ..mitigations.selection import central
from ..models.gaussian import ESTIMATORS, METHODS, Gaussian
from ..params import ParameterError, choice, integer, number
from .loops import SCREENS, loop_params, training_sets_held
from .registry import Experiment, register

VERIFIER_SEED = 11  # which fits the verifiers of verifier_knowledge > 0 believe

COLUMNS = {
    "mean": "fitted mean mu_t",
    "var": "fitted variance sigma_t^2",
    "w2": "2-Wasserstein distance of N(mu_t, sigma_t^2) to the truth N(0, 1)",
}


def build(params: dict[str, Any], progress: bool = False) -> LoopSpec:
    reps = params["replicates"]

    made: list[Gaussian] = []  # the verifier screens the samples of the latest model made

    def make_model() -> Gaussian:
        made.append(Gaussian(reps, params["estimator"], params["method"], params["truncation"]))
        return made[-1]

    truth = Gaussian(reps, method=params["method"])

    def metrics(model: Gaussian, step) -> dict[str, Any]:
        return {"mean": model.mu, "var": model.var, "w2": w2_gaussian(model.mu, model.sigma)}

    select = None
    if params["central_fraction"] < 1:
        select = central(params["central_fraction"])
    elif params["reward_fraction"] < 1:
        select = reward_curation(params["reward_target"], params["reward_fraction"])
    verify = None
    if params["verifier_accuracy"] > 0:
        verify = GaussianVerifier(params["verifier_accuracy"], lambda: made[-1], *verifier_belief(params))
    correct = towards_truth(params["self_correction"]) if params["self_correction"] > 0 else None
    return LoopSpec(
        make_model=make_model,
        real=truth.sample,
        metrics=metrics,
        truth=truth,
        select=select,
        filter=verify,
        correct=correct,
    )


def verifier_belief(params: dict[str, Any]) -> tuple[np.ndarray | float, np.ndarray | float]:
    """What the verifier holds true: N(0, 1) itself, or, with ``verifier_knowledge`` = M, its
    maximum-likelihood fit to M real samples, one per replicate (drawn once: the same verifiers
    in every run)."""
    known = params["verifier_knowledge"]
    if known == 0:
        return 0.0, 1.0
    rng = np.random.default_rng(VERIFIER_SEED)
    reps = params["replicates"]
    return rng.standard_normal(reps) / np.sqrt(known), np.sqrt(rng.chisquare(known - 1, reps) / known)


def check(params: dict[str, Any]) -> None:
    mode = modes.get(params["mode"])
    if params["method"] == "exact" and mode.memory == "budget":
        raise ParameterError(
            f"mode={params['mode']} needs method=sample (a subsample of summary statistics is not defined)"
        )
    if params["central_fraction"] < 1 and params["reward_fraction"] < 1:
        raise ParameterError("choose one selection: central_fraction or reward_fraction, not both")
    looks = [k for k in ("central_fraction", "reward_fraction") if params[k] < 1]
    looks += ["verifier_accuracy"] if params["verifier_accuracy"] > 0 else []
    if params["method"] == "exact" and looks:
        raise ParameterError(f"{looks[0]} needs method=sample (selection and verification look at the points)")
    if params["verifier_knowledge"] == 1:
        raise ParameterError(
            "verifier_knowledge=1: a verifier needs at least 2 real samples to fit a variance (0: it knows the truth)"
        )
    if params["verifier_knowledge"] > 0 and params["verifier_accuracy"] == 0:
        raise ParameterError("verifier_knowledge is what a verifier learned: set verifier_accuracy > 0 too")
    screens = [k for k in SCREENS if params[k] > 0]
    if params["method"] == "exact" and screens:
        raise ParameterError(f"{screens[0]} > 0 needs method=sample (a screen looks at the points)")


def memory_bytes(params: dict[str, Any]) -> float:
    """Bytes of samples held at once by method=sample (the exact method holds none)."""
    if params["method"] == "exact":
        return 0.0
    per_generation = params["samples"] / min(params["central_fraction"], params["reward_fraction"])
    return 8.0 * 3 * params["replicates"] * per_generation * training_sets_held(params)


def figures(history) -> dict[str, Any]:
    from .. import plotting, theory

    params = history.params
    ddof = ESTIMATORS[params["estimator"]]
    theory_var = None
    plain = params["truncation"] == 1 and params["central_fraction"] == 1 and params["reward_fraction"] == 1
    if (
        modes.get(params["mode"]).fully_synthetic
        and plain
        and params["verifier_accuracy"] == 0
        and params["self_correction"] == 0
    ):
        theory_var = lambda t: theory.expected_variance(t, params["samples"], ddof)  # noqa: E731
    return {
        "variance": plotting.band_figure(history, "var", "fitted variance $\\sigma_t^2$", theory=theory_var),
        "mean": plotting.band_figure(history, "mean", "fitted mean $\\mu_t$"),
        "w2": plotting.band_figure(history, "w2", "$W_2$ to the truth"),
    }


GAUSSIAN = register(
    Experiment(
        name="gaussian",
        summary="a Gaussian refitted on its own samples (Shumailov et al.; Xing et al.'s Figures 2 and 5)",
        params=loop_params(generations=1000, samples=10_000, replicates=1000)
        + [
            choice("estimator", "mle", "variance estimator: divide by N (mle) or N - 1 (unbiased)", list(ESTIMATORS)),
            choice("method", "exact", "exact: draw sufficient statistics; sample: draw the N points", list(METHODS)),
            number(
                "truncation", 1.0, "sampling bias psi: sample from N(mu, (psi sigma)^2)", low=0, high=1, low_open=True
            ),
            number(
                "central_fraction",
                1.0,
                "keep only the central fraction q of each generation's samples",
                low=0,
                high=1,
                low_open=True,
            ),
            number(
                "reward_fraction",
                1.0,
                "curation: keep the fraction q of samples closest to reward_target",
                low=0,
                high=1,
                low_open=True,
            ),
            number(
                "reward_target",
                1.0,
                "curation: the value the narrow reward -abs(x - target) prefers",
                low=-100,
                high=100,
            ),
            number(
                "verifier_accuracy",
                0.0,
                "verification: a verifier checking samples against the truth, right with this probability (0: none)",
                low=0,
                high=1,
            ),
            integer(
                "verifier_knowledge",
                0,
                "verification: real samples the verifier learned the truth from (0: it knows the truth)",
                low=0,
                high=10**9,
            ),
            number(
                "self_correction",
                0.0,
                "self-correction: move each synthetic sample this fraction of the way to the truth's "
                "optimal transport image (0: none)",
                low=0,
                high=1,
            ),
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
    )
)
