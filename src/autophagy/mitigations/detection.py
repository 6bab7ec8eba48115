"""Trained real-vs-synthetic detectors, for text and for images.

Text: how surprising a text is to a reference model. Machine text is, on average, more probable under a language model than human text (the idea
behind perplexity-based detectors such as GLTR and DetectGPT). The detector scores each token
block by the mean and the spread of its tokens' log-probabilities under a reference model
fitted on real text, and a logistic regression on those two features separates real from
synthetic blocks.

Images: a small CNN (the book's feature classifier, with two outputs) trained on real images
and a generator's samples.

A detector's measured rates on held-out data are what a simulated
:class:`~autophagy.mitigations.filters.Detector` then uses in the loop.
"""  # noqa: E501

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from ..models.image_classifier import train_classifier


def features(reference, blocks: np.ndarray) -> np.ndarray:
    """(B, 2): mean and standard deviation of the tokens' log-probabilities under ``reference``
    (a model with ``token_probs(blocks)``, such as :class:`~autophagy.models.ngram.NGram`)."""
    logp = np.log(np.clip(reference.token_probs(blocks), 1e-300, None))
    return np.column_stack([logp.mean(axis=1), logp.std(axis=1)])


class _Measured:
    """Error rates of a detector with ``flags(samples)`` (True: called synthetic)."""

    def rates(self, real, synthetic) -> tuple[float, float]:
        """(true-positive rate on ``synthetic``, false-positive rate on ``real``)."""
        return float(self.flags(synthetic).mean()), float(self.flags(real).mean())


class PerplexityDetector(_Measured):
    """Flags a block as synthetic when the logistic regression's probability exceeds 1/2."""

    def __init__(self, reference):
        self.reference = reference
        self.classifier = LogisticRegression()

    def fit(self, real: np.ndarray, synthetic: np.ndarray) -> PerplexityDetector:
        x = np.vstack([features(self.reference, real), features(self.reference, synthetic)])
        y = np.r_[np.zeros(len(real)), np.ones(len(synthetic))]
        self.classifier.fit(x, y)
        return self

    def flags(self, blocks: np.ndarray) -> np.ndarray:
        """True for the blocks the detector calls synthetic."""
        return self.classifier.predict_proba(features(self.reference, blocks))[:, 1] > 0.5


class ImageDetector(_Measured):
    """Flags an image (uint8, 28 x 28) as synthetic when the CNN's probability exceeds 1/2."""

    def __init__(self, epochs: int = 3, seed: int = 0):
        self.epochs, self.seed = epochs, seed
        self.net = None

    def fit(self, real: np.ndarray, synthetic: np.ndarray) -> ImageDetector:
        images = np.concatenate([real, synthetic])
        labels = np.r_[np.zeros(len(real), dtype=np.int64), np.ones(len(synthetic), dtype=np.int64)]
        self.net = train_classifier(images, labels, epochs=self.epochs, seed=self.seed, progress=False, classes=2)
        return self

    def flags(self, images: np.ndarray) -> np.ndarray:
        """True for the images the detector calls synthetic."""
        return self.net.probabilities(images)[:, 1] > 0.5
