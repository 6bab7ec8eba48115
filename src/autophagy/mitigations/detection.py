"""A trained real-vs-synthetic text detector: how surprising a text is to a reference model.

Machine text is, on average, more probable under a language model than human text (the idea
behind perplexity-based detectors such as GLTR and DetectGPT). The detector scores each token
block by the mean and the spread of its tokens' log-probabilities under a reference model
fitted on real text, and a logistic regression on those two features separates real from
synthetic blocks. Its measured rates on held-out blocks are what a simulated
:class:`~autophagy.mitigations.filters.Detector` then uses in the loop.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression


def features(reference, blocks: np.ndarray) -> np.ndarray:
    """(B, 2): mean and standard deviation of the tokens' log-probabilities under ``reference``
    (a model with ``token_probs(blocks)``, such as :class:`~autophagy.models.ngram.NGram`)."""
    logp = np.log(np.clip(reference.token_probs(blocks), 1e-300, None))
    return np.column_stack([logp.mean(axis=1), logp.std(axis=1)])


class PerplexityDetector:
    """Flags a block as synthetic when the logistic regression's probability exceeds 1/2."""

    def __init__(self, reference):
        self.reference = reference
        self.classifier = LogisticRegression()

    def fit(self, real: np.ndarray, synthetic: np.ndarray) -> "PerplexityDetector":
        x = np.vstack([features(self.reference, real), features(self.reference, synthetic)])
        y = np.r_[np.zeros(len(real)), np.ones(len(synthetic))]
        self.classifier.fit(x, y)
        return self

    def flags(self, blocks: np.ndarray) -> np.ndarray:
        """True for the blocks the detector calls synthetic."""
        return self.classifier.predict_proba(features(self.reference, blocks))[:, 1] > 0.5

    def rates(self, real: np.ndarray, synthetic: np.ndarray) -> tuple[float, float]:
        """(true-positive rate on ``synthetic``, false-positive rate on ``real``)."""
        return float(self.flags(synthetic).mean()), float(self.flags(real).mean())
