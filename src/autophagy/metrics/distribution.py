"""Distances between distributions for the toy models."""

from __future__ import annotations

import numpy as np


def w2_gaussian(mu1, sigma1, mu2=0.0, sigma2=1.0):
    """2-Wasserstein distance between N(mu1, sigma1^2) and N(mu2, sigma2^2), elementwise."""
    return np.sqrt((np.asarray(mu1) - mu2) ** 2 + (np.asarray(sigma1) - sigma2) ** 2)
