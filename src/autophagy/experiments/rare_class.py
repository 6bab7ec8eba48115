"""``rare-class``: a minority class of share p refitted from N labelled examples a generation.

The model (:class:`~autophagy.models.labelled_mixture.LabelledMixture`) fits the classes'
shares and mean features and samples labelled examples. With ``labelling="sampled"`` the label
counts follow neutral Wright-Fisher drift, whose exact chain gives the chance that the
minority is gone by each generation; with ``labelling="argmax"`` the model's own classifier
labels its samples and the minority shrinks every generation (Taori and Hashimoto 2023).

Columns of ``metrics.parquet`` (besides ``generation, replicate, train_size, real_share, real_drawn``):

- ``minority_share``: the fitted share of the minority class;
- ``minority_gone``: 1 once the minority has no example left (it cannot come back without real data);
- ``minority_accuracy``, ``majority_accuracy``: how often the model's classifier labels a real
  example of each class correctly (per-group accuracy, exact).

Generation 0 is the truth (share p, class means +-separation/2, unit variance).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import modes
from ..engine.loop import LoopSpec
from ..models.labelled_mixture import LABELLINGS, LabelledMixture
from ..params import ParameterError, choice, number
from .loops import loop_params, training_sets_held
from .registry import Experiment, register

COLUMNS = {
    "minority_share": "fitted share of the minority class",
    "minority_gone": "1 once the minority class has no example left, else 0",
    "minority_accuracy": "share of real minority examples the model's classifier labels minority",
    "majority_accuracy": "share of real majority examples the model's classifier labels majority",
}


def build(params: dict[str, Any], progress: bool = False) -> LoopSpec:
    reps, share, separation = params["replicates"], params["share"], params["separation"]
    truth = LabelledMixture(reps, share, separation)

    def metrics(model: LabelledMixture, step) -> dict[str, Any]:
        minority, majority = model.accuracies(separation)
        return {
            "minority_share": model.share,
            "minority_gone": (model.share == 0).astype(float),
            "minority_accuracy": minority,
            "majority_accuracy": majority,
        }

    return LoopSpec(
        make_model=lambda: LabelledMixture(reps, share, separation, params["labelling"]),
        real=truth.sample,
        metrics=metrics,
        truth=truth,
    )


def check(params: dict[str, Any]) -> None:
    if params["share"] * params["samples"] < 1:
        raise ParameterError(
            f"share={params['share']:g} of samples={params['samples']} leaves fewer than one "
            "minority example a generation: raise one of them"
        )


def memory_bytes(params: dict[str, Any]) -> float:
    """Bytes of examples held at once: each training set and sample, (replicates, N, 2) floats."""
    return 8.0 * 2 * 3 * params["replicates"] * params["samples"] * training_sets_held(params)


def lost_by(history) -> tuple[np.ndarray, np.ndarray]:
    """The generations and the share of replicates whose minority is gone by each."""
    wide = history.wide("minority_gone")
    return wide.index.to_numpy(), wide.to_numpy().mean(axis=1)


def loss_generations(history) -> np.ndarray:
    """The generation at which each replicate that lost the minority within the run lost it."""
    wide = history.wide("minority_gone")
    gone = wide.to_numpy()
    return wide.index.to_numpy()[gone.argmax(axis=0)[gone.any(axis=0)]]


def figures(history) -> dict[str, Any]:
    from .. import plotting, theory

    params = history.params
    fig, axes = plotting.figure(ncols=2, height=2.8)
    generations, gone = lost_by(history)
    axes[0].plot(generations, gone, color=plotting.color(0), label=f"{params['labelling']} labels")
    if params["labelling"] == "sampled" and modes.get(params["mode"]).fully_synthetic:
        chain = theory.rare_class_lost_by(int(generations.max()), params["samples"], params["share"])
        plotting.theory_line(axes[0], np.arange(len(chain)), chain, label="exact Wright-Fisher chain")
    axes[0].set(xlabel="generation", ylabel="share of replicates lost")
    plotting.mean_line(axes[1], history, "minority_accuracy", label="minority", c=plotting.color(1))
    plotting.mean_line(axes[1], history, "majority_accuracy", label="majority", c=plotting.color(2))
    axes[1].set(xlabel="generation", ylabel="mean accuracy on real examples")
    plotting.legend(fig)
    return {"lost": fig}


RARE_CLASS = register(
    Experiment(
        name="rare-class",
        summary="a minority class of share p refitted from N labels a generation: who disappears first",
        params=loop_params(generations=200, samples=100, replicates=2000)
        + [
            number(
                "share", 0.02, "the minority's share p of the real data", low=0, high=1, low_open=True, high_open=True
            ),
            number(
                "separation",
                3.0,
                "distance between the classes' mean features (in standard deviations)",
                low=0,
                high=20,
                low_open=True,
            ),
            choice(
                "labelling",
                "sampled",
                "the next generation's labels: drawn with each example (sampled) or "
                "given by the model's classifier (argmax)",
                LABELLINGS,
            ),
        ],
        columns=COLUMNS,
        profiles={
            "smoke": {"generations": 60, "replicates": 400},
            "default": {"generations": 200, "replicates": 2000},
            "full": {"generations": 400, "replicates": 10_000},
        },
        build=build,
        figures=figures,
        check=check,
        memory_bytes=memory_bytes,
    )
)
