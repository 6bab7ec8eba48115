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
