"""Self-correction (Gillman et al. 2024): before the next generation trains on a synthetic
sample, move it a fraction gamma of the way to where an ideal correction would put it.

For a Gaussian model N(mu, sigma^2) of the truth N(mu0, sigma0^2) the ideal correction is the
optimal transport map T(x) = mu0 + sigma0 (x - mu) / sigma, and x + gamma (T(x) - x) is again an
affine map of x: it moves sufficient statistics exactly as it moves the points.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..models.gaussian import Gaussian, GaussianStats


def towards_truth(gamma: float, mu0: float = 0.0, sigma0: float = 1.0) -> Callable[[object, Gaussian], object]:
    """The correction hook: ``correct(samples, model)`` for a batched :class:`Gaussian`'s
    samples (an array (replicates, n) or their :class:`GaussianStats`)."""

    def correct(samples, model: Gaussian):
        scale = (1 - gamma) + gamma * sigma0 / model.sigma  # x' = scale x + shift, per replicate
        shift = gamma * (mu0 - sigma0 * model.mu / model.sigma)
        if isinstance(samples, GaussianStats):
            return GaussianStats(samples.count, scale * samples.mean + shift, scale**2 * samples.m2)
        return scale[:, None] * np.asarray(samples) + shift[:, None]

    return correct
