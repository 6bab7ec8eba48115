"""``colored-mnist-ddpm``: a minority *group* under autophagy (Wyllie, Shumailov & Papernot,
2024, "Fairness feedback loops").

Colored MNIST (:mod:`autophagy.data.colored_mnist`): digits in red, or in green with
probability ``group_share``, the colour independent of the digit. The loop is
``mnist-ddpm``'s, with the class-conditional DDPM widened to two colour channels: generation 1
is the shipped starting model ``colored-mnist-ddpm`` (the MNIST DDPM fine-tuned on Colored
MNIST), later generations fine-tune on the previous one's samples, labelled by the frozen
MNIST classifier on their grey image (the channels' sum).

``reparation=stratified`` resamples each generation's synthetic samples so that both groups
appear in their real proportions (``group_share`` green), grouping them by the colour oracle
(the channel holding more ink): Wyllie et al.'s stratified, representative training data.

Columns of ``metrics.parquet``, on ``eval_samples`` samples of each generation drawn with
labels in its training proportions (generation 0: real training images), are
:data:`COLUMNS`: ``mnist-ddpm``'s on the grey images, and per group (``majority`` red,
``minority`` green, by the oracle) the digit accuracy of the frozen classifier (the share
classified as the label drawn) and precision and recall against the real grey test digits.
A group's precision and recall are NaN when it has 6 samples or fewer; its recall depends on
how many samples it has, so compare a group across generations rather than the two groups.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import colored_mnist
from ..engine.loop import LoopSpec
from ..engine.step import Step
from ..params import ParameterError, choice, number
from . import images as grey_images
from .images import CLASSES
from .loops import loop_params
from .registry import Experiment, register

NAME = "colored-mnist-ddpm"
GROUP_NAMES = ("majority", "minority")  # red and green: the groups' order of colored_mnist.GROUPS
NEAREST_K = 5  # the k of precision and recall: a group needs more samples than this, plus one
REPARATIONS = ("none", "stratified")

COLUMNS = {
    **{k: v for k, v in grey_images.COLUMNS.items() if not k.startswith("rare_")},
    "minority_group_share": "share of the samples whose ink is green, the minority colour (the colour oracle)",
    **{
        f"{stat}_{group}": f"{text} of the {group} group's samples ({colour} ink, by the oracle)"
        for group, colour in zip(GROUP_NAMES, colored_mnist.GROUPS)
        for stat, text in (
            ("accuracy", "share classified as the digit drawn"),
            ("precision", "precision (grey, against real test digits; NaN with <= 6 samples)"),
            ("recall", "recall (grey, against real test digits; NaN with <= 6 samples)"),
        )
    },
}
SKIPPED = ("rare_class", "rare_share", "self_correction", "correction_pool")  # image parameters it has not


class ColoredImages:
    """Draws labelled Colored MNIST images; generation 0 of the loop (the truth)."""

    batched = False

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        self.images, self.labels = images, labels
        self.label_share = np.bincount(labels, minlength=CLASSES) / len(labels)
        self.by_label = [np.flatnonzero(labels == k) for k in range(CLASSES)]

    def sample(self, n: int, rng: np.random.Generator, labels: np.ndarray | None = None) -> np.ndarray:
        """``n`` images, of the digits ``labels`` when given."""
        if labels is None:
            return self.images[rng.choice(len(self.images), size=n, replace=len(self.images) < n)]
        return self.images[[rng.choice(self.by_label[k]) for k in labels]]


class GroupScorer:
    """Scores labelled colour samples: ``mnist-ddpm``'s metrics on their grey images and
    per-group share, digit accuracy, precision and recall (see :data:`COLUMNS`)."""

    def __init__(self, net, reference: np.ndarray):
        from ..metrics.image import ImageScorer

        self.net, self.scorer = net, ImageScorer(net, reference, NEAREST_K)

    def __call__(self, samples: np.ndarray, labels: np.ndarray) -> dict[str, float]:
        from ..metrics.image import compute_prdc_quiet

        grey, groups = colored_mnist.grey(samples), colored_mnist.group_of(samples)
        feats, probs = self.net.features(grey), self.net.probabilities(grey)
        correct = probs.argmax(1) == labels
        out = {**self.scorer.score(feats, probs), "minority_group_share": float(groups.mean())}
        for g, name in enumerate(GROUP_NAMES):
            mine = groups == g
            out[f"accuracy_{name}"] = float(correct[mine].mean()) if mine.any() else np.nan
            prdc = {"precision": np.nan, "recall": np.nan}
            if mine.sum() > NEAREST_K + 1:  # prdc needs each sample's k-th neighbour among the others
                prdc = compute_prdc_quiet(self.scorer.reference, feats[mine], NEAREST_K)
            out[f"precision_{name}"], out[f"recall_{name}"] = float(prdc["precision"]), float(prdc["recall"])
        return out


def draw_labelled(model, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples of ``model`` and the digits they were drawn with (in the proportions of
    its training labels)."""
    labels = rng.choice(CLASSES, size=n, p=model.label_share)
    return model.sample(n, rng, labels=labels), labels


