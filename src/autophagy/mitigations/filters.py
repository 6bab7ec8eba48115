"""Filters that screen a scraped pool before training: detectors and provenance labels.

A filter is called as ``filter(samples, origin, rng)`` and returns a boolean mask of the
samples it keeps, shaped like ``origin``: the samples' leading axes, (n,) or (replicates, n)
(see :class:`autophagy.engine.loop.LoopSpec`; the loop scrapes again until it has enough). ``origin`` is the truth about each
sample (0: real); a *simulated* filter uses it to make errors at given rates, which is how a
sweep shows how good a detector must be without training one per setting.

- :class:`Detector`: flags a synthetic sample with probability ``tpr`` (true-positive rate)
  and a real one with probability ``fpr`` (false-positive rate); flagged samples are dropped.
- :func:`provenance`: a share ``adoption`` of producers label what they make; labelled samples
  are dropped and nothing real is: a detector with ``tpr = adoption`` and ``fpr = 0``.
- :class:`ScoreFilter`: drops samples whose score (a watermark z-score, a classifier's
  probability of being synthetic) exceeds a threshold: a real detector, origin unused.
- :func:`chain`: several filters one after the other.
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Filter = Callable[[Any, np.ndarray, np.random.Generator], np.ndarray]


class Detector:
    """A simulated real-vs-synthetic detector with error rates ``tpr`` and ``fpr``."""

    def __init__(self, tpr: float, fpr: float):
        if not (0 <= tpr <= 1 and 0 <= fpr < 1):
            raise ValueError("tpr must be in [0, 1] and fpr in [0, 1)")
        self.tpr, self.fpr = tpr, fpr

    def __call__(self, samples: Any, origin: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return rng.random(origin.shape) >= np.where(origin > 0, self.tpr, self.fpr)


def provenance(adoption: float) -> Detector:
    """Origin labels carried by a share ``adoption`` of synthetic samples (never by real ones)."""
    return Detector(tpr=adoption, fpr=0.0)


class ScoreFilter:
    """Drops the samples whose ``score(samples)`` (one number each) exceeds ``threshold``."""

    def __init__(self, score: Callable[[Any], np.ndarray], threshold: float):
        self.score, self.threshold = score, threshold

    def __call__(self, samples: Any, origin: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.asarray(self.score(samples)) <= self.threshold


def chain(filters: list[Filter]) -> Filter | None:
    """One filter applying ``filters`` in order (None when there are none)."""
    if not filters:
        return None

    def apply(samples: Any, origin: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        kept = np.ones(origin.shape, dtype=bool)
        for screen in filters:
            kept &= screen(samples, origin, rng)
        return kept

    return apply


def from_params(params: dict[str, Any]) -> Filter | None:
    """The filters the parameters ask for: provenance labels first, then the detector."""
    filters: list[Filter] = []
    if params.get("provenance", 0) > 0:
        filters.append(provenance(params["provenance"]))
    if params.get("detector_tpr", 0) > 0 or params.get("detector_fpr", 0) > 0:
        filters.append(Detector(params["detector_tpr"], params["detector_fpr"]))
    return chain(filters)
