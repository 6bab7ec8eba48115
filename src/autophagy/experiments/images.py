"""``mnist-ddpm`` and ``fashion-gan``: image generators trained on their own samples
(Xing et al.'s Figure 3).

- ``mnist-ddpm``: a DDPM on MNIST (Figure 3a); with ``select_fraction < 1`` only the
  samples the classifier is most confident about join the next training set (Figure 3b).
- ``fashion-gan``: a style-based GAN on Fashion-MNIST sampled with truncation ``psi``, the
  shippable stand-in for StyleGAN on AFHQ at psi = 0.7 (Figure 3c).

Generation 1 is, by default (``pretrained=true``), the shipped starting model
(:mod:`autophagy.weights`), trained on the real training split by ``autophagy pretrain``;
later generations fine-tune for ``warm_steps``, from the previous generation
(``warm_start=true``) or from the starting model (``warm_start=false``). With
``pretrained=false`` generation 1 trains from scratch for ``steps``.

Columns of ``metrics.parquet`` (besides ``generation, replicate, train_size, real_share, real_drawn``) are
:data:`COLUMNS`, computed on ``eval_samples`` fresh samples of each generation against the
first ``eval_samples`` images of the real test split; generation 0 scores real training
images. A run directory also gets ``samples/generation_TT.npy`` (the same latent seeds at
every generation, replicate 0) and ``figures/samples.png``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data.cache import save_npy
from ..engine.loop import LoopSpec, rng_for
from ..engine.step import Step
from ..models.starting import network
from ..params import ParameterError, choice, flag, integer, number
from .loops import loop_params, training_sets_held
from .registry import Experiment, register, resolve_config

# the names models.diffusion implements (a test checks they agree): listed here so that
# `autophagy list` shows them without importing torch
SCHEDULES = ("cosine", "linear")
SAMPLERS = ("ddim", "ancestral")

COLUMNS = {
    "fid": "Fréchet distance of classifier features to real test images (lower is better)",
    "precision": "share of samples inside the real feature manifold (quality; Kynkäänniemi et al.)",
    "recall": "share of real images inside the samples' manifold (diversity)",
    "density": "how densely samples crowd real neighbourhoods (Naeem et al.; 1 for real data)",
    "coverage": "share of real images with a sample among their nearest neighbours",
    "class_entropy": "entropy (bits) of the predicted classes; log2(10) = 3.32 when balanced",
    "confidence": "mean top-class probability of the classifier (quality)",
    **{f"share_{k}": f"share of the samples the classifier puts in class {k}" for k in range(10)},
    "rare_labels": "rare_class set: the rare class's share of the training set's labels "
    "(NaN for a model without labels)",
    "rare_prompted": "rare_class set: mean classifier probability of the rare class on samples drawn with its "
    "label (conditional models; NaN otherwise)",
}
GRID_SEED = 2024  # the latent seeds of the sample grids: the same at every generation
CORRECTION_SEED = 7  # which real images the self-correction pool holds: the same in every run
RARE_SEED = 13  # which images of the rare class the real data keeps: the same in every run
PROMPTED = 32  # samples drawn with the rare class's label, each generation
CLASSES = 10  # the classes of MNIST and Fashion-MNIST (the label input of a conditional DDPM)


def with_rare_class(images: np.ndarray, labels: np.ndarray, rare: int, share: float) -> np.ndarray:
    """``images`` with the class ``rare`` thinned to ``share`` of the whole (the same images
    in every run; the other classes kept whole)."""
    rare_at, other = np.flatnonzero(labels == rare), np.flatnonzero(labels != rare)
    kept = max(1, round(share / (1 - share) * len(other)))
    if kept > len(rare_at):
        raise ParameterError(f"rare_share={share:g} asks for {kept} images of class {rare}, which has {len(rare_at)}")
    chosen = np.random.default_rng(RARE_SEED).choice(rare_at, kept, replace=False)
    return images[np.sort(np.concatenate([other, chosen]))]


class RealImages:
    """Draws from a real split; generation 0 of the loop (the truth)."""

    batched = False

    def __init__(self, images: np.ndarray):
        self.images = images

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.images[rng.choice(len(self.images), size=n, replace=len(self.images) < n)]


def _build(image: ImageModel, params: dict[str, Any], progress: bool = True) -> LoopSpec:
    """The loop of image experiment ``image`` with parameters ``params``."""
    from ..data.images import DATASETS
    from ..metrics.image import ImageScorer
    from ..mitigations.correction import towards_nearest_real
    from ..mitigations.selection import TopFraction
    from ..models.image_classifier import classifier

    net = classifier(image.dataset, params["classifier_images"])
    make = image.factory(image.name, params, progress)
    images, labels = DATASETS[image.dataset]("train")
    rare = params["rare_class"]
    train = RealImages(images if rare < 0 else with_rare_class(images, labels, rare, params["rare_share"]))
    test = DATASETS[image.dataset]("test")[0]
    scorer = ImageScorer(net, test[: params["eval_samples"]])

    def metrics(model, step: Step) -> dict[str, float]:
        return {**scorer(model.sample(params["eval_samples"], step.rng)), **rare_metrics(model, step)}

    def rare_metrics(model, step: Step) -> dict[str, float]:
        """What the model still has of the rare class: its share of the labels it learned from,
        and how surely the classifier sees the class in pictures drawn with its label."""
        if rare < 0:
            return {"rare_labels": np.nan, "rare_prompted": np.nan}
        label_share = getattr(model, "label_share", None)
        out = {"rare_labels": float(label_share[rare]) if label_share is not None else np.nan, "rare_prompted": np.nan}
        if getattr(model, "conditional", False):
            prompted = model.sample(PROMPTED, step.rng, labels=np.full(PROMPTED, rare))
            out["rare_prompted"] = float(net.probabilities(prompted)[:, rare].mean())
        return out

    select = None
    if params.get("select_fraction", 1.0) < 1:
        select = TopFraction(net.confidence, params["select_fraction"], axis=0)
    correct = None
    if params["self_correction"] > 0:  # the corrector's pool: real pictures it knows, drawn once
        pool = train.images[
            np.random.default_rng(CORRECTION_SEED).permutation(len(train.images))[: params["correction_pool"]]
        ]
        correct = towards_nearest_real(params["self_correction"], pool)
    return LoopSpec(
        make_model=model_maker(make, net, image.name, params["pretrained"]),
        real=train.sample,
        metrics=metrics,
        truth=train,
        select=select,
        artifacts=grid_saver(params["grid"]),
        correct=correct,
    )


def model_maker(make: Callable[[Any], Any], net, name: str, pretrained: bool) -> Callable[[], Any]:
    """The loop's ``make_model``: ``make(net)``, its first fit cached under ``name`` unless it
    starts from a shipped model (which needs no cache)."""
    from ..models.fitcache import FirstFitCache

    def make_model():
        model = make(net)
        return model if pretrained else FirstFitCache(model, name)

    return make_model


def grid_saver(grid: int) -> Callable[[Any, Step], None]:
    """The loop's ``artifacts``: ``grid`` samples of the first chain saved at every generation
    (the same latent seeds each time), under ``samples/`` of the run directory."""

    def artifacts(model, step: Step) -> None:
        if not grid or step.run_dir is None or step.unit != 0:
            return
        folder = step.run_dir / "samples"
        folder.mkdir(exist_ok=True)
        save_npy(folder / f"generation_{step.generation:02d}.npy", model.sample(grid, np.random.default_rng(GRID_SEED)))

    return artifacts


def first_generation(name: str, profile: str = "default", seed: int = 0, progress: bool = False, **overrides: Any):
    """The generation-1 model of image experiment ``name`` (``mnist-ddpm`` or ``fashion-gan``):
    fitted on real data exactly as the experiment's loop fits it, so the first-fit cache
    serves a model that an earlier run with the same settings has trained."""
    params = resolve_config(name, profile, seed, **overrides)[1]["params"]
    spec = _build(IMAGE_MODELS[name], {**params, "grid": 0}, progress)
    model, step = spec.make_model(), Step(rng_for(seed, 0, 1))
    model.fit(spec.real(params["samples"], step.rng), step)
    return model


def load_samples(path: str | Path) -> dict[int, np.ndarray]:
    """The saved sample grids of a run directory: {generation: uint8 images (k, 28, 28)}."""
    folder = Path(path) / "samples"
    files = sorted(folder.glob("generation_*.npy")) if folder.is_dir() else []
    return {int(f.stem.split("_")[1]): np.load(f, allow_pickle=False) for f in files}


def samples_figure(grids: dict[int, np.ndarray], columns: int = 16, title: str | None = None):
    """One row of samples per generation (the same latent seeds in every row)."""
    import matplotlib.pyplot as plt

    from .. import plotting

    gens = sorted(grids)
    row = 0.9 * plotting.WIDTH / columns + 0.08  # inches: one row of square images, a little space
    fig, axes = plt.subplots(len(gens), 1, figsize=(plotting.WIDTH, row * len(gens) + 0.4), squeeze=False)
    for ax, g in zip(axes[:, 0], gens):
        plotting.image_grid(ax, grids[g][:columns] / 255.0, 1, min(columns, len(grids[g])))
        ax.set_axis_on()
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel("real" if g == 0 else f"gen {g}", rotation=0, ha="right", va="center", fontsize=9)
        for side in ax.spines.values():
            side.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(h_pad=0.2)
    return fig


def metric_figure(history) -> Any:
    """FID, precision, recall and class entropy across generations (median over replicates)."""
    from .. import plotting

    fig, axes = plotting.panels(4, height=2.4)
    for ax, metric in zip(axes, ("fid", "precision", "recall", "class_entropy")):
        plotting.bands(ax, history, metric, c=plotting.color(0))
        ax.set_title(metric.replace("_", " "))
        plotting.generation_axis(ax, "generation")
    return fig


def image_params(eval_samples: int, lr: float) -> list:
    """The parameters every image experiment shares (evaluation, fine-tuning, sample grids)."""
    return [
        integer(
            "eval_samples",
            eval_samples,
            "samples (and real test images) each generation is scored on",
            low=20,
            high=10_000,
        ),
        integer(
            "classifier_images",
            60_000,
            "real training images the feature classifier learns from (at most the split)",
            low=1000,
            high=60_000,
        ),
        integer(
            "grid", 16, "samples saved per generation for the grids (same seeds every generation)", low=0, high=256
        ),
        integer("batch_size", 64, "training batch size", low=2, high=4096),
        number("lr", lr, "Adam learning rate (of fine-tuning, when pretrained)", low=0, high=1, low_open=True),
        flag("pretrained", True, "generation 1 is the shipped starting model (false: train it from scratch)"),
        integer(
            "steps",
            2000,
            "pretrained=false: training steps of generation 1 (and of every cold start)",
            low=1,
            high=10**7,
        ),
        integer("warm_steps", 500, "training steps of a fine-tuned generation", low=1, high=10**7),
        flag("warm_start", True, "fine-tune the previous generation (false: the starting model, or a fresh one)"),
        integer(
            "channels",
            32,
            "base channel width of the networks (fixed by the starting model when pretrained)",
            low=4,
            high=256,
        ),
        number(
            "self_correction",
            0.0,
            "self-correction: blend each synthetic image with this weight with its nearest real one (0: none)",
            low=0,
            high=1,
        ),
        integer(
            "correction_pool", 10_000, "self-correction: real training images the corrector knows", low=1, high=60_000
        ),
        integer(
            "rare_class",
            -1,
            "the class kept rare in the real training data (-1: none, all classes whole)",
            low=-1,
            high=9,
        ),
        number(
            "rare_share",
            0.02,
            "rare_class set: its share of the real training data",
            low=0,
            high=1,
            low_open=True,
            high_open=True,
        ),
    ]


def _prepare(image: ImageModel):
    """Load (and cache) the data set's splits and the starting model, so missing or damaged
    data or weights (a DataError) and an architecture the starting model lacks (a
    ParameterError) are reported before the run directory is written."""

    def prepare(params: dict[str, Any]) -> None:
        from ..data.images import DATASETS

        for split in ("train", "test"):
            DATASETS[image.dataset](split)
        image.factory(image.name, params, False)

    return prepare


def memory_bytes(params: dict[str, Any]) -> float:
    """Bytes of images held at once, as float32 28 x 28: each replicate's training sets of
    ``samples`` images (every generation's in the accumulate modes) and the samples drawn."""
    held = params["samples"] * training_sets_held(params)
    return 4.0 * 28 * 28 * params["replicates"] * (held + params["eval_samples"])


def check_image_params(params: dict[str, Any]) -> None:
    """Refuse (one line) settings that no image experiment can run."""
    if params["eval_samples"] <= 5:
        raise ParameterError("eval_samples must exceed the 5 nearest neighbours of the metrics")


# --- the networks -------------------------------------------------------------------------


def fine_tuning(params: dict[str, Any], start: dict[str, np.ndarray] | None, progress: bool) -> dict[str, Any]:
    """The keywords of an image model's fits after the first: how they fine-tune, and from what."""
    return {
        "warm_steps": params["warm_steps"],
        "warm_start": params["warm_start"],
        "pretrained": start,
        "progress": progress,
    }


def ddpm_factory(
    name: str,
    params: dict[str, Any],
    progress: bool,
    image_channels: int = 1,
    classifier_input: Callable[[np.ndarray], np.ndarray] = lambda x: x,
):
    """The factory of a DDPM image experiment (see :class:`ImageModel`): ``mnist-ddpm``'s with
    the defaults. A conditional model's training images are labelled by the classifier, which
    reads ``classifier_input(images)`` (a colour model's grey pictures)."""
    from ..models.diffusion import DDPMArchitecture, DDPMTraining, Diffusion

    conditional = params["conditional"]
    # the starting model has a label input ("no label" when sampling unconditionally)
    classes = CLASSES if conditional else 0
    architecture, start = network(name, DDPMArchitecture, params, classes=classes, image_channels=image_channels)
    training = DDPMTraining.from_params(params)

    def make(net):
        return Diffusion(
            architecture,
            training,
            sampler=params["sampler"],
            sample_steps=params["sample_steps"],
            guidance=params["guidance"],
            conditional=conditional,
            labeller=(lambda x: net.probabilities(classifier_input(x)).argmax(1)) if conditional else None,
            **fine_tuning(params, start, progress),
        )

    return make


def _gan_factory(name: str, params: dict[str, Any], progress: bool):
    """``fashion-gan``'s factory (see :class:`ImageModel`)."""
    from ..models.gan import GANArchitecture, GANTraining, StyleGAN

    architecture, start = network(name, GANArchitecture, params)
    training = GANTraining.from_params(params)

    def make(net):
        return StyleGAN(architecture, training, psi=params["psi"], **fine_tuning(params, start, progress))

    return make


def ddpm_check(params: dict[str, Any]) -> None:
    check_image_params(params)
    if params["guidance"] > 0 and not params["conditional"]:
        raise ParameterError("guidance > 0 needs conditional=true (with conditional=false set guidance=0 too)")
    if params["sample_steps"] > params["timesteps"]:
        raise ParameterError("sample_steps must not exceed timesteps")


def _figures(history) -> dict[str, Any]:
    """The metrics across generations and, for a run saved with grids, its sample grids."""
    out = {"metrics": metric_figure(history)}
    grids = load_samples(history.path) if history.path is not None else {}
    if grids:
        out["samples"] = samples_figure(grids)
    return out


# --- the table of image experiments --------------------------------------------------------


@dataclass(frozen=True)
class ImageModel:
    """One image experiment: a network trained on ``dataset`` that starts from the shipped
    model of the experiment's ``name``. ``factory(name, params, progress)`` checks the
    parameters against that model and loads it, and returns ``make(classifier) -> model``;
    ``params`` are the network's own parameters, ``lr`` its default learning rate."""

    name: str
    dataset: str
    summary: str
    factory: Callable[[str, dict[str, Any], bool], Callable[[Any], Any]]
    lr: float
    params: list
    profiles: dict[str, dict[str, Any]]
    check: Callable[[dict[str, Any]], None] = check_image_params


SMOKE = {
    "generations": 2,
    "samples": 64,
    "eval_samples": 64,
    "classifier_images": 5000,
    "grid": 8,
    "warm_steps": 5,
    "batch_size": 32,
}

IMAGE_MODELS = {
    image.name: image
    for image in (
        ImageModel(
            name="mnist-ddpm",
            dataset="mnist",
            summary="a DDPM on MNIST trained on its own samples "
            "(Xing et al.'s Figure 3a; Figure 3b with select_fraction < 1)",
            factory=ddpm_factory,
            lr=1e-4,
            params=[
                integer("timesteps", 1000, "diffusion steps T", low=2, high=10_000),
                choice("schedule", "cosine", "noise schedule", SCHEDULES),
                integer("patch", 2, "the network works on patch x patch pixel blocks (1: on pixels)", low=1, high=2),
                choice(
                    "sampler", "ddim", "sampler: ddim (deterministic, sample_steps) or ancestral (T steps)", SAMPLERS
                ),
                integer("sample_steps", 20, "DDIM steps", low=1, high=10_000),
                flag(
                    "conditional",
                    True,
                    "class-conditional: trained on the classifier's labels, "
                    "samples labels in their training proportions",
                ),
                number("guidance", 1.0, "classifier-free guidance weight w (conditional only)", low=0, high=20),
                number(
                    "select_fraction",
                    1.0,
                    "keep the top fraction q of samples by classifier confidence",
                    low=0,
                    high=1,
                    low_open=True,
                ),
            ],
            profiles={
                "smoke": {**SMOKE, "sample_steps": 4},
                "default": {
                    "generations": 5,
                    "samples": 300,
                    "eval_samples": 200,
                    "warm_steps": 100,
                    "sample_steps": 10,
                },
                "full": {
                    "generations": 8,
                    "samples": 50_000,
                    "eval_samples": 10_000,
                    "warm_steps": 5_000,
                    "batch_size": 128,
                    "sample_steps": 50,
                },
            },
            check=ddpm_check,
        ),
        ImageModel(
            name="fashion-gan",
            dataset="fashion-mnist",
            summary="a style-based GAN on Fashion-MNIST with truncation psi, trained on its own samples "
            "(Xing et al.'s Figure 3c)",
            factory=_gan_factory,
            lr=2e-3,
            params=[
                number("psi", 1.0, "truncation psi: w = w_mean + psi (w - w_mean) when sampling", low=0, high=1),
                integer("z_dim", 64, "latent size of z and w", low=2, high=1024),
                number("r1_gamma", 1.0, "R1 penalty weight on real images", low=0, high=1000),
            ],
            profiles={
                "smoke": SMOKE,
                "default": {"generations": 5, "samples": 500, "eval_samples": 300, "warm_steps": 200},
                "full": {
                    "generations": 8,
                    "samples": 60_000,
                    "eval_samples": 10_000,
                    "warm_steps": 5_000,
                    "batch_size": 128,
                    "lr": 1e-3,
                },
            },
        ),
    )
}


def _experiment(image: ImageModel) -> Experiment:
    """The registered experiment of table row ``image``."""
    return register(
        Experiment(
            name=image.name,
            summary=image.summary,
            params=loop_params(generations=5, samples=2000, replicates=1)
            + image_params(500, lr=image.lr)
            + image.params,
            columns=COLUMNS,
            profiles=image.profiles,
            build=functools.partial(_build, image),
            neural=lambda params: True,
            figures=_figures,
            memory_bytes=memory_bytes,
            prepare=_prepare(image),
            check=image.check,
        )
    )


MNIST_DDPM, FASHION_GAN = (_experiment(image) for image in IMAGE_MODELS.values())


def sampling_model(name: str, params: dict[str, Any], net) -> Any:
    """A model of image experiment ``name`` built as its loop builds one from ``params``, but
    without the shipped starting weights, for a caller that sets its own (``start_from``) or
    trains it; ``net`` is the feature classifier (the conditional DDPM's labeller)."""
    image = IMAGE_MODELS[name]
    return image.factory(name, {**params, "pretrained": False}, False)(net)
