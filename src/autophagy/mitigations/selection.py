"""Selection hooks: keep the best ``n`` of ``n / q`` candidate samples by a score.

Selecting by a quality score is curation (Xing et al.'s Figure 3b); selecting the samples
closest to the centre is sampling bias. Both cut the tails of the next training set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


class TopFraction:
    """Draw ``n / fraction`` candidates, keep the ``n`` with the highest ``score``.

    ``score(samples)`` returns one number per sample, shaped like the samples' leading
    axes; ``axis`` is the sample axis (1 when replicates are batched on axis 0).
    """

    def __init__(self, score: Callable[[Any], np.ndarray], fraction: float, axis: int = 0):
        if not 0 < fraction <= 1:
            raise ValueError("fraction must be in (0, 1]")
        self.score = score
        self.fraction = fraction
        self.axis = axis

    @property
    def draw_factor(self) -> float:
        return 1.0 / self.fraction

    def __call__(self, samples: Any, n: int, rng: np.random.Generator) -> Any:
        scores = np.asarray(self.score(samples))
        best = np.argsort(-scores, axis=self.axis, kind="stable")
        if self.axis == 0:
            return samples[best[:n]]
        best = best[:, :n]
        return np.take_along_axis(samples, best.reshape(best.shape + (1,) * (samples.ndim - 2)), axis=1)


def central(fraction: float, axis: int = 1) -> TopFraction:
    """Keep the central ``fraction`` of each replicate's samples (closest to its median)."""

    def closeness(samples: np.ndarray) -> np.ndarray:
        centre = np.median(samples, axis=axis, keepdims=True)
        return -np.abs(samples - centre)

    return TopFraction(closeness, fraction, axis=axis)


class Stratified:
    """Reparation by stratified resampling (Wyllie, Shumailov & Papernot, 2024): the ``n``
    samples keep each group in its real proportion, ``shares[g]`` of them of group ``g``
    (``group(samples)`` returns each sample's group, 0 .. len(shares) - 1). A group is drawn
    without replacement when it has enough samples and with replacement (oversampled) when it
    has too few; a group with no sample at all cannot be restored, and its place goes to the
    others in proportion. Samples on axis 0 (one replicate)."""

    draw_factor = 1.0

    def __init__(self, group: Callable[[Any], np.ndarray], shares: list[float]):
        if not np.isclose(sum(shares), 1) or min(shares) <= 0:
            raise ValueError("the group shares must be positive and sum to 1")
        self.group, self.shares = group, np.asarray(shares, dtype=np.float64)

    def counts(self, present: np.ndarray, n: int) -> np.ndarray:
        """How many of ``n`` samples each group gets, given which groups are ``present``:
        ``n * share`` rounded (largest remainders), over the present groups only."""
        shares = np.where(present, self.shares, 0.0)
        exact = n * shares / shares.sum()
        out = np.floor(exact).astype(np.int64)
        out[np.argsort(out - exact, kind="stable")[: n - out.sum()]] += 1
        return out

    def __call__(self, samples: Any, n: int, rng: np.random.Generator) -> Any:
        groups = np.asarray(self.group(samples))
        members = [np.flatnonzero(groups == g) for g in range(len(self.shares))]
        counts = self.counts(np.array([len(m) > 0 for m in members]), n)
        index = [rng.choice(m, size=k, replace=len(m) < k) for m, k in zip(members, counts) if k]
        return samples[np.sort(np.concatenate(index))]
