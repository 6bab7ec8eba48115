"""Distances between distributions for the toy models."""

from __future__ import annotations

import numpy as np


def w2_gaussian(mu1, sigma1, mu2=0.0, sigma2=1.0):
    """2-Wasserstein distance between N(mu1, sigma1^2) and N(mu2, sigma2^2), elementwise."""
    return np.sqrt((np.asarray(mu1) - mu2) ** 2 + (np.asarray(sigma1) - sigma2) ** 2)


def mixture_quantiles(weights, means, stds, u: np.ndarray, grid: int = 20_001) -> np.ndarray:
    """Quantiles at levels ``u`` of a 1-D Gaussian mixture (inverting its CDF on a grid)."""
    from scipy.special import ndtr

    weights, means, stds = (np.asarray(a, dtype=float) for a in (weights, means, stds))
    lo, hi = (means - 9 * stds).min(), (means + 9 * stds).max()
    x = np.linspace(lo, hi, grid)
    cdf = (weights[:, None] * ndtr((x[None, :] - means[:, None]) / stds[:, None])).sum(axis=0)
    return np.interp(u, cdf / weights.sum(), x)


def w2_mixture(weights1, means1, stds1, weights2, means2, stds2, levels: int = 4000) -> float:
    """2-Wasserstein distance between two 1-D Gaussian mixtures (quantile functions on a grid).

    In one dimension W2^2 = integral over u in (0, 1) of (F^-1(u) - G^-1(u))^2; the
    integral is a midpoint rule over ``levels`` quantile levels. Same units as the data.
    """
    u = (np.arange(levels) + 0.5) / levels
    diff = mixture_quantiles(weights1, means1, stds1, u) - mixture_quantiles(weights2, means2, stds2, u)
    return float(np.sqrt(np.mean(diff**2)))
