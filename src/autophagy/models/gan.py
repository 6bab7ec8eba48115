"""A small style-based GAN with the truncation trick, for 28 x 28 grey images.

Written from Karras et al. (2019): a *mapping network* turns the latent z ~ N(0, I) into
an intermediate latent w; the *synthesis network* starts from a learned 7 x 7 constant and,
at every layer, re-styles its normalised feature maps with a scale and bias computed from w
(adaptive instance normalisation), upsampling 7 -> 14 -> 28. The *truncation trick* draws
w' = w_mean + psi (w - w_mean), with w_mean the running mean of w over training: psi < 1
trades diversity for typical, cleaner images (psi = 0.7 in Xing et al.'s Figure 3c). Per-pixel
noise inputs and progressive growing are left out at this size.

Training: the non-saturating logistic loss with an R1 gradient penalty on real images
(applied every ``r1_every`` steps, "lazily", as in StyleGAN2), Adam with betas (0, 0.99),
and an exponential moving average of the generator used for sampling. Images enter as
uint8 or float (0..1) arrays (n, 28, 28) and leave as uint8. The networks live on
:func:`~autophagy.models.device.default_device`; latents are drawn on the CPU and moved there.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..engine.step import Step
from .device import default_device
from .diffusion import to_uint8, to_unit
from .starting import Settings, begin_fit
from .trainer import EMA, Trainer, batch_index, seeded, torch_generator


class Mapping(nn.Module):
    """z (n, z_dim) -> w (n, z_dim): pixel-normalised input, ``layers`` LeakyReLU layers."""

    def __init__(self, z_dim: int, layers: int = 3):
        super().__init__()
        blocks = []
        for _ in range(layers):
            blocks += [nn.Linear(z_dim, z_dim), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*blocks)

    def forward(self, z):
        z = z * torch.rsqrt(z.square().mean(1, keepdim=True) + 1e-8)
        return self.net(z)


class StyledConv(nn.Module):
    """3x3 convolution, LeakyReLU, then instance norm re-styled by w (AdaIN)."""

    def __init__(self, c_in: int, c_out: int, w_dim: int):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.style = nn.Linear(w_dim, 2 * c_out)

    def forward(self, x, w):
        x = F.leaky_relu(self.conv(x), 0.2)
        scale, bias = self.style(w)[:, :, None, None].chunk(2, dim=1)
        return F.instance_norm(x) * (1 + scale) + bias


class Synthesis(nn.Module):
    """w -> image in [-1, 1] (n, 1, 28, 28), from a learned 7 x 7 constant."""

    def __init__(self, w_dim: int, channels: int):
        super().__init__()
        c = channels
        self.const = nn.Parameter(torch.randn(1, 2 * c, 7, 7))
        self.b7 = StyledConv(2 * c, 2 * c, w_dim)
        self.b14 = StyledConv(2 * c, c, w_dim)
        self.b28 = StyledConv(c, c, w_dim)
        self.to_image = nn.Conv2d(c, 1, 1)

    def forward(self, w):
        x = self.b7(self.const.expand(len(w), -1, -1, -1), w)
        x = self.b14(F.interpolate(x, scale_factor=2.0), w)
        x = self.b28(F.interpolate(x, scale_factor=2.0), w)
        return torch.tanh(self.to_image(x))


class Discriminator(nn.Module):
    """image (n, 1, 28, 28) -> logit (n,): two strided convolutions and a linear layer."""

    def __init__(self, channels: int):
        super().__init__()
        c = channels
        self.net = nn.Sequential(
            nn.Conv2d(1, c, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(c, 2 * c, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(2 * c * 49, 1),
        )

    def forward(self, x):
        return self.net(x).squeeze(1)


@dataclass(frozen=True)
class GANArchitecture(Settings):
    """What shapes the GAN's weights: the base width ``channels`` of both networks and the
    latent size ``z_dim`` of z and w."""

    channels: int = 32
    z_dim: int = 64


@dataclass(frozen=True)
class GANTraining(Settings):
    """How the GAN trains from scratch: ``steps`` steps of ``batch_size`` images with Adam at
    ``lr``, the R1 penalty of weight ``r1_gamma`` every ``r1_every`` steps, an EMA of decay ``ema``."""

    steps: int = 3000
    batch_size: int = 64
    lr: float = 2e-3
    r1_gamma: float = 1.0
    r1_every: int = 4
    ema: float = 0.999


class StyleGAN:
    """A style-based GAN of ``architecture`` with truncation ``psi``, one model per replicate (``batched = False``).

    ``training.steps`` training steps at the first step of the loop (and at every step unless
    ``warm_start``, which continues for ``warm_steps``). ``psi`` acts only on sampling. With
    ``pretrained`` (arrays of :meth:`weights`) the first step is that starting model itself,
    and a fit that does not warm-start fine-tunes it for ``warm_steps`` instead of training anew.
    """

    batched = False

    def __init__(
        self,
        architecture: GANArchitecture = GANArchitecture(),
        training: GANTraining = GANTraining(),
        *,
        psi: float = 1.0,
        warm_steps: int = 1000,
        warm_start: bool = True,
        pretrained: dict[str, np.ndarray] | None = None,
        progress: bool = True,
    ):
        if not 0 <= psi <= 1:
            raise ValueError("psi must be in [0, 1]")
        self.architecture, self.training = architecture, training
        self.psi, self.warm_steps, self.warm_start, self.progress = psi, warm_steps, warm_start, progress
        self.pretrained = pretrained
        self.device = default_device()
        self._build()

    @property
    def fit_settings(self) -> dict:
        """The settings its first fit depends on (what :class:`~.fitcache.FirstFitCache` keys)."""
        return {**asdict(self.architecture), **asdict(self.training)}

    def _build(self) -> None:
        c, z = self.architecture.channels, self.architecture.z_dim
        dev = self.device
        self.mapping, self.synthesis, self.disc = Mapping(z).to(dev), Synthesis(z, c).to(dev), Discriminator(c).to(dev)
        self.ema_mapping, self.ema_synthesis = copy.deepcopy(self.mapping), copy.deepcopy(self.synthesis)
        self.w_mean = torch.zeros(z, device=dev)

    def fit(self, data: np.ndarray, step: Step) -> None:
        """Train on ``data`` (n, 28, 28) as :func:`.starting.begin_fit` says for ``step``;
        consumes exactly one draw of ``step.rng``."""
        generator = torch_generator(step.rng)
        begin = begin_fit(self, step)
        if begin == "given":
            return
        if begin == "cold":
            with seeded(generator.initial_seed()):
                self._build()
        steps = self.warm_steps if begin == "warm" else self.training.steps
        self.train_steps(self.trainer(self.progress), to_unit(data).to(self.device), range(steps), generator)

    def trainer(self, progress: bool = False) -> Trainer:
        """Adam with betas (0, 0.99) for the generator (mapping and synthesis) and for the
        discriminator, no clipping; the sampling generator is the EMA of the trained one."""
        lr = self.training.lr
        generator = list(self.mapping.parameters()) + list(self.synthesis.parameters())
        optimizers = {
            "generator": torch.optim.Adam(generator, lr=lr, betas=(0.0, 0.99)),
            "discriminator": torch.optim.Adam(self.disc.parameters(), lr=lr, betas=(0.0, 0.99)),
        }
        ema = EMA([(self.ema_mapping, self.mapping), (self.ema_synthesis, self.synthesis)], self.training.ema)
        return Trainer(
            [self.mapping, self.synthesis, self.disc], optimizers, ema=ema, desc="train GAN", progress=progress
        )

    def train_steps(self, trainer: Trainer, real: torch.Tensor, steps: range, generator: torch.Generator) -> None:
        """Steps ``steps`` of :meth:`trainer` on ``real`` (images in [-1, 1]): a discriminator
        step, then a generator step, then w_mean follows the step's latents."""
        cfg = self.training
        z_dim, dev = self.architecture.z_dim, real.device

        def train_step(k, update):
            # discriminator: real -> 1, fake -> 0 (softplus form of the logistic loss)
            x = real[batch_index(real, cfg.batch_size, generator)]
            n = len(x)
            with torch.no_grad():
                fake = self.synthesis(self.mapping(torch.randn(n, z_dim, generator=generator).to(dev)))
            d_loss = F.softplus(self.disc(fake)).mean() + F.softplus(-self.disc(x)).mean()
            if cfg.r1_gamma > 0 and k % cfg.r1_every == 0:
                x = x.detach().requires_grad_(True)
                (grad,) = torch.autograd.grad(self.disc(x).sum(), x, create_graph=True)
                d_loss = d_loss + cfg.r1_gamma / 2 * cfg.r1_every * grad.square().sum((1, 2, 3)).mean()
            update(d_loss, "discriminator")
            # generator: the non-saturating loss
            w = self.mapping(torch.randn(n, z_dim, generator=generator).to(dev))
            update(F.softplus(-self.disc(self.synthesis(w))).mean(), "generator")
            with torch.no_grad():
                self.w_mean.lerp_(w.mean(0), 1 - min(0.995, trainer.ema.decay(k)))

        trainer.run(steps, train_step)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, psi: float | None = None) -> torch.Tensor:
        """Images in [-1, 1] (n, 1, 28, 28) for latents z (n, z_dim), truncated by ``psi``
        (z is moved to the model's device, where the images stay)."""
        psi = self.psi if psi is None else psi
        w = self.ema_mapping(z.to(self.device))
        w = self.w_mean + psi * (w - self.w_mean)
        return self.ema_synthesis(w)

    def sample(self, n: int, rng: np.random.Generator, batch: int = 1000) -> np.ndarray:
        """``n`` uint8 images (n, 28, 28) drawn with the model's truncation psi."""
        generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
        z = torch.randn(n, self.architecture.z_dim, generator=generator)
        out = [self.generate(z[i : i + batch]) for i in range(0, n, batch)]
        return to_uint8(torch.cat(out)) if out else np.zeros((0, 28, 28), np.uint8)

    def weights(self) -> dict[str, np.ndarray]:
        """What a shipped starting model holds: the sampling (EMA) generator, the discriminator
        (so fine-tuning continues the game) and w_mean, as CPU arrays."""
        nets = {"mapping": self.ema_mapping, "synthesis": self.ema_synthesis, "disc": self.disc}
        out = {
            f"{name}/{k}": v.detach().cpu().numpy().copy()
            for name, net in nets.items()
            for k, v in net.state_dict().items()
        }
        out["w_mean"] = self.w_mean.cpu().numpy().copy()
        return out

    def start_from(self, weights: dict[str, np.ndarray]) -> None:
        """Set the trained and the sampling generator, the discriminator and w_mean to ``weights``."""

        def part(name: str) -> dict[str, torch.Tensor]:
            head = name + "/"
            return {
                k[len(head) :]: torch.tensor(v, dtype=torch.float32) for k, v in weights.items() if k.startswith(head)
            }

        for net, name in (
            (self.mapping, "mapping"),
            (self.ema_mapping, "mapping"),
            (self.synthesis, "synthesis"),
            (self.ema_synthesis, "synthesis"),
            (self.disc, "disc"),
        ):
            net.load_state_dict(part(name))
        self.w_mean = torch.tensor(weights["w_mean"], dtype=torch.float32).to(self.device)

    def state_dict(self) -> dict[str, np.ndarray]:
        """The weights and w_mean as CPU numpy arrays (whatever the device)."""
        nets = {
            "mapping": self.mapping,
            "synthesis": self.synthesis,
            "disc": self.disc,
            "ema_mapping": self.ema_mapping,
            "ema_synthesis": self.ema_synthesis,
        }
        out = {
            f"{name}/{k}": v.detach().cpu().numpy().copy()
            for name, net in nets.items()
            for k, v in net.state_dict().items()
        }
        out["w_mean"] = self.w_mean.cpu().numpy().copy()
        return out

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        for name in ("mapping", "synthesis", "disc", "ema_mapping", "ema_synthesis"):
            head = name + "/"
            getattr(self, name).load_state_dict(
                {k[len(head) :]: torch.from_numpy(np.array(v)) for k, v in state.items() if k.startswith(head)}
            )
        self.w_mean = torch.from_numpy(np.array(state["w_mean"])).to(self.device)
