"""Self-correction (Gillman et al. 2024): before the next generation trains on a synthetic
sample, move it a fraction gamma of the way to where a correction would put it.

For a Gaussian model N(mu, sigma^2) of the truth N(mu0, sigma0^2) the ideal correction is the
optimal transport map T(x) = mu0 + sigma0 (x - mu) / sigma, and x + gamma (T(x) - x) is again an
affine map of x: it moves sufficient statistics exactly as it moves the points. For images the
correction knows only a pool of real pictures: each sample is blended with its nearest one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..models.gaussian import Gaussian, GaussianStats


def towards_truth(gamma: float, mu0: float = 0.0, sigma0: float = 1.0) -> Callable[[object, Gaussian], object]:
    """The correction hook: ``correct(samples, model)`` for a batched :class:`~autophagy.models.gaussian.Gaussian`'s
    samples (an array (replicates, n) or their :class:`~autophagy.models.gaussian.GaussianStats`)."""

    def correct(samples, model: Gaussian):
        scale = (1 - gamma) + gamma * sigma0 / model.sigma  # x' = scale x + shift, per replicate
        shift = gamma * (mu0 - sigma0 * model.mu / model.sigma)
        if isinstance(samples, GaussianStats):
            return GaussianStats(samples.count, scale * samples.mean + shift, scale**2 * samples.m2)
        return scale[:, None] * np.asarray(samples) + shift[:, None]

    return correct


POOL_CHUNK = 4096  # pool images compared at a time


def towards_nearest_real(gamma: float, pool: np.ndarray) -> Callable[[np.ndarray, object], np.ndarray]:
    """The correction hook for images (n, H, W) of uint8: each sample blended, with weight
    ``gamma``, with its nearest neighbour (in pixels) among the real images of ``pool``."""
    flat_pool = pool.reshape(len(pool), -1).astype(np.float32)
    pool_norms = (flat_pool**2).sum(axis=1)

    def correct(samples: np.ndarray, model=None) -> np.ndarray:
        flat = samples.reshape(len(samples), -1).astype(np.float32)
        best, nearest = np.full(len(flat), np.inf, dtype=np.float32), np.zeros(len(flat), dtype=np.int64)
        for start in range(0, len(flat_pool), POOL_CHUNK):  # ||x - p||^2 up to ||x||^2, chunk by chunk
            distance = pool_norms[None, start : start + POOL_CHUNK] - 2 * flat @ flat_pool[start : start + POOL_CHUNK].T
            chunk_best = distance.argmin(axis=1)
            value = distance[np.arange(len(flat)), chunk_best]
            closer = value < best
            best[closer], nearest[closer] = value[closer], start + chunk_best[closer]
        blended = (1 - gamma) * flat + gamma * flat_pool[nearest]
        return np.clip(np.rint(blended), 0, 255).astype(samples.dtype).reshape(samples.shape)

    return correct
