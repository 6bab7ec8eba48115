"""A denoising diffusion model (DDPM) for 28 x 28 grey images, written from the papers.

- Training (Ho et al., 2020): noise an image to step t, x_t = sqrt(abar_t) x_0 +
  sqrt(1 - abar_t) eps, and regress eps with a U-Net given (x_t, t); the "simple" loss.
- Noise schedules: ``linear`` betas from 1e-4 to 0.02 (Ho et al.) or ``cosine`` abar_t =
  f(t) / f(0), f(t) = cos^2(((t / T + s) / (1 + s)) pi / 2), s = 0.008, betas clipped at
  0.999 (Nichol & Dhariwal, 2021).
- Samplers (:mod:`.samplers`): ``ancestral`` runs the T reverse steps of Ho et al.;
  ``ddim`` the deterministic DDIM update on ``sample_steps`` evenly spaced steps.
- Optional class conditioning with classifier-free guidance (Ho & Salimans, 2022): the
  label is dropped with probability ``p_uncond`` in training, and sampling uses
  (1 + w) eps(x, c) - w eps(x, null).
- The sampler uses an exponential moving average (EMA) of the weights.

Images enter as uint8 (0..255) or float32 (0..1) arrays shaped (n, 28, 28) (or (n, C, 28, 28)
for a network of ``image_channels`` C > 1) and leave as uint8 of the same shape; inside, pixels
are scaled to [-1, 1]. The networks live on
:func:`~autophagy.models.device.default_device` (CUDA when available); random numbers are
drawn on the CPU and moved there, and checkpoints are CPU numpy arrays.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from ..engine.step import Step
from .device import default_device
from .samplers import DDIM, Ancestral, make_sampler
from .starting import Settings, begin_fit
from .trainer import EMA, Trainer, batch_index, seeded, torch_generator

SCHEDULES = ("cosine", "linear")


def alpha_bars(schedule: str, timesteps: int) -> torch.Tensor:
    """abar_t for t = 1..T (float64, shape (T,)): the signal kept at each noise level."""
    if schedule == "linear":
        betas = torch.linspace(1e-4, 0.02, timesteps, dtype=torch.float64)
        return torch.cumprod(1 - betas, 0)
    if schedule == "cosine":
        s = 0.008
        t = torch.arange(timesteps + 1, dtype=torch.float64) / timesteps
        f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
        betas = (1 - f[1:] / f[:-1]).clamp(max=0.999)
        return torch.cumprod(1 - betas, 0)
    raise ValueError(f"unknown schedule {schedule!r}: expected one of {', '.join(SCHEDULES)}")


def to_unit(images: np.ndarray) -> torch.Tensor:
    """uint8 (0..255) or float (0..1) images (n, 28, 28) or (n, C, 28, 28) as a float tensor
    (n, 1 or C, 28, 28) in [-1, 1]."""
    x = np.asarray(images)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    return torch.from_numpy(x).reshape(len(x), -1, *x.shape[-2:]) * 2 - 1


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """Tensor images in [-1, 1] (n, C, h, w) as uint8: (n, h, w) when C = 1, else (n, C, h, w)."""
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).squeeze(1).cpu().numpy()


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer steps t (n,) as (n, dim), as in the Transformer."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    angles = t.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(math.gcd(8, channels), channels)


class ResBlock(nn.Module):
    """Two 3x3 convolutions with the step (and class) embedding added in between."""

    def __init__(self, c_in: int, c_out: int, emb: int):
        super().__init__()
        self.norm1, self.conv1 = _norm(c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb, c_out)
        self.norm2, self.conv2 = _norm(c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x, e):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(e)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class UNet(nn.Module):
    """A compact U-Net over three scales with ``channels``, 2x and 2x channels.

    With ``patch`` = 2 the image is first folded into 2 x 2 patches (pixel unshuffle: 28 x 28
    x 1 -> 14 x 14 x 4) and unfolded at the end, so the network works at 14 -> 7 -> 4 pixels
    for about a quarter of the compute while still predicting every pixel. ``image_channels``
    is the number of channels of the images it denoises (1: grey).
    """

    def __init__(self, channels: int = 32, classes: int = 0, patch: int = 1, image_channels: int = 1):
        super().__init__()
        c, e = channels, 4 * channels
        self.c, self.patch = c, patch
        self.time = nn.Sequential(nn.Linear(c, e), nn.SiLU(), nn.Linear(e, e))
        self.label = nn.Embedding(classes + 1, e) if classes else None  # index `classes` = no label
        self.inp = nn.Conv2d(image_channels * patch * patch, c, 3, padding=1)
        self.down1, self.pool1 = ResBlock(c, c, e), nn.Conv2d(c, c, 3, stride=2, padding=1)
        self.down2, self.pool2 = ResBlock(c, 2 * c, e), nn.Conv2d(2 * c, 2 * c, 3, stride=2, padding=1)
        self.mid = ResBlock(2 * c, 2 * c, e)
        self.up2 = ResBlock(4 * c, 2 * c, e)
        self.up1 = ResBlock(3 * c, c, e)
        self.out = nn.Sequential(_norm(c), nn.SiLU(), nn.Conv2d(c, image_channels * patch * patch, 3, padding=1))

    def forward(self, x, t, y=None):
        e = self.time(timestep_embedding(t, self.c))
        if self.label is not None:
            null = self.label.num_embeddings - 1
            e = e + self.label(torch.full((len(x),), null, device=x.device) if y is None else y)
        if self.patch > 1:
            x = F.pixel_unshuffle(x, self.patch)
        h1 = self.down1(self.inp(x), e)
        h2 = self.down2(self.pool1(h1), e)
        m = self.mid(self.pool2(h2), e)
        u = self.up2(torch.cat([F.interpolate(m, size=h2.shape[-2:]), h2], 1), e)
        u = self.up1(torch.cat([F.interpolate(u, size=h1.shape[-2:]), h1], 1), e)
        u = self.out(u)
        return F.pixel_shuffle(u, self.patch) if self.patch > 1 else u


@dataclass(frozen=True)
class DDPMArchitecture(Settings):
    """What shapes a DDPM's weights: the U-Net's base width ``channels``, its ``patch`` size, the
    ``timesteps`` T and noise ``schedule`` it denoises, its ``classes`` (0: no label input) and
    its ``image_channels`` (1: grey images (n, 28, 28); C > 1: (n, C, 28, 28))."""

    channels: int = 32
    patch: int = 1
    timesteps: int = 1000
    schedule: str = "cosine"
    classes: int = 0
    image_channels: int = 1


@dataclass(frozen=True)
class DDPMTraining(Settings):
    """How a DDPM trains from scratch: ``steps`` Adam steps of ``batch_size`` images at ``lr``,
    an EMA of decay ``ema``, the label dropped with probability ``p_uncond``."""

    steps: int = 2000
    batch_size: int = 128
    lr: float = 2e-3
    ema: float = 0.999
    p_uncond: float = 0.1


def widen(weights: dict[str, np.ndarray], image_channels: int) -> dict[str, np.ndarray]:
    """The weights of a grey U-Net (:meth:`Diffusion.weights`) widened to ``image_channels``
    channels: its input layer sees each channel through the grey filters scaled by
    1 / sqrt(C) (so the summed noise keeps its variance) and its output layer predicts the grey
    noise for every channel; a starting point to fine-tune on C-channel images."""
    out = dict(weights)
    out["inp.weight"] = np.concatenate([weights["inp.weight"]] * image_channels, axis=1) / math.sqrt(image_channels)
    for key in ("out.2.weight", "out.2.bias"):
        out[key] = np.concatenate([weights[key]] * image_channels, axis=0)
    return out


class Diffusion:
    """A DDPM of ``architecture`` trained as ``training`` says, one model per replicate (``batched = False``).

    ``training.steps`` training steps at the first step of the loop (and at every step unless
    ``warm_start``, which continues from the current weights for ``warm_steps``).
    ``architecture.classes > 0`` gives the network a label input (index ``classes`` means "no
    label"); ``conditional`` (default: ``classes > 0``) trains and samples with labels:
    ``labeller(images) -> labels`` labels the training data (real or synthetic) and
    ``guidance`` is the classifier-free weight w. A conditional model is a model of (image,
    label): it samples labels in the proportions of its last training set's labels (so the
    classes can drift from generation to generation) unless given labels. An unconditional
    model with ``classes > 0`` always passes "no label".

    ``pretrained`` (arrays of :meth:`weights`) is a starting model that learned the data: the
    fit at the first step loads it instead of training, and a fit that does not warm-start
    fine-tunes it for ``warm_steps`` (retrain-from-pretrained) instead of training from noise.
    """

    batched = False

    def __init__(
        self,
        architecture: DDPMArchitecture = DDPMArchitecture(),
        training: DDPMTraining = DDPMTraining(),
        *,
        sampler: str = "ddim",
        sample_steps: int = 50,
        guidance: float = 0.0,
        conditional: bool | None = None,
        labeller: Callable[[np.ndarray], np.ndarray] | None = None,
        warm_steps: int = 500,
        warm_start: bool = True,
        pretrained: dict[str, np.ndarray] | None = None,
        progress: bool = True,
    ):
        classes = architecture.classes
        self.conditional = bool(classes) if conditional is None else conditional
        if self.conditional and not classes:
            raise ValueError("a class-conditional model needs classes > 0")
        if self.conditional and labeller is None:
            raise ValueError("a class-conditional model needs a labeller for its training images")
        self.architecture, self.training = architecture, training
        self.abar = alpha_bars(architecture.schedule, architecture.timesteps)  # float64, kept on the CPU
        self.sampler = make_sampler(sampler, self.abar, sample_steps)
        self.pretrained = pretrained
        self.guidance, self.warm_steps, self.warm_start = guidance, warm_steps, warm_start
        self.labeller, self.progress = labeller, progress
        self.device = default_device()
        self.net = self._unet()
        self.ema_net = copy.deepcopy(self.net).requires_grad_(False)
        self.label_share = np.full(max(classes, 1), 1 / max(classes, 1))  # the labels' proportions

    @property
    def fit_settings(self) -> dict:
        """The settings its first fit depends on (what :class:`~.fitcache.FirstFitCache` keys)."""
        architecture = asdict(self.architecture)
        if architecture["image_channels"] == 1:  # grey models keep the keys their cached fits were stored under
            del architecture["image_channels"]
        return {**architecture, **asdict(self.training), "conditional": self.conditional}

    def _unet(self) -> UNet:
        arch = self.architecture
        return UNet(arch.channels, arch.classes, arch.patch, arch.image_channels).to(self.device)

    # -- training ------------------------------------------------------------------------
    def _reset(self, generator: torch.Generator) -> None:
        with seeded(int(torch.randint(2**62, (1,), generator=generator))):
            self.net = self._unet()
        self.ema_net = copy.deepcopy(self.net).requires_grad_(False)

    def weights(self) -> dict[str, np.ndarray]:
        """The sampling (EMA) network's weights as CPU arrays: what a shipped starting model holds."""
        return {k: v.detach().cpu().numpy().copy() for k, v in self.ema_net.state_dict().items()}

    def start_from(self, weights: dict[str, np.ndarray]) -> None:
        """Set both the trained and the sampling network to ``weights`` (see :meth:`weights`)."""
        tensors = {k: torch.tensor(v, dtype=torch.float32) for k, v in weights.items()}
        for net in (self.net, self.ema_net):
            net.load_state_dict(tensors)
        self.net.eval()

    def fit(self, data: np.ndarray, step: Step) -> None:
        """Train on ``data`` (n, 28, 28) or (n, C, 28, 28) as :func:`.starting.begin_fit` says for ``step``;
        consumes exactly one draw of ``step.rng``."""
        generator = torch_generator(step.rng)
        labels = None
        if self.conditional:
            labels = np.asarray(self.labeller(np.asarray(data)), dtype=np.int64)
            self.label_share = np.bincount(labels, minlength=self.architecture.classes) / len(labels)
        begin = begin_fit(self, step)
        if begin == "given":
            return
        if begin == "cold":
            self._reset(generator)
        x0 = to_unit(data).to(self.device)
        if labels is not None:
            labels = torch.as_tensor(labels, device=self.device)
        steps = self.warm_steps if begin == "warm" else self.training.steps
        self.train_steps(self.trainer(steps, self.progress), x0, labels, range(steps), generator)

    def loss(self, x0: torch.Tensor, labels: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
        """The simple DDPM loss (mean squared error of the predicted noise) on a batch.

        The noise comes from the CPU ``generator`` and is moved to the model's device."""
        n, T, dev = len(x0), self.architecture.timesteps, self.device
        t = torch.randint(0, T, (n,), generator=generator)
        eps = torch.randn(x0.shape, generator=generator).to(dev)
        ab = self.abar[t].float()[:, None, None, None].to(dev)
        t, x0 = t.to(dev), x0.to(dev)
        xt = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
        y = None
        if labels is not None:
            drop = torch.rand(n, generator=generator).to(dev) < self.training.p_uncond
            y = torch.where(drop, self.architecture.classes, labels.to(dev))
        return F.mse_loss(self.net(xt, t, y), eps)

    def trainer(self, total: int, progress: bool = False) -> Trainer:
        """Adam over ``total`` steps: linear warm-up of the learning rate over min(100, total / 10)
        steps, gradients clipped at norm 1, the sampling network the EMA of the trained one."""
        lr, warmup = self.training.lr, max(1, min(100, total // 10))
        return Trainer(
            [self.net],
            {"adam": torch.optim.Adam(self.net.parameters(), lr=lr)},
            schedule=lambda k: lr * min(1.0, (k + 1) / warmup),
            clip=1.0,
            ema=EMA([(self.ema_net, self.net)], self.training.ema),
            desc="train DDPM",
            progress=progress,
        )

    def train_steps(
        self, trainer: Trainer, x0: torch.Tensor, labels: torch.Tensor | None, steps: range, generator: torch.Generator
    ) -> None:
        """Steps ``steps`` of :meth:`trainer` on random batches of ``x0`` (and ``labels``)."""

        def train_step(k, update):
            idx = batch_index(x0, self.training.batch_size, generator)
            update(self.loss(x0[idx], None if labels is None else labels[idx], generator))

        trainer.run(steps, train_step)

    # -- sampling ------------------------------------------------------------------------
    def _eps(self, x, t: int, y) -> torch.Tensor:
        steps = torch.full((len(x),), t, dtype=torch.long, device=x.device)
        if y is None:
            return self.ema_net(x, steps)
        w = self.guidance
        if w == 0:
            return self.ema_net(x, steps, y)
        null = torch.full_like(y, self.architecture.classes)
        both = self.ema_net(torch.cat([x, x]), torch.cat([steps, steps]), torch.cat([y, null]))
        cond, uncond = both.chunk(2)
        return (1 + w) * cond - w * uncond

    @torch.no_grad()
    def denoise(
        self,
        noise: torch.Tensor,
        labels: torch.Tensor | None = None,
        sampler: DDIM | Ancestral | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Images in [-1, 1] from ``noise`` (n, C, 28, 28) by ``sampler`` (the model's own when
        None), with the sampling network's noise prediction; ``generator`` feeds an ancestral
        sampler. Runs on the model's device (inputs are moved there) and returns a tensor on it."""
        labels = None if labels is None else labels.to(self.device)
        return (sampler or self.sampler).sample(lambda x, t: self._eps(x, t, labels), noise.to(self.device), generator)

    def sample(
        self, n: int, rng: np.random.Generator, labels: np.ndarray | None = None, batch: int = 500
    ) -> np.ndarray:
        """``n`` uint8 images (n, 28, 28), or (n, C, 28, 28) with C = ``image_channels`` > 1, of
        the digits ``labels`` when given (a model with
        ``classes`` > 0); a conditional model draws labels in its training proportions if none
        are given."""
        seed = int(rng.integers(2**62))
        channels = self.architecture.image_channels
        noise = torch.randn((n, channels, 28, 28), generator=torch.Generator().manual_seed(seed))
        y = None
        if labels is not None or self.conditional:
            y = torch.as_tensor(
                labels if labels is not None else rng.choice(self.architecture.classes, size=n, p=self.label_share)
            )
        out = []
        # network passes per image: the sampler's steps, doubled by classifier-free guidance
        passes = self.sampler.passes * (2 if y is not None and self.guidance else 1)
        quiet = not self.progress or (n <= batch and n * passes < 20_000)  # a bar on more than a moment's work
        steps_noise = torch.Generator().manual_seed(seed)  # an ancestral sampler's per-step noise, seeded as the start
        for i in tqdm(range(0, n, batch), desc="sample DDPM", leave=False, disable=quiet):
            out.append(
                self.denoise(noise[i : i + batch], None if y is None else y[i : i + batch], generator=steps_noise)
            )
        if not out:
            return np.zeros((0, 28, 28) if channels == 1 else (0, channels, 28, 28), np.uint8)
        return to_uint8(torch.cat(out))

    # -- checkpoints ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """The weights and the labels' proportions as CPU numpy arrays (whatever the device)."""
        out = {f"net/{k}": v.detach().cpu().numpy().copy() for k, v in self.net.state_dict().items()}
        out.update({f"ema/{k}": v.detach().cpu().numpy().copy() for k, v in self.ema_net.state_dict().items()})
        out["label_share"] = self.label_share.copy()
        return out

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Load :meth:`state_dict`'s arrays (saved on any device) onto this model's device."""
        for prefix, net in (("net/", self.net), ("ema/", self.ema_net)):
            net.load_state_dict(
                {k[len(prefix) :]: torch.from_numpy(np.array(v)) for k, v in state.items() if k.startswith(prefix)}
            )
        self.label_share = np.array(state["label_share"], dtype=np.float64)
