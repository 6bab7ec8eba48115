"""Curation by a reward, and verification against the truth: two ways of choosing what to keep.

- :func:`reward_curation`: keep the best share of the candidates by a *narrow* reward (here,
  closeness to a preferred value). Ferbach et al. show that a loop curated this way maximises
  the reward: it drifts to the reward's peak and loses its diversity (Xing et al.'s Figure 3b).
- :class:`GaussianVerifier`: a screen that checks each sample against the real distribution.
  A perfect verifier accepts a sample x with probability r(x) / M, where r = p_real / p_batch is
  the density ratio of the truth to the model that made the sample: rejection sampling, so what passes
  is distributed like real data (Feng et al.: synthetic data helps once it is verified). A
  verifier of *accuracy* a gives that informed verdict with probability a and otherwise
  accepts at random at the same average rate, so what passes is, in distribution, the mixture
  a * truth + (1 - a) * model: like `fresh` data of real fraction a, without drawing any
  real data (:func:`autophagy.theory.verified_fixed_point`).

  On a scraped pool that mixes real data with a share s of synthetic data (the web modes) the
  informed verdict accepts with probability proportional to p_real / p_pool, where
  p_pool = (1 - s) p_real + s p_model, so that what passes is again distributed like real data.
  The verifier knows s, the pool's synthetic share, but not which samples are synthetic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .selection import TopFraction


def reward_curation(target: float, fraction: float, axis: int = 1) -> TopFraction:
    """Keep the ``fraction`` of candidates with the highest reward ``-abs(x - target)``."""
    return TopFraction(lambda samples: -np.abs(samples - target), fraction, axis=axis)


class GaussianVerifier:
    """Screens a batched Gaussian model's samples (replicates on axis 0) against what it holds
    true: N(belief_mu, belief_sigma^2), the truth N(0, 1) unless told otherwise (a verifier
    that learned the truth from finite data believes its own fit, one per replicate).

    ``model()`` returns the model whose samples are screened (its ``mu`` and ``sigma``, one per
    replicate, give the density ratio); the envelope M is the largest ratio in the batch, so
    the sample most typical of the belief always passes (exact rejection sampling where the
    ratio is bounded, sigma > belief_sigma; nearly so otherwise).
    """

    def __init__(self, accuracy: float, model: Callable[[], Any], belief_mu=0.0, belief_sigma=1.0):
        if not 0 <= accuracy <= 1:
            raise ValueError("accuracy must be in [0, 1]")
        self.accuracy, self.model = accuracy, model
        self.belief_mu, self.belief_sigma = np.asarray(belief_mu, dtype=float), np.asarray(belief_sigma, dtype=float)

    def acceptance(self, samples: np.ndarray, synthetic_share=1.0) -> np.ndarray:
        """The informed verdict's probability of accepting each sample (shaped like ``samples``)
        from a pool whose share ``synthetic_share`` (one per replicate, or one number) the
        model made: r / ((1 - s) r + s), r = p_belief / p_model, scaled so the batch's most
        acceptable sample passes."""
        model = self.model()
        sigma = np.maximum(model.sigma, 1e-300)[:, None]
        z = (samples - model.mu[:, None]) / sigma
        belief_sigma = np.reshape(self.belief_sigma, (-1, 1))
        believed = (samples - np.reshape(self.belief_mu, (-1, 1))) / belief_sigma
        log_ratio = 0.5 * (z**2 - believed**2) + np.log(sigma / belief_sigma)
        share = np.reshape(np.asarray(synthetic_share, dtype=float), (-1, 1))
        with np.errstate(divide="ignore"):  # s = 1 (all synthetic) or s = 0 (all real) are the ends
            log_accept = -np.logaddexp(np.log1p(-share), np.log(share) - log_ratio)
        return np.exp(log_accept - log_accept.max(axis=-1, keepdims=True))

    def __call__(self, samples: np.ndarray, origin: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        synthetic_share = (np.asarray(origin) != 0).mean(axis=-1)  # how much of the pool, not which samples
        informed = self.acceptance(np.asarray(samples, dtype=float), synthetic_share)
        at_random = informed.mean(axis=-1, keepdims=True)
        listens = rng.random(informed.shape) < self.accuracy
        return rng.random(informed.shape) < np.where(listens, informed, at_random)