def _build(params: dict[str, Any], progress: bool = True) -> LoopSpec:
    """The loop of ``colored-mnist-ddpm`` with parameters ``params``."""
    from ..mitigations.selection import Stratified
    from ..models.image_classifier import classifier

    net = classifier("mnist", params["classifier_images"])
    make = _factory(NAME, params, progress)
    train = ColoredImages(*colored_mnist.load("train", params["group_share"])[:2])
    test = colored_mnist.grey(colored_mnist.load("test", params["group_share"])[0])
    scorer = GroupScorer(net, test[: params["eval_samples"]])

    def metrics(model, step: Step) -> dict[str, float]:
        return scorer(*draw_labelled(model, params["eval_samples"], step.rng))

    select = None
    if params["reparation"] == "stratified":
        share = params["group_share"]
        select = Stratified(colored_mnist.group_of, [1 - share, share])
    return LoopSpec(
        make_model=grey_images.model_maker(make, net, NAME, params["pretrained"]),
        real=train.sample,
        metrics=metrics,
        truth=train,
        select=select,
        artifacts=grey_images.grid_saver(params["grid"]),
    )


def _factory(name: str, params: dict[str, Any], progress: bool):
    """``make(classifier) -> model``: the two-channel class-conditional DDPM of ``params``, its
    training images labelled by the classifier on their grey image."""
    colour = {**params, "conditional": True}
    return grey_images.ddpm_factory(name, colour, progress, image_channels=2, classifier_input=colored_mnist.grey)


def min_group(params: dict[str, Any]) -> int:
    """Examples of the smaller group in a training set of ``samples`` at ``group_share``."""
    minority = round(params["group_share"] * params["samples"])
    return min(minority, params["samples"] - minority)


def _check(params: dict[str, Any]) -> None:
    grey_images.ddpm_check({**params, "conditional": True})
    if min_group(params) < 1:
        raise ParameterError(
            f"group_share={params['group_share']:g} leaves fewer than one example of a group in "
            f"samples={params['samples']}: raise samples or move group_share away from 0 and 1"
        )


def _prepare(params: dict[str, Any]) -> None:
    """Load (and cache) the data and the starting model before anything is written."""
    for split in ("train", "test"):
        colored_mnist.load(split, params["group_share"])
    _factory(NAME, params, False)


def memory_bytes(params: dict[str, Any]) -> float:
    """Bytes of images held at once: :func:`.images.memory_bytes` for two channels."""
    return 2 * grey_images.memory_bytes(params)


