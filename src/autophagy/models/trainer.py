"""The one training loop of the neural models (DDPM, GAN, GPT, SmolLM2).

A :class:`Trainer` holds a model's named optimisers, an optional learning-rate schedule,
optional gradient clipping, an optional :class:`EMA` and a progress bar; the model gives it a
step function ``step(k, update)`` that computes its losses and hands each to
``update(loss, name)``. A GAN so steps its discriminator and then its generator inside one
step. Random numbers come from CPU ``torch.Generator`` objects seeded from the loop's numpy
``rng`` (:func:`torch_generator`) and are moved to the model's device
(:func:`~autophagy.models.device.default_device`, which also sets torch's CPU threads).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

Update = Callable[..., None]  # update(loss, name=None)


def torch_generator(rng: np.random.Generator) -> torch.Generator:
    """A CPU torch generator seeded by one draw of ``rng`` (one numpy seed fixes the torch numbers)."""
    return torch.Generator().manual_seed(int(rng.integers(2**62)))


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block with torch's global CPU generator seeded by ``seed``, restoring it after
    (for code that draws from the global generator, such as a module's initialisation)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def batch_index(data: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """Indices of a batch of min(``size``, len(``data``)) rows of ``data`` drawn with
    replacement from the CPU ``generator``, on ``data``'s device."""
    return torch.randint(0, len(data), (min(size, len(data)),), generator=generator).to(data.device)


class EMA:
    """An exponential moving average of each source network's parameters, kept in its target.

    After step k, target <- decay target + (1 - decay) source, with decay = min(``rate``,
    (1 + k) / (10 + k)): short memory at the start, ``rate`` later."""

    def __init__(self, pairs: Sequence[tuple[nn.Module, nn.Module]], rate: float):
        self.pairs, self.rate = pairs, rate

    def decay(self, k: int) -> float:
        return min(self.rate, (1 + k) / (10 + k))

    @torch.no_grad()
    def update(self, k: int) -> None:
        weight = 1 - self.decay(k)
        for target, source in self.pairs:
            for pe, p in zip(target.parameters(), source.parameters()):
                pe.lerp_(p, weight)


class Trainer:
    """Training steps for ``nets`` (in train mode during :meth:`run`, eval mode after).

    ``optimizers`` by name (the names key their moments in checkpoints); ``schedule(k)`` is
    the learning rate of every optimiser at step k (None: left as set); ``clip`` bounds the
    gradient norm of each optimiser's parameters before its step; ``ema`` follows every step.
    Resumable: a later :meth:`run` over the next slice of steps continues where one stopped.
    """

    def __init__(
        self,
        nets: Sequence[nn.Module],
        optimizers: dict[str, torch.optim.Optimizer],
        *,
        schedule: Callable[[int], float] | None = None,
        clip: float | None = None,
        ema: EMA | None = None,
        desc: str = "train",
        progress: bool = False,
    ):
        self.nets, self.optimizers = nets, optimizers
        self.schedule, self.clip, self.ema = schedule, clip, ema
        self.desc, self.progress = desc, progress

    def update(self, loss: torch.Tensor, name: str | None = None) -> None:
        """Back-propagate ``loss`` and step optimiser ``name`` (the only one when None)."""
        opt = self.optimizers[name] if name is not None else next(iter(self.optimizers.values()))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.clip is not None:
            nn.utils.clip_grad_norm_([p for group in opt.param_groups for p in group["params"]], self.clip)
        opt.step()

    def run(self, steps: range, step: Callable[[int, Update], None]) -> None:
        """Call ``step(k, self.update)`` for each k of ``steps``, the schedule before, the EMA after."""
        for net in self.nets:
            net.train()
        for k in tqdm(steps, desc=self.desc, leave=False, disable=not self.progress):
            if self.schedule is not None:
                lr = self.schedule(k)
                for opt in self.optimizers.values():
                    for group in opt.param_groups:
                        group["lr"] = lr
            step(k, self.update)
            if self.ema is not None:
                self.ema.update(k)
        for net in self.nets:
            net.eval()
