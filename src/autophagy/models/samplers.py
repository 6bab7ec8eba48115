"""The two DDPM samplers, apart from the network: each holds a noise schedule and turns
starting noise into images with a noise predictor ``eps(x, t)``.

- :class:`DDIM`: the deterministic DDIM update (eta = 0; Song et al., 2021) on ``steps``
  evenly spaced steps, so the same starting noise gives the same image.
- :class:`Ancestral`: the T reverse steps of Ho et al. (2020) with sigma_t^2 = beta_t,
  drawing fresh noise at each step from a CPU generator.

Both predict x_0 from (x_t, eps) and clip it to [-1, 1] before stepping.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

Eps = Callable[[torch.Tensor, int], torch.Tensor]  # eps(x_t, t) -> predicted noise, shaped like x_t


def _x0(x: torch.Tensor, eps: torch.Tensor, a_t: torch.Tensor) -> torch.Tensor:
    """The image that (x_t, eps) imply, x_0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t), clipped."""
    return ((x - (1 - a_t).sqrt() * eps) / a_t.sqrt()).clamp(-1, 1)


class DDIM:
    """Deterministic DDIM on ``steps`` (at most T) evenly spaced steps of schedule ``abar``
    (abar_t for t = 1..T, as :func:`~autophagy.models.diffusion.alpha_bars` gives)."""

    def __init__(self, abar: torch.Tensor, steps: int):
        self.abar, self.steps = abar, min(steps, len(abar))

    @property
    def passes(self) -> int:
        """Network passes per image."""
        return self.steps

    def sample(self, eps: Eps, noise: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Images in [-1, 1] from ``noise`` (on its device); draws no random numbers."""
        T, x = len(self.abar), noise
        ab = self.abar.float().to(x.device)
        one = torch.ones((), device=x.device)
        ts = np.unique(np.round(np.linspace(T - 1, 0, self.steps)).astype(int))[::-1]
        for i, t in enumerate(ts):
            a_t = ab[t]
            a_prev = ab[ts[i + 1]] if i + 1 < len(ts) else one
            x0 = _x0(x, eps(x, int(t)), a_t)
            implied = (x - a_t.sqrt() * x0) / (1 - a_t).sqrt()  # the noise that the clipped x_0 implies
            x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * implied
        return x


class Ancestral:
    """Ancestral sampling over all T steps of schedule ``abar``: x_{t-1} is drawn from the
    posterior q(x_{t-1} | x_t, x_0) with x_0 predicted from eps (Ho et al., eq. 7)."""

    def __init__(self, abar: torch.Tensor):
        self.abar = abar

    @property
    def passes(self) -> int:
        """Network passes per image."""
        return len(self.abar)

    def sample(self, eps: Eps, noise: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Images in [-1, 1] from ``noise`` (on its device); the fresh noise of each step comes
        from the CPU ``generator`` (torch's global one when None) and is moved there."""
        T, x = len(self.abar), noise
        ab = self.abar.float().to(x.device)
        one = torch.ones((), device=x.device)
        for t in range(T - 1, -1, -1):
            a_t = ab[t]
            a_prev = ab[t - 1] if t > 0 else one
            beta = 1 - a_t / a_prev
            x0 = _x0(x, eps(x, t), a_t)
            mean = (a_prev.sqrt() * beta * x0 + (1 - beta).sqrt() * (1 - a_prev) * x) / (1 - a_t)
            x = mean + (
                beta.sqrt() * torch.randn(x.shape, dtype=x.dtype, generator=generator).to(x.device) if t > 0 else 0
            )
        return x


SAMPLERS: dict[str, type[DDIM] | type[Ancestral]] = {"ddim": DDIM, "ancestral": Ancestral}


def make_sampler(name: str, abar: torch.Tensor, ddim_steps: int) -> DDIM | Ancestral:
    """Sampler ``name`` of :data:`SAMPLERS` on schedule ``abar`` (DDIM on ``ddim_steps`` steps)."""
    if name not in SAMPLERS:
        raise ValueError(f"unknown sampler {name!r}: expected one of {', '.join(SAMPLERS)}")
    return DDIM(abar, ddim_steps) if name == "ddim" else Ancestral(abar)