def colour_grid_figure(grids: dict[int, np.ndarray], columns: int = 16):
    """One row of colour samples per generation (the same latent seeds in every row)."""
    from .. import plotting

    gens = sorted(grids)
    fig, axes = plotting.figure(nrows=len(gens), height=0.9 * plotting.WIDTH / columns + 0.1, squeeze=False)
    for ax, g in zip(axes[:, 0], gens):
        tiles = colored_mnist.rgb(grids[g][:columns])
        ax.imshow(np.concatenate(list(tiles), axis=1), interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel("real" if g == 0 else f"gen {g}", rotation=0, ha="right", va="center", fontsize=9)
    return fig


def metric_figure(history) -> Any:
    """The minority's share and each group's accuracy, precision and recall across generations."""
    from .. import plotting

    fig, axes = plotting.panels(4, height=2.4)
    plotting.bands(axes[0], history, "minority_group_share", c=plotting.color(0))
    axes[0].set_title("minority group share")
    for ax, stat in zip(axes[1:], ("accuracy", "precision", "recall")):
        for k, group in enumerate(GROUP_NAMES):
            plotting.bands(ax, history, f"{stat}_{group}", c=plotting.color(k), label=group)
        ax.set_title(f"{stat} per group")
    for ax in axes:
        plotting.generation_axis(ax, "generation")
    plotting.legend(fig, axes[1:2])
    return fig


def _figures(history) -> dict[str, Any]:
    out = {"metrics": metric_figure(history)}
    grids = grey_images.load_samples(history.path) if history.path is not None else {}
    if grids:
        out["samples"] = colour_grid_figure(grids)
    return out


PARAMS = (
    loop_params(generations=5, samples=2000, replicates=1)
    + [p for p in grey_images.image_params(500, lr=1e-4) if p.name not in SKIPPED]
    + [p for p in grey_images.MNIST_DDPM.params if p.name in ("timesteps", "schedule", "patch", "sampler")]
    + [p for p in grey_images.MNIST_DDPM.params if p.name in ("sample_steps", "guidance")]
    + [
        number(
            "group_share",
            0.1,
            "share of green (minority) digits in the real data",
            low=0,
            high=1,
            low_open=True,
            high_open=True,
        ),
        choice(
            "reparation",
            "none",
            "stratified: resample each generation's synthetic samples to the groups' real proportions",
            REPARATIONS,
        ),
    ]
)

COLORED_MNIST_DDPM = register(
    Experiment(
        name=NAME,
        summary="a class-conditional DDPM on Colored MNIST (a green minority group) trained on its own samples, "
        "with stratified reparation (Wyllie et al.)",
        params=PARAMS,
        columns=COLUMNS,
        profiles=grey_images.IMAGE_MODELS["mnist-ddpm"].profiles,
        build=_build,
        neural=lambda params: True,
        figures=_figures,
        memory_bytes=memory_bytes,
        prepare=_prepare,
        check=_check,
    )
)


def quality(weights: dict[str, np.ndarray], labels: np.ndarray, samples: int = 500, seed: int = 0) -> dict[str, float]:
    """How well the starting model learned Colored MNIST, on held-out data: :data:`COLUMNS` of
    ``samples`` samples drawn as the loop draws generation 1 (its defaults, labels in the
    proportions of the training ``labels``), beside the same for real training images
    (``*_real``)."""
    from ..models.image_classifier import classifier

    params = {p.name: p.default for p in PARAMS}
    net = classifier("mnist")
    model = _factory(NAME, {**params, "pretrained": False}, False)(net)
    model.start_from(weights)
    model.label_share = np.bincount(labels, minlength=CLASSES) / len(labels)
    share = params["group_share"]
    scorer = GroupScorer(net, colored_mnist.grey(colored_mnist.load("test", share)[0])[:samples])
    rng = np.random.default_rng(seed)
    real = scorer(*draw_labelled(ColoredImages(*colored_mnist.load("train", share)[:2]), samples, rng))
    fake = scorer(*draw_labelled(model, samples, rng))
    return {**{k: round(v, 4) for k, v in fake.items()}, **{f"{k}_real": round(v, 4) for k, v in real.items()}}
